// The frames aggregate: decide / evolve / stateHash over one machine's physical memory.
//
// decide() validates the command, then runs the event's effect (ops.ts execute) on the real
// state with the journal open, takes the outcome, and rolls every change back: the state is
// exactly as before, and the event carries the outcome. evolve() runs the same effect without
// the journal and checks that the outcome it gets is the one the event recorded (replay
// re-checks every decision; a mismatch throws FramesDivergence). Both are deterministic.
import {
  combineDigests, invalid, isKernelProfile, MODEL_VERSION, pages, precondition, requireInt, StateHasher, unreachable,
  type Aggregate, type Decider,
} from '../common/index.js';
import type { PageKind, PageOwner } from '../contracts/frames.js';
import { KERNEL_PAGE_KINDS, MAX_SWAPPINESS } from './constants.js';
import { CTR_SIZE, K_PENDING, MEMCG_EVENTS, MS, M_SWAP_MAX, T_MEMCGS } from './counters.js';
import { MAX_PAGE_INDEX } from './frame-word.js';
import { validateRam } from './layout.js';
import { swapAccounted, validMemcgId } from './memcg.js';
import { validOwnerId } from './owners.js';
import { execute, type Outcome } from './ops.js';
import { countRuns, toPfnRuns, type OwnerRun } from './runs.js';
import { FramesState } from './state.js';
import { FRAMES_SYSCTLS, type FramesCommand, type FramesEvent, type SlotRun } from './types.js';

export class FramesDivergence extends Error {
  override readonly name = 'FramesDivergence';
}

const BAD = 'frames.BAD_COMMAND';
const PAGE_KINDS: readonly PageKind[] = ['anon', 'file', 'shmem'];
/**
 * Largest single request: 2^20 pages (4 GiB). decide() journals each write until evolve, about
 * 4 journal entries (13 bytes each) per page, so a bigger fault is asked for in parts.
 */
const MAX_BATCH = 2 ** 20;

function requireBooted(s: FramesState): void {
  if (!s.booted) throw precondition('frames.NOT_BOOTED', 'the machine has not booted');
}

function requireMemcgId(id: number, field = 'memcg'): number {
  if (!validMemcgId(id)) throw invalid(BAD, `${field} must be an integer in [0, 2^32), got ${String(id)}`);
  return id;
}

function checkOwner(kind: PageKind, owner: number, index: number, count: number): void {
  if (!PAGE_KINDS.includes(kind)) throw invalid(BAD, `page kind must be anon, file or shmem, got ${String(kind)}`);
  if (!validOwnerId(owner)) throw invalid(BAD, `owner must be an integer in [0, 2^32), got ${String(owner)}`);
  if (!Number.isInteger(index) || index < 0 || index + count > MAX_PAGE_INDEX) throw invalid(BAD, `page index ${String(index)} is out of range`);
}

/** PageOwner[] as runs of consecutive indexes of one owner. */
export function ownerRuns(pages: readonly PageOwner[]): OwnerRun[] {
  const out: OwnerRun[] = [];
  let cur: { kind: PageKind; owner: number; index: number; count: number } | null = null;
  for (const p of pages) {
    checkOwner(p.kind, p.owner, p.index, 1);
    if (cur !== null && cur.kind === p.kind && cur.owner === p.owner && p.index === cur.index + cur.count) {
      cur.count++;
      continue;
    }
    if (cur !== null) out.push(cur);
    cur = { kind: p.kind, owner: p.owner, index: p.index, count: 1 };
  }
  if (cur !== null) out.push(cur);
  return out;
}

function slotRuns(slots: readonly number[], s: FramesState): SlotRun[] {
  const out: SlotRun[] = [];
  for (const slot of slots) {
    if (!Number.isInteger(slot) || slot < 1 || slot >= s.swapMap.length) throw invalid(BAD, `swap slot ${String(slot)} does not exist`);
    const last = out[out.length - 1];
    if (last !== undefined && slot === last.slot + last.count) out[out.length - 1] = { slot: last.slot, count: last.count + 1 };
    else out.push({ slot, count: 1 });
  }
  return out;
}

function pfnList(pfns: readonly number[]): ReturnType<typeof toPfnRuns> {
  if (pfns.length > MAX_BATCH) throw invalid(BAD, `at most ${MAX_BATCH} pfns per command`);
  for (const p of pfns) if (!Number.isSafeInteger(p) || p < 0) throw invalid(BAD, `pfn ${String(p)} is not a page frame number`);
  return toPfnRuns(pfns);
}

/** The event a command asks for, before its outcome is known (outcome: null placeholder). */
function eventOf(cmd: FramesCommand, s: FramesState): FramesEvent | null {
  switch (cmd.type) {
    case 'Boot': {
      if (s.booted) throw precondition('frames.ALREADY_BOOTED', 'the machine has booted already');
      const c = cmd.config;
      if (!isKernelProfile(c.profile)) throw invalid('frames.BAD_CONFIG', `unknown kernel profile ${String(c.profile)}`);
      validateRam(c.ramBytes, c.swapBytes);
      requireInt('frames.BAD_CONFIG', 'sysctl.swappiness', c.sysctl.swappiness, 0, c.profile === 'linux-2.6.18' ? 100 : MAX_SWAPPINESS);
      requireInt('frames.BAD_CONFIG', 'sysctl.watermark_scale_factor', c.sysctl.watermark_scale_factor, 1, 3000);
      requireInt('frames.BAD_CONFIG', 'sysctl.min_free_kbytes', c.sysctl.min_free_kbytes, -1, 2 ** 31 - 1);
      return { type: 'MachineBooted', config: c, modelVersion: MODEL_VERSION };
    }
    case 'AllocUserPages': {
      requireBooted(s);
      let runs: OwnerRun[];
      if (cmd.runs !== undefined) {
        if (cmd.pages !== undefined && cmd.pages.length > 0) throw invalid(BAD, 'give pages or runs, not both');
        for (const r of cmd.runs) {
          requireInt(BAD, 'runs[].count', r.count, 1, MAX_BATCH);
          checkOwner(r.kind, r.owner, r.index, r.count);
        }
        runs = cmd.runs.map((r) => ({ kind: r.kind, owner: r.owner, index: r.index, count: r.count }));
      } else {
        runs = ownerRuns(cmd.pages ?? []);
      }
      if (countRuns(runs) > MAX_BATCH) throw invalid(BAD, `at most ${MAX_BATCH} pages per command`);
      return {
        type: 'UserPagesAllocated', memcg: requireMemcgId(cmd.memcg), allowReclaim: cmd.allowReclaim === true,
        mlocked: cmd.mlocked === true, pages: runs, outcome: PENDING,
      };
    }
    case 'FreeUserPages':
      requireBooted(s);
      return { type: 'UserPagesFreed', pfns: pfnList(cmd.pfns) };
    case 'SwapIn':
      requireBooted(s);
      if (cmd.page.kind !== 'anon') throw invalid(BAD, 'SwapIn is for anon pages; shmem pages come back through GetFilePage');
      checkOwner(cmd.page.kind, cmd.page.owner, cmd.page.index, 1);
      requireInt(BAD, 'slot', cmd.slot, 1, Math.max(1, s.swapMap.length - 1));
      return {
        type: 'SwappedIn', slot: cmd.slot, page: { kind: 'anon', owner: cmd.page.owner, index: cmd.page.index },
        memcg: requireMemcgId(cmd.memcg), write: cmd.write === true, mlocked: cmd.mlocked === true,
        allowReclaim: cmd.allowReclaim !== false, outcome: PENDING,
      };
    case 'FreeSwapSlots':
      requireBooted(s);
      return { type: 'SwapSlotsFreed', slots: slotRuns(cmd.slots, s) };
    case 'DupSwapSlots':
      requireBooted(s);
      return { type: 'SwapSlotsDuplicated', slots: slotRuns(cmd.slots, s) };
    case 'GetFilePage': {
      requireBooted(s);
      const kind = cmd.kind ?? 'file';
      if (kind !== 'file' && kind !== 'shmem' && kind !== 'bdev') throw invalid(BAD, `file kind must be file, shmem or bdev, got ${String(kind)}`);
      checkOwner('file', cmd.file, cmd.index, 1);
      return {
        type: 'FilePageFaulted', file: cmd.file, index: cmd.index, memcg: requireMemcgId(cmd.memcg), kind,
        mlocked: cmd.mlocked === true, allowReclaim: cmd.allowReclaim !== false, outcome: PENDING,
      };
    }
    case 'GetFilePages': {
      requireBooted(s);
      const kind = cmd.kind ?? 'file';
      if (kind !== 'file' && kind !== 'shmem' && kind !== 'bdev') throw invalid(BAD, `file kind must be file, shmem or bdev, got ${String(kind)}`);
      requireInt(BAD, 'count', cmd.count, 1, MAX_BATCH);
      checkOwner('file', cmd.file, cmd.index, cmd.count);
      return {
        type: 'FilePagesFaulted', file: cmd.file, index: cmd.index, count: cmd.count, memcg: requireMemcgId(cmd.memcg), kind,
        mlocked: cmd.mlocked === true, allowReclaim: cmd.allowReclaim !== false, read: cmd.read === true, outcome: PENDING,
      };
    }
    case 'SwapInPages': {
      requireBooted(s);
      if (!validOwnerId(cmd.owner)) throw invalid(BAD, `owner must be an integer in [0, 2^32), got ${String(cmd.owner)}`);
      if (!Array.isArray(cmd.entries) || cmd.entries.length === 0) throw invalid(BAD, 'entries must be a non-empty array of swap runs');
      let n = 0;
      const entries = cmd.entries.map((r) => {
        requireInt(BAD, 'entries[].count', r.count, 1, MAX_BATCH);
        requireInt(BAD, 'entries[].slot', r.slot, 1, Math.max(1, s.swapMap.length - r.count));
        checkOwner('anon', cmd.owner, r.index, r.count);
        n += r.count;
        return { slot: r.slot, index: r.index, count: r.count };
      });
      if (n > MAX_BATCH) throw invalid(BAD, `at most ${MAX_BATCH} pages per command`);
      return {
        type: 'PagesSwappedIn', owner: cmd.owner, entries, memcg: requireMemcgId(cmd.memcg), write: cmd.write === true,
        mlocked: cmd.mlocked === true, allowReclaim: cmd.allowReclaim !== false, outcome: PENDING,
      };
    }
    case 'SetMemcgHigh': {
      requireBooted(s);
      requireMemcgId(cmd.memcg);
      if (cmd.memcg === 0) throw invalid(BAD, 'the root memcg has no memory.high');
      if (!s.memcgIdx.has(cmd.memcg)) throw precondition('frames.NO_SUCH_MEMCG', `memcg ${cmd.memcg} does not exist (SetMemcgLimit creates it)`);
      const high = cmd.highPages === null ? -1 : requireInt(BAD, 'highPages', cmd.highPages, 0);
      return { type: 'MemcgHighSet', memcg: cmd.memcg, highPages: pages(high), outcome: { evicted: [] } };
    }
    case 'SetMemcgSwapMax': {
      requireBooted(s);
      requireMemcgId(cmd.memcg);
      if (cmd.memcg === 0) throw invalid(BAD, 'the root memcg has no memory.swap.max');
      if (!s.memcgIdx.has(cmd.memcg)) throw precondition('frames.NO_SUCH_MEMCG', `memcg ${cmd.memcg} does not exist (SetMemcgLimit creates it)`);
      const max = cmd.swapMaxPages === null ? -1 : requireInt(BAD, 'swapMaxPages', cmd.swapMaxPages, 0);
      return { type: 'MemcgSwapMaxSet', memcg: cmd.memcg, swapMaxPages: pages(max) };
    }
    case 'MarkLazyFree':
      requireBooted(s);
      return { type: 'PagesLazyFreeMarked', pfns: pfnList(cmd.pfns), lazy: cmd.lazy === true };
    case 'TruncateFile': {
      requireBooted(s);
      const kind = cmd.kind ?? 'file';
      if (kind !== 'file' && kind !== 'shmem' && kind !== 'bdev') throw invalid(BAD, `file kind must be file, shmem or bdev, got ${String(kind)}`);
      checkOwner('file', cmd.file, 0, 1);
      return { type: 'FileTruncated', file: cmd.file, kind, outcome: { evicted: [] } };
    }
    case 'AddKernelPages':
      requireBooted(s);
      if (!KERNEL_PAGE_KINDS.includes(cmd.kind)) throw invalid(BAD, `kernel page kind ${String(cmd.kind)} is unknown`);
      requireInt(BAD, 'pages', cmd.pages, 1, MAX_BATCH);
      return {
        type: 'KernelPagesAllocated', kind: cmd.kind, pages: cmd.pages, memcg: requireMemcgId(cmd.memcg ?? 0),
        allowReclaim: cmd.allowReclaim !== false, outcome: PENDING,
      };
    case 'FreeKernelPages':
      requireBooted(s);
      if (!KERNEL_PAGE_KINDS.includes(cmd.kind)) throw invalid(BAD, `kernel page kind ${String(cmd.kind)} is unknown`);
      requireInt(BAD, 'pages', cmd.pages, 1, MAX_BATCH);
      return { type: 'KernelPagesFreed', kind: cmd.kind, pages: cmd.pages, memcg: requireMemcgId(cmd.memcg ?? 0), outcome: { pfns: [] } };
    case 'MarkPagesAccessed':
      requireBooted(s);
      return { type: 'PagesAccessed', pfns: pfnList(cmd.pfns) };
    case 'MlockPages':
      requireBooted(s);
      return { type: 'PagesMlocked', pfns: pfnList(cmd.pfns), lock: cmd.lock === true };
    case 'Tick':
      requireBooted(s);
      requireInt(BAD, 'nowNs', cmd.nowNs, 0);
      return s.ctr[K_PENDING] === 0 ? null : { type: 'KswapdRan', nowNs: cmd.nowNs, outcome: { evicted: [] } };
    case 'DropCaches':
      requireBooted(s);
      requireInt(BAD, 'mode', cmd.mode, 1, 3);
      return { type: 'CachesDropped', mode: cmd.mode, outcome: { evicted: [], slabPages: 0 } };
    case 'SetSysctl': {
      requireBooted(s);
      if (!FRAMES_SYSCTLS.includes(cmd.name)) throw invalid(BAD, `sysctl vm.${String(cmd.name)} is not one of frames' (${FRAMES_SYSCTLS.join(', ')})`);
      const max = cmd.name === 'swappiness' ? (s.profile === 'linux-2.6.18' ? 100 : MAX_SWAPPINESS) : cmd.name === 'watermark_scale_factor' ? 3000 : 2 ** 31 - 1;
      requireInt(BAD, cmd.name, cmd.value, cmd.name === 'watermark_scale_factor' ? 1 : 0, max);
      return { type: 'SysctlSet', name: cmd.name, value: cmd.value };
    }
    case 'SetMemcgLimit': {
      requireBooted(s);
      requireMemcgId(cmd.memcg);
      requireMemcgId(cmd.parent, 'parent');
      if (cmd.memcg === 0) throw invalid(BAD, 'the root memcg has no memory.max');
      if (cmd.memcg === cmd.parent) throw invalid(BAD, 'a memcg cannot be its own parent');
      const max = cmd.maxPages === null ? -1 : requireInt(BAD, 'maxPages', cmd.maxPages, 0);
      return { type: 'MemcgLimitSet', memcg: cmd.memcg, maxPages: pages(max), parent: cmd.parent, outcome: { evicted: [], failed: null } };
    }
    case 'MemcgEvent':
      requireBooted(s);
      requireMemcgId(cmd.memcg);
      if (!MEMCG_EVENTS.includes(cmd.kind)) throw invalid(BAD, `memory.events has no ${String(cmd.kind)}`);
      return { type: 'MemcgEventCounted', memcg: cmd.memcg, kind: cmd.kind };
    default:
      return unreachable(cmd, 'frames command');
  }
}

const PENDING = { pfns: [], evicted: [], failed: null, majorFaults: 0 } as const;

function withOutcome(e: FramesEvent, outcome: Outcome): FramesEvent {
  return outcome === null || !('outcome' in e) ? e : ({ ...e, outcome } as FramesEvent);
}

/**
 * Runs the command's effect with the journal open. The work stays applied but speculative:
 * if the next call is evolve() with the returned event (the usual decide -> append -> evolve),
 * evolve only closes the journal; any other call (a read, another decide, evolve of another
 * event) first rolls it back (FramesState.settle). So decide() changes nothing anyone can
 * observe, and a decision costs one run of the model, not two.
 */
export function decide(cmd: FramesCommand, s: FramesState): FramesEvent[] {
  s.settle();
  const e = eventOf(cmd, s);
  if (e === null) return [];
  if (e.type === 'MachineBooted') return [e];
  s.beginJournal();
  let done: FramesEvent;
  try {
    done = withOutcome(e, execute(s, e));
  } catch (err) {
    s.rollback();
    throw err;
  }
  s.spec = done;
  return [done];
}

export function evolve(s: FramesState, e: FramesEvent): FramesState {
  if (s.spec !== null && s.spec === e) {
    s.spec = null;
    s.commit();
    return s;
  }
  s.settle();
  const outcome = execute(s, e);
  if (outcome !== null && 'outcome' in e && !sameData(outcome, e.outcome)) {
    throw new FramesDivergence(`frames: ${e.type} gave ${JSON.stringify(outcome)}, the event recorded ${JSON.stringify(e.outcome)}`);
  }
  return s;
}

/** Structural equality of plain data (key order ignored: events may come back from protobuf). */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, k) => sameData(x, b[k]));
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * 16 hex digits: the incremental hashes of frames, owners, swap and caches, and the scalar state.
 * The memcg swap columns and swap_cgroup come in only once some memcg uses swap accounting, so a
 * state that never did (every log written before memory.swap.max was enforced) hashes as before.
 */
export function stateHash(s: FramesState): string {
  s.settle();
  const h = new StateHasher();
  h.str(s.profile).bool(s.booted);
  for (let k = 0; k < CTR_SIZE; k++) h.int(s.ctr[k]);
  const n = s.ctr[T_MEMCGS];
  for (let m = 0; m < n; m++) for (let k = 0; k < M_SWAP_MAX; k++) h.int(s.mcg[m * MS + k]);
  const digests = [s.fh.digest(), s.hh.digest(), s.sh.digest(), s.ph.digest(), s.ch.digest()];
  if (swapAccounted(s)) {
    h.str('swap');
    for (let m = 0; m < n; m++) for (let k = M_SWAP_MAX; k < MS; k++) h.int(s.mcg[m * MS + k]);
    digests.push(s.wh.digest());
  }
  return combineDigests([h.digest(), ...digests]);
}

export const frames: Aggregate<FramesCommand, FramesEvent, FramesState> & Decider<FramesCommand, FramesEvent, FramesState> = {
  service: 'frames',
  initialState: () => new FramesState(),
  decide,
  evolve,
  stateHash,
};
