// One way to read and change vm state, used by both halves of the aggregate:
//  - evolve() applies an event to a base World, which writes the state in place and keeps the
//    incremental state hash current;
//  - decide() applies each event it emits to a draft World: an overlay that records changes
//    and leaves the state untouched, so later steps of the same command see the effects of
//    earlier ones (pages granted before an OOM, a victim's memory freed) while decide stays pure.
// Events are applied by the same code in both cases (apply.ts), so decide and evolve agree.
import { AddHash, fmix32, StateHasher } from '../common/index.js';
import { BasePtView, DraftPtView, PageTable, PTE_ANON, ptePfn, type PtView } from './page-table.js';
import type { Cgroup, FileInfo, Mm, Task, Vma, VmMachine, VmScalars, VmState } from './types.js';

const DELETED: unique symbol = Symbol('deleted');

/** A Map seen through an optional overlay; the base variant reports changes to a hook. */
export class MapView<K, V> {
  private readonly overlay: Map<K, V | typeof DELETED> | null;
  constructor(
    private readonly base: Map<K, V>,
    draft: boolean,
    private readonly onChange?: (k: K, old: V | undefined, nu: V | undefined) => void,
  ) {
    this.overlay = draft ? new Map() : null;
  }
  get(k: K): V | undefined {
    if (this.overlay) {
      const o = this.overlay.get(k);
      if (o !== undefined) return o === DELETED ? undefined : o;
    }
    return this.base.get(k);
  }
  has(k: K): boolean {
    return this.get(k) !== undefined;
  }
  /** True when nothing is stored at all (a cheap test before per-page lookups). */
  isEmpty(): boolean {
    if (this.base.size !== 0) {
      if (!this.overlay) return false;
      for (const k of this.base.keys()) if (this.overlay.get(k) !== DELETED) return false;
    }
    if (this.overlay) for (const v of this.overlay.values()) if (v !== DELETED) return false;
    return true;
  }
  set(k: K, v: V): void {
    if (this.overlay) {
      this.overlay.set(k, v);
      return;
    }
    this.onChange?.(k, this.base.get(k), v);
    this.base.set(k, v);
  }
  delete(k: K): void {
    if (this.overlay) {
      this.overlay.set(k, DELETED);
      return;
    }
    if (!this.base.has(k)) return;
    this.onChange?.(k, this.base.get(k), undefined);
    this.base.delete(k);
  }
  /** The overlay's entries (draft only): key and value, undefined for a deleted key. */
  *overlayEntries(): Generator<[K, V | undefined]> {
    if (!this.overlay) return;
    for (const [k, v] of this.overlay) yield [k, v === DELETED ? undefined : v];
  }
  /** Every key with a value (base order, then keys new in the overlay); callers sort when order matters. */
  keys(): K[] {
    if (!this.overlay) return [...this.base.keys()];
    const out: K[] = [];
    for (const k of this.base.keys()) if (!this.overlay.has(k)) out.push(k);
    for (const [k, v] of this.overlay) if (v !== DELETED) out.push(k);
    return out;
  }
  values(): V[] {
    const out: V[] = [];
    for (const k of this.keys()) {
      const v = this.get(k);
      if (v !== undefined) out.push(v);
    }
    return out;
  }
}

export class World {
  readonly sc: VmScalars;
  readonly tasks: MapView<number, Task>;
  readonly mms: MapView<number, Mm>;
  readonly shared: MapView<number, number>;
  readonly files: MapView<number, FileInfo>;
  readonly cgroups: MapView<number, Cgroup>;
  private orderCopy: number[] | null = null;
  private machineCopy: VmMachine | null | undefined = undefined;
  private readonly draftPts = new Map<number, PtView | null>();
  /** The state's page-cache mapcounts (base World only: see VmState.fileMaps). */
  private readonly fileMaps: Map<number, number> | null;

  private constructor(
    readonly state: VmState,
    readonly draft: boolean,
  ) {
    const h = draft ? null : state.hash;
    this.sc = draft ? { ...state.sc } : state.sc;
    this.tasks = new MapView(
      state.tasks,
      draft,
      h
        ? (k, o, n) => {
            rehash(h, TAG_TASK, k, o && taskDigest(o), n && taskDigest(n));
            indexChild(state, k, o, n);
          }
        : undefined,
    );
    this.mms = new MapView(state.mms, draft, h ? (k, o, n) => rehash(h, TAG_MM, k, o && mmDigest(o), n && mmDigest(n)) : undefined);
    this.shared = new MapView(state.shared, draft, h ? (k, o, n) => rehash(h, TAG_SHARED, k, o, n) : undefined);
    this.files = new MapView(
      state.files,
      draft,
      h
        ? (k, o, n) => {
            rehash(h, TAG_FILE, k, o && fileDigest(o), n && fileDigest(n));
            indexPath(state, k, o, n);
          }
        : undefined,
    );
    this.cgroups = new MapView(state.cgroups, draft, h ? (k, o, n) => rehash(h, TAG_CGROUP, k, o && cgroupDigest(o), n && cgroupDigest(n)) : undefined);
    this.fileMaps = draft ? null : fileMapsOf(state);
  }

  static base(state: VmState): World {
    return new World(state, false);
  }
  static draftOf(state: VmState): World {
    return new World(state, true);
  }

  get machine(): VmMachine | null {
    return this.machineCopy !== undefined ? this.machineCopy : this.state.machine;
  }
  set machine(m: VmMachine | null) {
    if (this.draft) this.machineCopy = m;
    else this.state.machine = m;
  }

  get order(): readonly number[] {
    return this.orderCopy ?? this.state.order;
  }
  /** Appends a pid to the task list. */
  pushOrder(pid: number): void {
    if (this.draft) {
      this.orderCopy ??= [...this.state.order];
      this.orderCopy.push(pid);
    } else this.state.order.push(pid);
  }
  removeOrder(pid: number): void {
    const src = this.order;
    const i = src.indexOf(pid);
    if (i < 0) return;
    if (this.draft) {
      this.orderCopy ??= [...this.state.order];
      this.orderCopy.splice(i, 1);
    } else this.state.order.splice(i, 1);
  }

  pt(mmId: number): PtView | undefined {
    if (!this.draft) {
      const pt = this.state.pts.get(mmId);
      return pt ? new BasePtView(pt) : undefined;
    }
    const d = this.draftPts.get(mmId);
    if (d !== undefined) return d ?? undefined;
    const base = this.state.pts.get(mmId);
    if (!base) return undefined;
    const v = new DraftPtView(base);
    this.draftPts.set(mmId, v);
    return v;
  }
  createPt(mmId: number): PtView {
    if (!this.draft) {
      const pt = new PageTable();
      this.state.pts.set(mmId, pt);
      return new BasePtView(pt);
    }
    const v = new DraftPtView(undefined);
    this.draftPts.set(mmId, v);
    return v;
  }
  dropPt(mmId: number): void {
    if (!this.draft) this.state.pts.delete(mmId);
    else this.draftPts.set(mmId, null);
  }

  /**
   * Keeps the state hash current for a PTE write (draft: nothing to do), and with it the
   * page-cache mapcounts: every PTE write of evolve comes through here (the hash would not match
   * recomputeHash otherwise), so a present PTE without PTE_ANON that appears or goes is
   * folio_add_file_rmap() / folio_remove_rmap() of its page.
   */
  hashPte(mmId: number, vpn: number, old: number, nu: number): void {
    if (this.draft || old === nu) return;
    if ((old > 0 && (old & PTE_ANON) === 0) || (nu > 0 && (nu & PTE_ANON) === 0)) fileMapChange(this.fileMaps as Map<number, number>, old, nu);
    const h = this.state.hash;
    if (old !== 0) {
      ptMix(mmId, vpn, old);
      h.lo = (h.lo - mixLo) >>> 0;
      h.hi = (h.hi - mixHi) >>> 0;
    }
    if (nu !== 0) {
      ptMix(mmId, vpn, nu);
      h.lo = (h.lo + mixLo) >>> 0;
      h.hi = (h.hi + mixHi) >>> 0;
    }
  }

  task(pid: number): Task | undefined {
    return this.tasks.get(pid);
  }

  /** The file (not a shmem object) at `path`, if any. */
  fileByPath(path: string): FileInfo | undefined {
    for (const [, f] of this.files.overlayEntries()) if (f && f.path === path && !f.shmem) return f;
    const id = pathIndexOf(this.state).get(path);
    const f = id === undefined ? undefined : this.files.get(id);
    return f && f.path === path && !f.shmem ? f : undefined;
  }

  /** The tasks whose parent is `ppid`, in task-list (creation) order. */
  childrenOf(ppid: number): number[] {
    const found = new Set<number>();
    for (const pid of childIndexOf(this.state).get(ppid) ?? []) if (this.tasks.get(pid)?.ppid === ppid) found.add(pid);
    for (const [pid, t] of this.tasks.overlayEntries()) if (t && t.ppid === ppid) found.add(pid);
    const seq = (pid: number): number => this.tasks.get(pid)?.seq ?? 0;
    return [...found].sort((a, b) => seq(a) - seq(b));
  }
  mm(id: number): Mm | undefined {
    return this.mms.get(id);
  }
}

/** The state's ppid -> children index, built from the task records the first time it is asked for. */
export function childIndexOf(state: VmState): Map<number, Set<number>> {
  if (state.childIndex) return state.childIndex;
  const idx = new Map<number, Set<number>>();
  for (const t of state.tasks.values()) addChild(idx, t.ppid, t.pid);
  state.childIndex = idx;
  return idx;
}

function addChild(idx: Map<number, Set<number>>, ppid: number, pid: number): void {
  const s = idx.get(ppid);
  if (s) s.add(pid);
  else idx.set(ppid, new Set([pid]));
}

/** One PTE of a page-cache page more (nu) or less (old): NR_FILE_MAPPED moves at mapcount 0 -> 1 and 1 -> 0. */
function fileMapChange(maps: Map<number, number>, old: number, nu: number): void {
  if (old > 0 && (old & PTE_ANON) === 0) {
    const pfn = ptePfn(old);
    const m = maps.get(pfn) ?? 0;
    if (m > 1) maps.set(pfn, m - 1);
    else maps.delete(pfn);
  }
  if (nu > 0 && (nu & PTE_ANON) === 0) {
    const pfn = ptePfn(nu);
    maps.set(pfn, (maps.get(pfn) ?? 0) + 1);
  }
}

/** The state's pfn -> mapcount of page-cache pages, counted from the page tables the first time it is asked for. */
export function fileMapsOf(state: VmState): Map<number, number> {
  if (state.fileMaps) return state.fileMaps;
  const maps = new Map<number, number>();
  for (const pt of state.pts.values()) for (const t of pt.ptes.values()) for (const v of t.entries) if (v > 0 && (v & PTE_ANON) === 0) fileMapChange(maps, 0, v);
  state.fileMaps = maps;
  return maps;
}

/** The state's path -> file id index, built from the file records the first time it is asked for. */
export function pathIndexOf(state: VmState): Map<string, number> {
  if (state.pathIndex) return state.pathIndex;
  const idx = new Map<string, number>();
  for (const f of [...state.files.values()].sort((a, b) => a.id - b.id)) if (!f.shmem && !idx.has(f.path)) idx.set(f.path, f.id);
  state.pathIndex = idx;
  return idx;
}

function indexPath(state: VmState, id: number, old: FileInfo | undefined, nu: FileInfo | undefined): void {
  const idx = state.pathIndex;
  if (!idx) return;
  if (old && !old.shmem && idx.get(old.path) === id) idx.delete(old.path);
  if (nu && !nu.shmem && !idx.has(nu.path)) idx.set(nu.path, id);
}

/** Keeps an existing child index current when a task record changes (evolve's in-place writes). */
function indexChild(state: VmState, pid: number, old: Task | undefined, nu: Task | undefined): void {
  const idx = state.childIndex;
  if (!idx || old?.ppid === nu?.ppid) return;
  if (old) {
    const s = idx.get(old.ppid);
    s?.delete(pid);
    if (s && s.size === 0) idx.delete(old.ppid);
  }
  if (nu) addChild(idx, nu.ppid, pid);
}

/**
 * The order-independent hash rebuilt from scratch (every record and PTE): what state.hash must
 * equal if every change kept it current. For tests and replay checks; O(state).
 */
export function recomputeHash(state: VmState): AddHash {
  const h = new AddHash();
  for (const [k, t] of state.tasks) rehash(h, TAG_TASK, k, undefined, taskDigest(t));
  for (const [k, m] of state.mms) rehash(h, TAG_MM, k, undefined, mmDigest(m));
  for (const [k, v] of state.shared) rehash(h, TAG_SHARED, k, undefined, v);
  for (const [k, f] of state.files) rehash(h, TAG_FILE, k, undefined, fileDigest(f));
  for (const [k, c] of state.cgroups) rehash(h, TAG_CGROUP, k, undefined, cgroupDigest(c));
  for (const [mmId, pt] of state.pts) {
    for (const [idx, t] of pt.ptes) {
      for (let i = 0; i < t.entries.length; i++) {
        const v = t.entries[i];
        if (v === 0) continue;
        ptMix(mmId, idx * 512 + i, v);
        h.lo = (h.lo + mixLo) >>> 0;
        h.hi = (h.hi + mixHi) >>> 0;
      }
    }
  }
  return h;
}

// A PTE's share of the state hash: (mm, vpn, value) mixed into two 32-bit lanes, without
// allocating (this runs once per page faulted). Records use AddHash entries at other keys.
let mixLo = 0;
let mixHi = 0;
function ptMix(mmId: number, vpn: number, v: number): void {
  const a = vpn >>> 0;
  const b = Math.floor(vpn / 2 ** 32) >>> 0;
  const x = fmix32(fmix32(a ^ 0x9e3779b9) ^ b ^ fmix32(((v >>> 0) + 0x7f4a7c15) >>> 0) ^ Math.imul(mmId, 0x165667b1));
  mixLo = x;
  mixHi = fmix32(x ^ fmix32((b + 0x61c88647) >>> 0) ^ fmix32(mmId ^ 0x27d4eb2f) ^ Math.imul(a ^ v, 0x85ebca77));
}

// Record hashing: each record contributes (tag, id) -> a 52-bit digest of its fields to the
// order-independent AddHash, so stateHash is O(1) however many tasks and pages there are.
const TAG_TASK = 1;
const TAG_MM = 2;
const TAG_SHARED = 3;
const TAG_FILE = 6;
const TAG_CGROUP = 7;

function rehash(h: AddHash, tag: number, id: number, old: number | undefined, nu: number | undefined): void {
  // PTE keys are vpns (< 2^35); records use keys at 2^40 and above so the two never meet.
  const k = 2 ** 40 + tag * 2 ** 36 + id;
  if (old !== undefined) h.remove(k, old);
  if (nu !== undefined) h.add(k, nu);
}

const digest52 = (s: StateHasher): number => parseInt(s.digest().slice(0, 13), 16);

function taskDigest(t: Task): number {
  const s = new StateHasher();
  s.int(t.pid).int(t.tgid).int(t.ppid).str(t.name).int(t.uid).int(t.euid);
  s.bool(t.caps.sysAdmin).bool(t.caps.sysResource).bool(t.caps.sysRawio).bool(t.caps.ipcLock);
  s.int(t.nice).int(t.oomScoreAdj).int(t.oomScoreAdjMin).int(t.oomAdjWritten ?? 9999);
  s.int(t.rlimits.as).int(t.rlimits.data).int(t.rlimits.stack).int(t.rlimits.memlock);
  s.int(t.startTimeNs).int(t.utimeTicks).int(t.stimeTicks).int(t.memcg).str(t.state).bool(t.isKthread);
  s.int(t.mmId).int(t.exitCode).int(t.exitSignal).bool(t.oomVictim).bool(t.stuck).bool(t.killPending);
  s.int(t.minflt).int(t.majflt).int(t.seq);
  for (const e of t.env) s.str(e);
  // Only when there is one, so tasks of logs recorded before kernel stacks hash as they did.
  if (t.kstackPages) s.int(t.kstackPages).int(t.kstackMemcg);
  return digest52(s);
}

function mmDigest(m: Mm): number {
  const s = new StateHasher();
  s.int(m.id).int(m.users).int(m.anonRoot).int(m.mmapBase).int(m.mmapLegacyBase);
  s.int(m.startCode).int(m.endCode).int(m.startData).int(m.endData).int(m.startBrk).int(m.brk);
  s.int(m.startStack).int(m.argStart).int(m.argEnd).int(m.envStart).int(m.envEnd);
  s.int(m.totalVm).int(m.lockedVm).int(m.dataVm).int(m.execVm).int(m.stackVm).int(m.hiwaterVm).int(m.hiwaterRss);
  s.int(m.rssAnon).int(m.rssFile).int(m.rssShmem).int(m.swapEnts).int(m.ptePages).int(m.pmdPages).int(m.pudPages);
  s.bool(m.oomSkip).int(vmasDigest(m.vmas));
  return digest52(s);
}

// VMA arrays are never changed in place, so an array's digest is computed once.
const vmaDigests = new WeakMap<readonly Vma[], number>();
function vmasDigest(vmas: readonly Vma[]): number {
  const hit = vmaDigests.get(vmas);
  if (hit !== undefined) return hit;
  const s = new StateHasher();
  for (const v of vmas) s.int(v.start).int(v.end).int(v.flags).int(v.pgoff).str(v.kind).int(v.file).str(v.name).bool(v.anon);
  const d = digest52(s);
  vmaDigests.set(vmas, d);
  return d;
}

function fileDigest(f: FileInfo): number {
  const s = new StateHasher();
  s.int(f.id).str(f.path).int(f.inode).int(f.dev).int(f.sizeBytes).bool(f.shmem).int(f.chargedPages);
  return digest52(s);
}

function cgroupDigest(c: Cgroup): number {
  const s = new StateHasher();
  s.int(c.id).str(c.path).int(c.parent).int(c.max).int(c.high).int(c.swapMax).bool(c.oomGroup);
  s.int(c.oom).int(c.oomKill).int(c.oomGroupKill);
  return digest52(s);
}
