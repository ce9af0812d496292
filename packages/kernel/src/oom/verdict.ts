// What vm gets back: computed from the command and the events it produced, nothing else, so
// a host can answer a Need from the log as well as from a live decision.
import type { OomTickActions, OomVerdict } from '../contracts/oom.js';
import type { OomCommand, OomEvent } from './types.js';

type Decision = Extract<OomEvent, { type: 'OomKillDecided' | 'OomNoKill' | 'OomPanicked' }>;

/** The OomVerdict of an OutOfMemory command. */
export function verdictOf(command: Extract<OomCommand, { type: 'OutOfMemory' }>, events: readonly OomEvent[]): OomVerdict;
/** The actions of a Tick. */
export function verdictOf(command: Extract<OomCommand, { type: 'Tick' }>, events: readonly OomEvent[]): OomTickActions;
export function verdictOf(command: OomCommand, events: readonly OomEvent[]): OomVerdict | OomTickActions | null;
export function verdictOf(command: OomCommand, events: readonly OomEvent[]): OomVerdict | OomTickActions | null {
  if (command.type === 'OutOfMemory') {
    const d = events.find((e): e is Decision => e.type === 'OomKillDecided' || e.type === 'OomNoKill' || e.type === 'OomPanicked');
    if (d === undefined) throw new Error('verdictOf: an OutOfMemory command always decides');
    return decisionVerdict(d);
  }
  if (command.type === 'Tick') return tickActions(events);
  return null;
}

export function decisionVerdict(d: Decision): OomVerdict {
  const common = { memcgEvents: d.memcgEvents, logLines: d.logLines };
  switch (d.type) {
    case 'OomKillDecided':
      return {
        kind: 'kill',
        victim: d.killed[0].tgid,
        kill: d.killed.map((k) => k.tgid),
        killSeq: d.killSeq,
        ...common,
        oomVictims: d.oomVictims.map((m) => m.pid),
        oomKillCount: d.oomKillCount,
        ...(d.reapAfterNs >= 0 ? { reapAfterNs: d.reapAfterNs } : {}),
      };
    case 'OomPanicked':
      return { kind: 'panic', reason: d.message, ...common };
    case 'OomNoKill': {
      const marked = d.marked === null ? {} : { oomVictims: [d.marked.pid], ...(d.marked.reapAtNs >= 0 ? { reapAfterNs: d.marked.reapAtNs } : {}) };
      switch (d.reason) {
        case 'victim-not-reaped':
        case 'task-releasing-memory':
        case 'current-exiting':
        case 'victim-exiting':
          return { kind: 'wait', reason: `${d.reason} (pid ${d.pid})`, ...common, ...marked };
        case 'no-candidate':
        case 'costly-order':
          return { kind: 'none', reason: d.reason, chargeFails: true, ...common };
        case 'gfp-no-fs':
          return { kind: 'none', reason: d.reason, ...common };
        case 'chosen-has-no-mm':
          return { kind: 'none', reason: `${d.reason}: linux-2.6.18 selects pid ${d.pid} again and again (the machine hangs)`, ...common };
      }
    }
  }
}

export function tickActions(events: readonly OomEvent[]): OomTickActions {
  const signals: { pid: number; signal: 'SIGTERM' | 'SIGKILL'; by: 'earlyoom' | 'systemd-oomd' }[] = [];
  const reap: { pid: number; mmId: number }[] = [];
  const oomSkip: number[] = [];
  const logLines: string[] = [];
  for (const e of events) {
    if (e.type === 'ReaperRan') {
      if (e.result === 'reaped') reap.push({ pid: e.pid, mmId: e.mmId });
      if (e.result !== 'busy') oomSkip.push(e.mmId);
      logLines.push(...e.logLines);
    } else if (e.type === 'UserspaceKill') {
      for (const pid of e.pids) signals.push({ pid, signal: e.signal, by: e.kind });
      logLines.push(...e.logLines);
    }
  }
  return { signals, reap, oomSkip, logLines };
}
