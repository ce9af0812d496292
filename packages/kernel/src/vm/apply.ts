// apply(world, event): what each event does to vm state. evolve() runs it on the state itself;
// decide() runs it on a draft to see the effect of what it already decided. It decides nothing:
// every choice (an address, a pfn, a victim) is in the event; everything else follows from the
// state deterministically. It returns what the change released (pages, slots, page tables), which
// decide() hands to frames and evolve() ignores.
import { prngStream, unreachable } from '../common/index.js';
import { ANON_RW_FLAGS } from './layout.js';
import {
  emptyRelease,
  forEachTable,
  freePageTables,
  hiwaterRss,
  teardownMm,
  unlinkVma,
  withVmas,
  zapRange,
  dropSwapRef,
  type Release,
} from './mm-ops.js';
import {
  LEVEL_PMD,
  LEVEL_PTE,
  PTE_ANON,
  PTE_LAZY,
  PTE_WRITE,
  PTE_ZERO,
  isPresent,
  isSwap,
  keyIndex,
  keyLevel,
  mkPte,
  mkSwapPte,
  pteBits,
  ptePfn,
  pteIndex,
  swapSlot,
  type PtView,
} from './page-table.js';
import { PAGE_SIZE, PTRS_PER_TABLE, VM_DONTCOPY, VM_GROWSDOWN, VM_LOCKED, VM_MAYWRITE, VM_SHARED, VM_WRITE } from './constants.js';
import type { EvictedRun, Mm, Task, TaskRecord, Vma, VmEvent } from './types.js';
import { accountedPages, insertVma, mergeAround, overlapping, removeRange, vmStat, vmaPages } from './vma-list.js';
import { lockPlan, protectPlan } from './vma-ops.js';
import type { World } from './world.js';

export function apply(w: World, e: VmEvent): Release | null {
  switch (e.type) {
    case 'MachineCreated': {
      w.machine = {
        tenant: e.tenant,
        machine: e.machine,
        profile: e.profile,
        seed: e.seed,
        cpus: e.cpus,
        ramBytes: e.ramBytes,
        swapBytes: e.swapBytes,
        modelVersion: e.modelVersion,
        totals: e.totals,
      };
      w.sc.sysctl = e.sysctl;
      w.sc.aslr = prngStream(e.seed, 'aslr');
      w.sc.adminReserveKbytes = e.adminReserveKbytes;
      w.sc.userReserveKbytes = e.userReserveKbytes;
      return null;
    }
    case 'FileCreated':
      w.files.set(e.file.id, e.file);
      w.sc.nextFileId = Math.max(w.sc.nextFileId, e.file.id + 1);
      w.sc.nextInode = Math.max(w.sc.nextInode, e.file.inode + 1);
      return null;
    case 'TaskSpawned':
      return applySpawn(w, e);
    case 'TaskForked':
      return applyFork(w, e);
    case 'ThreadCloned': {
      addTask(w, e.task, e.kernelStackPages);
      const mm = w.mm(e.task.mmId);
      if (mm) w.mms.set(mm.id, { ...mm, users: mm.users + 1 });
      return null;
    }
    case 'TaskExited':
      return applyExit(w, e.pid, e.code, e.signal, e.oomVictim);
    case 'KillPending': {
      const t = w.task(e.pid);
      if (t) w.tasks.set(t.pid, { ...t, killPending: true, oomVictim: t.oomVictim || e.oomVictim });
      return null;
    }
    case 'TaskReaped': {
      const t = w.task(e.pid);
      if (!t) return null;
      w.tasks.delete(e.pid);
      w.removeOrder(e.pid);
      return null;
    }
    case 'PageTablesAllocated':
      addTables(w, e.mmId, e.keys, e.pfns);
      return null;
    case 'PagesFaulted':
      return applyFaults(w, e);
    case 'PagesEvicted':
      return applyEvictions(w, e.runs);
    case 'BrkMoved':
      return applyBrk(w, e.mmId, e.oldBrk, e.newBrk, e.chargedPages);
    case 'VmaMapped': {
      const mm = mustMm(w, e.mmId);
      if (e.shmem) {
        w.files.set(e.shmem.id, e.shmem);
        w.sc.nextFileId = Math.max(w.sc.nextFileId, e.shmem.id + 1);
        w.sc.nextInode = Math.max(w.sc.nextInode, e.shmem.inode + 1);
      }
      w.mms.set(mm.id, withVmas(mm, mergeAround(insertVma(mm.vmas, e.vma), e.vma.start, e.vma.end)));
      w.sc.committed += e.chargedPages;
      return null;
    }
    case 'VmaUnmapped':
      return unmapRange(w, e.mmId, e.start, e.end);
    case 'VmaProtected': {
      const mm = mustMm(w, e.mmId);
      const plan = protectPlan(mm, e.start, e.end, e.prot);
      w.mms.set(mm.id, withVmas(mm, plan.vmas));
      w.sc.committed += plan.charge - plan.uncharge;
      writeProtect(w, e.mmId, e.start, e.end, (e.prot & 2) !== 0);
      return null;
    }
    case 'VmaRemapped':
      return applyRemap(w, e);
    case 'VmaLocked': {
      const mm = mustMm(w, e.mmId);
      w.mms.set(mm.id, withVmas(mm, lockPlan(mm, e.start, e.end, e.locked).vmas));
      return null;
    }
    case 'PagesZapped': {
      const rel = emptyRelease();
      const mm = mustMm(w, e.mmId);
      w.mms.set(mm.id, { ...mm, hiwaterRss: hiwaterRss(mm) });
      zapRange(w, e.mmId, e.start, e.end, rel);
      return rel;
    }
    case 'PagesLazyFreed':
      return applyLazyFree(w, e.mmId, e.start, e.end);
    case 'StackExpanded': {
      // expand_downwards(): the stack VMA (the lowest VM_GROWSDOWN one above newStart) grows down; vm_pgoff with it.
      const mm = mustMm(w, e.mmId);
      const i = mm.vmas.findIndex((v) => v.start > e.newStart && (v.flags & VM_GROWSDOWN) !== 0);
      const vmas = mm.vmas.map((v, k) => (k === i ? { ...v, start: e.newStart, pgoff: v.pgoff - (v.start - e.newStart) / PAGE_SIZE } : v));
      w.mms.set(mm.id, withVmas(mm, vmas));
      w.sc.committed += e.chargedPages;
      return null;
    }
    case 'SyscallReturned':
    case 'TouchCompleted':
    case 'CommandFailed':
      return null;
    case 'OomKillApplied':
      w.sc.oomKills += e.killed.length;
      return null;
    case 'OomReaped': {
      const rel = emptyRelease();
      const mm = w.mm(e.mmId);
      if (!mm) return rel;
      w.mms.set(mm.id, { ...mm, hiwaterRss: hiwaterRss(mm) });
      for (const v of mm.vmas) if (v.kind === 'anon' || (v.flags & VM_SHARED) === 0) zapRange(w, mm.id, v.start, v.end, rel, true);
      const after = mustMm(w, mm.id);
      w.mms.set(mm.id, { ...after, oomSkip: true });
      return rel;
    }
    case 'OomSkipSet': {
      const mm = w.mm(e.mmId);
      if (mm) w.mms.set(mm.id, { ...mm, oomSkip: true });
      return null;
    }
    case 'MachinePanicked':
      w.sc.panicked = e.reason;
      return null;
    case 'ClockAdvanced':
      w.sc.clockNs = e.nowNs;
      return null;
    case 'SysctlSet': {
      const s = { ...w.sc.sysctl, [e.name]: e.value };
      // mm/util.c overcommit_ratio_handler / overcommit_kbytes_handler: setting one clears the other.
      if (e.name === 'overcommit_ratio') s.overcommit_kbytes = 0;
      if (e.name === 'overcommit_kbytes') s.overcommit_ratio = 0;
      w.sc.sysctl = s;
      if (e.name === 'admin_reserve_kbytes') w.sc.adminReserveKbytes = e.value;
      if (e.name === 'user_reserve_kbytes') w.sc.userReserveKbytes = e.value;
      return null;
    }
    case 'CgroupCreated':
      w.cgroups.set(e.cgroup.id, e.cgroup);
      w.sc.nextMemcg = Math.max(w.sc.nextMemcg, e.cgroup.id + 1);
      return null;
    case 'CgroupLimitSet': {
      const c = w.cgroups.get(e.id);
      if (c) w.cgroups.set(c.id, { ...c, max: e.max, high: e.high, swapMax: e.swapMax, oomGroup: e.oomGroup });
      return null;
    }
    case 'CgroupRemoved':
      w.cgroups.delete(e.id);
      return null;
    case 'CgroupOomCounted': {
      const c = w.cgroups.get(e.id);
      if (c) w.cgroups.set(c.id, { ...c, oom: c.oom + e.oom, oomKill: c.oomKill + e.oomKill, oomGroupKill: c.oomGroupKill + e.oomGroupKill });
      return null;
    }
    case 'TaskMoved':
      patchTask(w, e.pid, { memcg: e.memcg });
      return null;
    case 'OomScoreAdjSet':
      for (const pid of e.pids) patchTask(w, pid, { oomScoreAdj: e.value, oomAdjWritten: e.legacyWritten, oomScoreAdjMin: e.adjMin });
      return null;
    case 'NiceSet':
      patchTask(w, e.pid, { nice: e.nice });
      return null;
    case 'RlimitSet': {
      const t = w.task(e.pid);
      if (t) w.tasks.set(t.pid, { ...t, rlimits: { ...t.rlimits, [e.resource]: e.value } });
      return null;
    }
    case 'CpuTimeAdded': {
      const t = w.task(e.pid);
      if (t) w.tasks.set(t.pid, { ...t, utimeTicks: t.utimeTicks + e.utimeTicks, stimeTicks: t.stimeTicks + e.stimeTicks });
      return null;
    }
    case 'TaskStuckSet':
      patchTask(w, e.pid, { stuck: e.stuck });
      return null;
    default:
      return unreachable(e, 'vm event');
  }
}

function mustMm(w: World, id: number): Mm {
  const mm = w.mm(id);
  if (!mm) throw new Error(`vm: no mm ${id}`);
  return mm;
}

function patchTask(w: World, pid: number, patch: Partial<Task>): void {
  const t = w.task(pid);
  if (t) w.tasks.set(pid, { ...t, ...patch });
}

/** A new task; its kernel stack (if the event gave it one) is charged to the memcg it starts in. */
function addTask(w: World, r: TaskRecord, kstackPages: number): void {
  const t: Task = {
    ...r,
    state: 'running',
    exitCode: 0,
    exitSignal: 0,
    oomVictim: false,
    stuck: false,
    killPending: false,
    minflt: 0,
    majflt: 0,
    kstackPages: kstackPages || 0,
    kstackMemcg: kstackPages ? r.memcg : 0,
  };
  w.tasks.set(t.pid, t);
  w.pushOrder(t.pid);
  w.sc.nextPid = Math.max(w.sc.nextPid, t.pid + 1);
  w.sc.nextSeq = Math.max(w.sc.nextSeq, t.seq + 1);
  if (t.mmId) w.sc.nextMmId = Math.max(w.sc.nextMmId, t.mmId + 1);
}

function newMm(id: number, layout: Omit<Mm, 'id' | 'users' | 'anonRoot' | 'vmas' | 'totalVm' | 'lockedVm' | 'dataVm' | 'execVm' | 'stackVm' | 'hiwaterVm' | 'hiwaterRss' | 'rssAnon' | 'rssFile' | 'rssShmem' | 'swapEnts' | 'ptePages' | 'pmdPages' | 'pudPages' | 'oomSkip'>, vmas: readonly Vma[], anonRoot: number): Mm {
  const base: Mm = {
    ...layout,
    id,
    users: 1,
    anonRoot,
    vmas: [],
    totalVm: 0,
    lockedVm: 0,
    dataVm: 0,
    execVm: 0,
    stackVm: 0,
    hiwaterVm: 0,
    hiwaterRss: 0,
    rssAnon: 0,
    rssFile: 0,
    rssShmem: 0,
    swapEnts: 0,
    ptePages: 0,
    pmdPages: 0,
    pudPages: 0,
    oomSkip: false,
  };
  return withVmas(base, vmas);
}

function applySpawn(w: World, e: Extract<VmEvent, { type: 'TaskSpawned' }>): null {
  addTask(w, e.task, e.kernelStackPages);
  w.sc.aslr = e.aslr;
  if (e.mmId && e.layout) {
    w.mms.set(e.mmId, newMm(e.mmId, e.layout, e.vmas, e.mmId));
    w.createPt(e.mmId);
    w.sc.committed += e.chargedPages;
  }
  return null;
}

function addTables(w: World, mmId: number, keys: readonly number[], pfns: readonly number[]): void {
  const pt = w.pt(mmId) ?? w.createPt(mmId);
  let dPte = 0;
  let dPmd = 0;
  let dPud = 0;
  for (let i = 0; i < keys.length; i++) {
    const level = keyLevel(keys[i]);
    const idx = keyIndex(keys[i]);
    if (level === LEVEL_PTE) {
      pt.addTable(idx, pfns[i]);
      dPte++;
    } else if (level === LEVEL_PMD) {
      pt.setPmd(idx, pfns[i]);
      dPmd++;
    } else {
      pt.setPud(idx, pfns[i]);
      dPud++;
    }
  }
  const mm = mustMm(w, mmId);
  w.mms.set(mmId, { ...mm, ptePages: mm.ptePages + dPte, pmdPages: mm.pmdPages + dPmd, pudPages: mm.pudPages + dPud });
}

/** Iterates run-encoded numbers ([first, count, first, count...]). */
class Runs {
  private i = 0;
  private left = 0;
  private cur = 0;
  constructor(private readonly runs: readonly number[]) {}
  next(): number {
    if (this.left === 0) {
      this.cur = this.runs[this.i];
      this.left = this.runs[this.i + 1];
      this.i += 2;
    }
    this.left--;
    return this.cur++;
  }
}

export const runsLength = (runs: readonly number[]): number => {
  let n = 0;
  for (let i = 1; i < runs.length; i += 2) n += runs[i];
  return n;
};

function applyFaults(w: World, e: Extract<VmEvent, { type: 'PagesFaulted' }>): Release {
  const rel = emptyRelease();
  const mm = mustMm(w, e.mmId);
  const pt = w.pt(e.mmId);
  if (!pt) throw new Error(`vm: mm ${e.mmId} has no page table`);
  const n = runsLength(e.vpns);
  const how = e.how;
  // anon_vma_prepare(): a VMA that gets anonymous pages has an anon_vma from then on.
  if (how === 'anon' || how === 'cow' || how === 'swapin') markAnon(w, e.mmId, e.vpns);
  // First-touch anonymous pages, the bulk of all faults: straight through each PTE table.
  if (how === 'anon') {
    applyAnonRuns(w, e, pt);
    const cur = mustMm(w, e.mmId);
    w.mms.set(e.mmId, { ...cur, rssAnon: cur.rssAnon + n });
    countFaults(w, e.pid, n, 0);
    return rel;
  }
  const vpns = new Runs(e.vpns);
  const pfns = e.pfns.length ? new Runs(e.pfns) : null;
  let dAnon = 0;
  let dFile = 0;
  let dShmem = 0;
  let dSwap = 0;
  let tblIdx = -1;
  let tbl: Int32Array | null = null;
  let family: Mm[] | null = null;
  const writeBit = e.write ? PTE_WRITE : 0;
  for (let k = 0; k < n; k++) {
    const vpn = vpns.next();
    const idx = pteIndex(vpn);
    if (idx !== tblIdx) {
      tbl = pt.writable(idx);
      tblIdx = idx;
    }
    const t = tbl as Int32Array;
    const i = vpn - idx * PTRS_PER_TABLE;
    const old = t[i];
    let nu: number;
    switch (how) {
      case 'zero':
        nu = PTE_ZERO;
        break;
      case 'cow': {
        nu = mkPte((pfns as Runs).next(), PTE_ANON | PTE_WRITE);
        if (isSwap(old)) {
          // the page being copied was evicted meanwhile: its swap reference goes
          rel.slots.push(swapSlot(old));
          dSwap--;
          dAnon++;
        } else if (isPresent(old)) {
          const oldPfn = ptePfn(old);
          if (pteBits(old) & PTE_ANON) {
            const m = w.shared.get(oldPfn) ?? 1;
            if (m > 2) w.shared.set(oldPfn, m - 1);
            else if (m === 2) w.shared.delete(oldPfn);
            else rel.anon.push(oldPfn);
          } else {
            rel.file.push(oldPfn);
            dFile--;
            dAnon++;
          }
        } else dAnon++; // the zero page, or nothing (a private file page never mapped)
        break;
      }
      case 'reuse':
        nu = old | PTE_WRITE;
        break;
      case 'redirty':
        nu = old & ~PTE_LAZY;
        break;
      case 'file':
        nu = mkPte((pfns as Runs).next(), writeBit);
        dFile++;
        break;
      case 'shmem':
        nu = mkPte((pfns as Runs).next(), writeBit);
        dShmem++;
        break;
      case 'swapin': {
        // do_swap_page(): the PTE's swap reference is consumed by frames' SwapIn. The page may be
        // in the swap cache already mapped by another mm of the family (after fork): then it is
        // shared, read-only until written.
        const pfn = (pfns as Runs).next();
        family ??= anonFamily(w, mm);
        const others = family.length > 1 ? anonMappers(w, mm, vpn, pfn, family) : 0;
        if (others > 0) w.shared.set(pfn, others + 1);
        nu = mkPte(pfn, PTE_ANON | (others === 0 ? writeBit : 0));
        dSwap--;
        dAnon++;
        break;
      }
      default:
        return unreachable(how, 'fault kind');
    }
    t[i] = nu;
    w.hashPte(e.mmId, vpn, old, nu);
  }
  const cur = mustMm(w, e.mmId);
  w.mms.set(e.mmId, { ...cur, rssAnon: cur.rssAnon + dAnon, rssFile: cur.rssFile + dFile, rssShmem: cur.rssShmem + dShmem, swapEnts: cur.swapEnts + dSwap });
  if (how === 'zero') w.sc.pgfaultZero += n;
  if (how === 'cow') w.sc.pgfaultCow += n;
  countFaults(w, e.pid, how === 'redirty' ? 0 : n, e.majorFaults);
  return rel;
}

/** Sets `anon` on the VMAs the runs fall in (when not set yet). */
function markAnon(w: World, mmId: number, runs: readonly number[]): void {
  const mm = mustMm(w, mmId);
  let vmas: Vma[] | null = null;
  for (let r = 0; r < runs.length; r += 2) {
    const [a, b] = overlapping(mm.vmas, runs[r] * PAGE_SIZE, (runs[r] + runs[r + 1]) * PAGE_SIZE);
    for (let i = a; i < b; i++) {
      if (mm.vmas[i].anon || (vmas && vmas[i].anon)) continue;
      vmas ??= [...mm.vmas];
      vmas[i] = { ...vmas[i], anon: true };
    }
  }
  if (vmas) w.mms.set(mmId, { ...mm, vmas });
}

/** pgfault / pgmajfault, machine-wide and for the task (min_flt / maj_flt). */
function countFaults(w: World, pid: number, n: number, major: number): void {
  if (n === 0) return;
  w.sc.pgfault += n;
  w.sc.pgmajfault += major;
  const task = w.task(pid);
  if (task) w.tasks.set(task.pid, { ...task, minflt: task.minflt + n - major, majflt: task.majflt + major });
}

/** Installs new writable anonymous PTEs, run by run and table by table. */
function applyAnonRuns(w: World, e: Extract<VmEvent, { type: 'PagesFaulted' }>, pt: PtView): void {
  const pfns = e.pfns;
  let pi = 0;
  let pfn = pfns[0];
  let left = pfns[1];
  const bits = PTE_ANON | PTE_WRITE;
  for (let r = 0; r < e.vpns.length; r += 2) {
    let vpn = e.vpns[r];
    const end = vpn + e.vpns[r + 1];
    while (vpn < end) {
      const idx = pteIndex(vpn);
      const base = idx * PTRS_PER_TABLE;
      const stop = Math.min(end, base + PTRS_PER_TABLE);
      const t = pt.writable(idx);
      for (; vpn < stop; vpn++) {
        if (left === 0) {
          pi += 2;
          pfn = pfns[pi];
          left = pfns[pi + 1];
        }
        const nu = (pfn + 1) * 8 + bits;
        const old = t[vpn - base];
        t[vpn - base] = nu;
        if (!w.draft) w.hashPte(e.mmId, vpn, old, nu);
        pfn++;
        left--;
      }
    }
  }
}

/**
 * Reclaim took pages away (try_to_unmap): every PTE mapping one becomes a swap entry (anon) or
 * pte_none. The rmap: anonymous pages are looked up in the mms of their anon family (the owner
 * is the family's root mm, the index the linear page index vm_pgoff + offset); file and shmem
 * pages in every VMA of their file. A page several PTEs mapped gives its swap slot one more
 * reference per extra PTE (returned as dupSlots).
 */
function applyEvictions(w: World, runs: readonly EvictedRun[]): Release {
  const rel = emptyRelease();
  if (runs.length === 0) return rel;
  const families = new Map<number, number[]>();
  const mappers = new Map<number, number[]>();
  const wantAnon = new Set<number>();
  const wantFile = new Set<number>();
  for (const r of runs) (r.kind === 'anon' ? wantAnon : wantFile).add(r.owner);
  for (const mm of w.mms.values()) {
    if (wantAnon.has(mm.anonRoot)) push(families, mm.anonRoot, mm.id);
    if (wantFile.size === 0) continue;
    // Every wanted file this mm maps (several VMAs of one file count once).
    let seen: number[] | null = null;
    for (const v of mm.vmas) {
      if (!v.file || !wantFile.has(v.file) || seen?.includes(v.file)) continue;
      (seen ??= []).push(v.file);
      push(mappers, v.file, mm.id);
    }
  }
  for (const r of runs) {
    const anon = r.kind === 'anon';
    const ids = (anon ? families : mappers).get(r.owner) ?? [];
    for (let k = 0; k < r.count; k++) {
      const pfn = r.pfn + k;
      const index = r.index + k;
      const slot = r.slot >= 0 ? r.slot + k : -1;
      let refs = 0;
      for (const id of ids) refs += unmapPage(w, id, anon, r.owner, index, pfn, slot);
      if (anon) {
        w.shared.delete(pfn);
        for (let x = 1; x < refs; x++) rel.dupSlots.push(slot);
      }
    }
  }
  return rel;
}

/** try_to_unmap_one() in one mm: the PTEs mapping pfn at (owner, index); returns how many became swap entries. */
function unmapPage(w: World, mmId: number, anon: boolean, owner: number, index: number, pfn: number, slot: number): number {
  const mm = w.mm(mmId);
  const pt = w.pt(mmId);
  if (!mm || !pt) return 0;
  let dAnon = 0;
  let dFile = 0;
  let dShmem = 0;
  let dSwap = 0;
  for (const v of mm.vmas) {
    if (anon ? v.kind === 'special' || (v.flags & VM_SHARED) !== 0 : v.file !== owner) continue;
    const off = index - v.pgoff;
    if (off < 0 || off >= vmaPages(v)) continue;
    const vpn = v.start / PAGE_SIZE + off;
    const idx = pteIndex(vpn);
    const ro = pt.table(idx);
    if (!ro) continue;
    const i = vpn - idx * PTRS_PER_TABLE;
    const old = ro[i];
    if (!isPresent(old) || ptePfn(old) !== pfn) continue;
    if (anon !== ((pteBits(old) & PTE_ANON) !== 0)) continue;
    const nu = anon && slot >= 0 ? mkSwapPte(slot) : 0;
    pt.writable(idx)[i] = nu;
    w.hashPte(mmId, vpn, old, nu);
    if (anon) {
      dAnon--;
      if (nu) dSwap++;
    } else if (v.kind === 'shmem') dShmem--;
    else dFile--;
  }
  if (dAnon || dFile || dShmem || dSwap) {
    const cur = w.mm(mmId) ?? mm;
    w.mms.set(mmId, { ...cur, rssAnon: cur.rssAnon + dAnon, rssFile: cur.rssFile + dFile, rssShmem: cur.rssShmem + dShmem, swapEnts: cur.swapEnts + dSwap });
  }
  return dSwap;
}

/** The mms of mm's anon family (mm included). */
export function anonFamily(w: World, mm: Mm): Mm[] {
  return w.mms.values().filter((o) => o.anonRoot === mm.anonRoot);
}

/** How many PTEs of the anon family of `mm`, other than at `vpn` in `mm`, map pfn (the rmap walk of a swap-cache page). */
export function anonMappers(w: World, mm: Mm, vpn: number, pfn: number, family: readonly Mm[] = anonFamily(w, mm)): number {
  const v0 = mm.vmas.find((v) => v.start <= vpn * PAGE_SIZE && v.end > vpn * PAGE_SIZE);
  if (!v0) return 0;
  const index = v0.pgoff + (vpn - v0.start / PAGE_SIZE);
  let n = 0;
  for (const fm of family) {
    const other = w.mm(fm.id) ?? fm;
    const pt = w.pt(other.id);
    if (!pt) continue;
    for (const v of other.vmas) {
      if (v.kind === 'special' || (v.flags & VM_SHARED) !== 0) continue;
      const off = index - v.pgoff;
      if (off < 0 || off >= vmaPages(v)) continue;
      const x = v.start / PAGE_SIZE + off;
      if (other.id === mm.id && x === vpn) continue;
      const idx = pteIndex(x);
      const t = pt.table(idx);
      const e = t ? t[x - idx * PTRS_PER_TABLE] : 0;
      if (isPresent(e) && ptePfn(e) === pfn && pteBits(e) & PTE_ANON) n++;
    }
  }
  return n;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

/** munmap of [start, end): PTEs zapped, VMAs cut, page tables freed, charges given back. */
export function unmapRange(w: World, mmId: number, start: number, end: number): Release {
  const rel = emptyRelease();
  const mm = mustMm(w, mmId);
  w.mms.set(mmId, { ...mm, hiwaterRss: hiwaterRss(mm) });
  zapRange(w, mmId, start, end, rel);
  const cur = mustMm(w, mmId);
  rel.uncharged += accountedPages(cur.vmas, start, end);
  const { kept, removed } = removeRange(cur.vmas, start, end);
  w.mms.set(mmId, withVmas(cur, kept));
  freePageTables(w, mmId, start, end, rel);
  for (const v of removed) unlinkVma(w, v, rel);
  w.sc.committed -= rel.uncharged;
  return rel;
}

/** brk(): the heap VMA grows (do_brk_flags, merging with the previous brk VMA) or shrinks (munmap). */
function applyBrk(w: World, mmId: number, oldBrk: number, newBrk: number, charged: number): Release | null {
  const mm = mustMm(w, mmId);
  const oldTop = Math.ceil(oldBrk / PAGE_SIZE) * PAGE_SIZE;
  const newTop = Math.ceil(newBrk / PAGE_SIZE) * PAGE_SIZE;
  let rel: Release | null = null;
  if (newTop > oldTop) {
    const vma: Vma = { start: oldTop, end: newTop, flags: ANON_RW_FLAGS, pgoff: oldTop / PAGE_SIZE, kind: 'anon', file: 0, name: '', anon: false };
    w.mms.set(mmId, withVmas(mm, mergeAround(insertVma(mm.vmas, vma), oldTop, newTop)));
    w.sc.committed += charged;
  } else if (newTop < oldTop) {
    rel = unmapRange(w, mmId, newTop, oldTop);
  }
  const cur = mustMm(w, mmId);
  w.mms.set(mmId, { ...cur, brk: newBrk });
  return rel;
}

function applyExit(w: World, pid: number, code: number, signal: number, oomVictim: boolean): Release | null {
  const t = w.task(pid);
  if (!t) return null;
  let rel: Release | null = null;
  if (t.mmId) {
    const mm = w.mm(t.mmId);
    if (mm) {
      if (mm.users > 1) w.mms.set(mm.id, { ...mm, users: mm.users - 1 });
      else {
        rel = emptyRelease();
        w.mms.set(mm.id, { ...mm, hiwaterRss: hiwaterRss(mm), oomSkip: true });
        teardownMm(w, mm.id, rel);
        w.sc.committed -= rel.uncharged;
      }
    }
  }
  // do_exit(): exit_task_stack_account() uncharges the kernel stack and the task's last
  // schedule frees it, so a zombie holds no stack (only its task_struct, which is slab).
  if (t.kstackPages) (rel ??= emptyRelease()).stacks.push({ memcg: t.kstackMemcg, pages: t.kstackPages });
  w.tasks.set(pid, { ...t, state: 'zombie', exitCode: code, exitSignal: signal, mmId: 0, oomVictim: t.oomVictim || oomVictim, killPending: false, kstackPages: 0, kstackMemcg: 0 });
  // forget_original_parent(): children go to init.
  for (const cpid of w.childrenOf(pid)) {
    const c = w.task(cpid) as Task;
    if (c.tgid !== t.tgid) w.tasks.set(c.pid, { ...c, ppid: 1 });
  }
  return rel;
}

function applyFork(w: World, e: Extract<VmEvent, { type: 'TaskForked' }>): Release | null {
  const parent = w.task(e.parent);
  if (!parent) throw new Error(`vm: fork of missing ${e.parent}`);
  addTask(w, e.task, e.kernelStackPages);
  const pmm = mustMm(w, parent.mmId);
  if (e.shareVm) {
    w.mms.set(pmm.id, { ...pmm, users: pmm.users + 1 });
    return null;
  }
  const childId = e.task.mmId;
  const vmas = pmm.vmas.filter((v) => !(v.flags & VM_DONTCOPY)).map((v) => ({ ...v, flags: v.flags & ~VM_LOCKED }));
  const { id: _id, users: _u, anonRoot: _r, vmas: _v, ...layout } = pmm;
  const child = { ...newMm(childId, layout, vmas, pmm.anonRoot), hiwaterVm: 0 };
  w.mms.set(childId, child);
  w.createPt(childId);
  addTables(w, childId, e.tableKeys, e.tablePfns);
  w.sc.committed += e.chargedPages;
  const rel = emptyRelease();
  copyPtes(w, pmm, childId, rel);
  const c = mustMm(w, childId);
  // dup_mm(): the child's high-water marks start at what it has now.
  w.mms.set(childId, { ...c, hiwaterRss: c.rssAnon + c.rssFile + c.rssShmem, hiwaterVm: c.totalVm });
  return rel;
}

/** mm/memory.c copy_page_range(): the VMAs that need copying (they have an anon_vma) get the parent's anonymous PTEs. */
export function forkCopiedRanges(pmm: Mm): Vma[] {
  return pmm.vmas.filter((v) => !(v.flags & VM_DONTCOPY) && v.anon && !(v.flags & VM_SHARED) && v.kind !== 'special');
}

function copyPtes(w: World, pmm: Mm, childId: number, rel: Release): void {
  const ppt = w.pt(pmm.id);
  const cpt = w.pt(childId) as PtView;
  if (!ppt) return;
  let dAnon = 0;
  let dSwap = 0;
  for (const v of forkCopiedRanges(pmm)) {
    const cow = (v.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
    forEachTable(ppt, v.start / PAGE_SIZE, v.end / PAGE_SIZE, (idx, lo, hi) => {
      const src = ppt.table(idx) as Int32Array;
      let srcW: Int32Array | null = null;
      const dst = cpt.writable(idx);
      for (let i = lo; i < hi; i++) {
        const old = src[i];
        if (old === 0) continue;
        const vpn = idx * PTRS_PER_TABLE + i;
        let nu = old;
        if (isPresent(old)) {
          if (!(pteBits(old) & PTE_ANON)) continue; // file pages are faulted in again by the child
          const pfn = ptePfn(old);
          w.shared.set(pfn, (w.shared.get(pfn) ?? 1) + 1);
          if (cow && old & PTE_WRITE) {
            nu = old & ~PTE_WRITE;
            srcW ??= ppt.writable(idx);
            srcW[i] = nu;
            w.hashPte(pmm.id, vpn, old, nu);
          }
          dAnon++;
        } else if (isSwap(old)) {
          rel.dupSlots.push(swapSlot(old));
          dSwap++;
        }
        dst[i] = nu;
        w.hashPte(childId, vpn, 0, nu);
      }
    });
  }
  const c = mustMm(w, childId);
  w.mms.set(childId, { ...c, rssAnon: c.rssAnon + dAnon, swapEnts: c.swapEnts + dSwap });
}

/** Clears PTE_WRITE over a range made read-only; makes exclusive anonymous pages writable again when it becomes writable. */
function writeProtect(w: World, mmId: number, start: number, end: number, writable: boolean): void {
  const pt = w.pt(mmId);
  const mm = w.mm(mmId);
  if (!pt || !mm) return;
  for (const v of mm.vmas) {
    if (v.end <= start || v.start >= end) continue;
    const canWrite = writable && (v.flags & VM_WRITE) !== 0;
    const s = Math.max(start, v.start) / PAGE_SIZE;
    const e = Math.min(end, v.end) / PAGE_SIZE;
    forEachTable(pt, s, e, (idx, lo, hi) => {
      const ro = pt.table(idx) as Int32Array;
      for (let i = lo; i < hi; i++) {
        const old = ro[i];
        if (!isPresent(old)) continue;
        let nu = old;
        if (!canWrite) nu = old & ~PTE_WRITE;
        else if ((old & PTE_ANON) && (v.flags & VM_SHARED) === 0 && (w.shared.get(ptePfn(old)) ?? 1) === 1) nu = old | PTE_WRITE;
        if (nu === old) continue;
        pt.writable(idx)[i] = nu;
        w.hashPte(mmId, idx * PTRS_PER_TABLE + i, old, nu);
      }
    });
  }
}

function applyLazyFree(w: World, mmId: number, start: number, end: number): Release {
  const rel = emptyRelease();
  const mm = mustMm(w, mmId);
  const pt = w.pt(mmId);
  if (!pt) return rel;
  let dSwap = 0;
  for (const v of mm.vmas) {
    if (v.end <= start || v.start >= end || v.kind !== 'anon' || (v.flags & VM_SHARED)) continue;
    forEachTable(pt, Math.max(start, v.start) / PAGE_SIZE, Math.min(end, v.end) / PAGE_SIZE, (idx, lo, hi) => {
      const ro = pt.table(idx) as Int32Array;
      for (let i = lo; i < hi; i++) {
        const old = ro[i];
        let nu = old;
        if (isSwap(old)) {
          dropSwapRef(w, swapSlot(old), rel);
          dSwap++;
          nu = 0;
        } else if (isPresent(old) && (old & PTE_ANON) && !(old & PTE_LAZY) && (w.shared.get(ptePfn(old)) ?? 1) === 1) {
          nu = old | PTE_LAZY;
          rel.lazy.push(ptePfn(old));
        }
        if (nu === old) continue;
        pt.writable(idx)[i] = nu;
        w.hashPte(mmId, idx * PTRS_PER_TABLE + i, old, nu);
      }
    });
  }
  if (dSwap) {
    const cur = mustMm(w, mmId);
    w.mms.set(mmId, { ...cur, swapEnts: cur.swapEnts - dSwap });
  }
  return rel;
}

/** mremap: grow in place (same start), or move [oldStart, oldEnd) to [newStart, newEnd) with its PTEs. */
function applyRemap(w: World, e: Extract<VmEvent, { type: 'VmaRemapped' }>): Release | null {
  const mm = mustMm(w, e.mmId);
  w.sc.committed += e.chargedPages;
  if (e.newStart === e.oldStart) {
    const vmas = mm.vmas.map((v) => (v.start < e.oldEnd && v.end === e.oldEnd ? { ...v, end: e.newEnd } : v));
    w.mms.set(mm.id, withVmas(mm, mergeAround(vmas, e.oldStart, e.newEnd)));
    return null;
  }
  const [a] = overlapping(mm.vmas, e.oldStart, e.oldEnd);
  const src = mm.vmas[a];
  const moved: Vma = { ...src, start: e.newStart, end: e.newEnd, pgoff: src.pgoff + (e.oldStart - src.start) / PAGE_SIZE };
  // Move the PTEs (the tables at the destination were allocated just before).
  const pt = w.pt(mm.id);
  const oldVpn = e.oldStart / PAGE_SIZE;
  const shift = (e.newStart - e.oldStart) / PAGE_SIZE;
  if (pt) {
    const entries: [number, number][] = [];
    forEachTable(pt, oldVpn, e.oldEnd / PAGE_SIZE, (idx, lo, hi) => {
      const ro = pt.table(idx) as Int32Array;
      for (let i = lo; i < hi; i++) if (ro[i] !== 0) entries.push([idx * PTRS_PER_TABLE + i, ro[i]]);
    });
    for (const [vpn, v] of entries) {
      const idx = pteIndex(vpn);
      pt.writable(idx)[vpn - idx * PTRS_PER_TABLE] = 0;
      w.hashPte(mm.id, vpn, v, 0);
    }
    for (const [vpn, v] of entries) {
      const nv = vpn + shift;
      const idx = pteIndex(nv);
      pt.writable(idx)[nv - idx * PTRS_PER_TABLE] = v;
      w.hashPte(mm.id, nv, 0, v);
    }
  }
  const { kept } = removeRange(mm.vmas, e.oldStart, e.oldEnd);
  w.mms.set(mm.id, withVmas(mm, mergeAround(insertVma(kept, moved), e.newStart, e.newEnd)));
  const rel = emptyRelease();
  freePageTables(w, mm.id, e.oldStart, e.oldEnd, rel);
  return rel;
}

export { vmStat };
