// Userspace killer options: defaults as the real tools ship them, checked like command lines.
import { invalid } from '../../common/index.js';
import type { EarlyoomOptions, OomdOptions, UserspaceKillerKind, UserspaceKillerOptions } from '../types.js';

/** earlyoom's defaults: -m 10 -s 10; the SIGKILL limits are half the SIGTERM ones; adaptive polling. */
export const EARLYOOM_DEFAULTS: EarlyoomOptions = {
  memTermPercent: 10,
  memKillPercent: 5,
  swapTermPercent: 10,
  swapKillPercent: 5,
  prefer: '',
  avoid: '',
  ignore: '',
  sortByRss: false,
  intervalMs: 0,
  dryRun: false,
};

/** systemd-oomd's defaults (oomd.conf: SwapUsedLimit=90%, DefaultMemoryPressureLimit=60%, DefaultMemoryPressureDurationSec=30s). */
export const OOMD_DEFAULTS: OomdOptions = {
  swapUsedLimitBp: 9000,
  swapCandidateMinBp: 500,
  memoryPressureLimitBp: 6000,
  memoryPressureDurationMs: 30_000,
  pressureWindowMs: 10_000,
  intervalMs: 1000,
  postActionDelayMs: 15_000,
  swapMonitored: ['/'],
  pressureMonitored: [],
  dryRun: false,
};

const bad = (msg: string): never => {
  throw invalid('oom.BAD_OPTIONS', msg);
};

function int(o: Readonly<Record<string, unknown>>, key: string, dflt: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`${key} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v as number;
}

function bool(o: Readonly<Record<string, unknown>>, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') bad(`${key} must be true or false`);
  return v as boolean;
}

function regex(o: Readonly<Record<string, unknown>>, key: string): string {
  const v = o[key];
  if (v === undefined || v === '') return '';
  if (typeof v !== 'string') return bad(`${key} must be a regular expression`);
  try {
    new RegExp(v);
  } catch {
    bad(`${key}: ${v} is not a valid regular expression`);
  }
  return v;
}

function paths(o: Readonly<Record<string, unknown>>, key: string, dflt: readonly string[]): readonly string[] {
  const v = o[key];
  if (v === undefined) return dflt;
  if (!Array.isArray(v) || !v.every((p) => typeof p === 'string' && p.startsWith('/'))) bad(`${key} must be a list of cgroup paths`);
  return [...(v as string[])];
}

const known = (o: Readonly<Record<string, unknown>>, keys: readonly string[], kind: string): void => {
  for (const k of Object.keys(o)) if (k !== 'kind' && !keys.includes(k)) bad(`${kind}: unknown option ${k}`);
};

export function normalizeKillerOptions(kind: UserspaceKillerKind, o: Readonly<Record<string, unknown>> = {}): UserspaceKillerOptions {
  if (kind === 'earlyoom') {
    known(o, Object.keys(EARLYOOM_DEFAULTS), kind);
    const memTermPercent = int(o, 'memTermPercent', EARLYOOM_DEFAULTS.memTermPercent, 0, 100);
    const swapTermPercent = int(o, 'swapTermPercent', EARLYOOM_DEFAULTS.swapTermPercent, 0, 100);
    // earlyoom: "-m PERCENT[,KILL_PERCENT]": the kill limit defaults to half the term limit.
    const memKillPercent = int(o, 'memKillPercent', Math.floor(memTermPercent / 2), 0, memTermPercent);
    const swapKillPercent = int(o, 'swapKillPercent', Math.floor(swapTermPercent / 2), 0, swapTermPercent);
    return {
      kind,
      memTermPercent,
      memKillPercent,
      swapTermPercent,
      swapKillPercent,
      prefer: regex(o, 'prefer'),
      avoid: regex(o, 'avoid'),
      ignore: regex(o, 'ignore'),
      sortByRss: bool(o, 'sortByRss', false),
      intervalMs: int(o, 'intervalMs', 0, 0, 3_600_000),
      dryRun: bool(o, 'dryRun', false),
    };
  }
  known(o, Object.keys(OOMD_DEFAULTS), kind);
  return {
    kind,
    swapUsedLimitBp: int(o, 'swapUsedLimitBp', OOMD_DEFAULTS.swapUsedLimitBp, 0, 10_000),
    swapCandidateMinBp: int(o, 'swapCandidateMinBp', OOMD_DEFAULTS.swapCandidateMinBp, 0, 10_000),
    memoryPressureLimitBp: int(o, 'memoryPressureLimitBp', OOMD_DEFAULTS.memoryPressureLimitBp, 0, 10_000),
    memoryPressureDurationMs: int(o, 'memoryPressureDurationMs', OOMD_DEFAULTS.memoryPressureDurationMs, 0, 86_400_000),
    pressureWindowMs: int(o, 'pressureWindowMs', OOMD_DEFAULTS.pressureWindowMs, 1, 3_600_000),
    intervalMs: int(o, 'intervalMs', OOMD_DEFAULTS.intervalMs, 1, 3_600_000),
    postActionDelayMs: int(o, 'postActionDelayMs', OOMD_DEFAULTS.postActionDelayMs, 0, 86_400_000),
    swapMonitored: paths(o, 'swapMonitored', OOMD_DEFAULTS.swapMonitored),
    pressureMonitored: paths(o, 'pressureMonitored', OOMD_DEFAULTS.pressureMonitored),
    dryRun: bool(o, 'dryRun', false),
  };
}
