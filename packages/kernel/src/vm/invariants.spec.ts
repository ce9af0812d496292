// Random sequences of system calls, touches, forks, exits and reclaim, with the state checked
// against its own definition after every command: RSS and swap counters are the PTEs counted,
// VmPTE is the tables that exist, every PTE lies in a VMA, mapcounts are the PTEs that share a
// page, Committed_AS is the charges of the VMAs and shmem objects, every mapped frame is one
// frames handed out, the page-cache mapcounts (Mapped) are the file/shmem PTEs counted, and the
// incremental state hash equals a full recomputation.
import { describe, expect, it } from 'vitest';
import { nextBelow, prngStream, type PrngState } from '../common/index.js';
import { vm } from './aggregate.js';
import { TestMachine } from './testing.js';
import { isPresent, isSwap, pteBits, ptePfn, PTE_ANON } from './page-table.js';
import { fileMapsOf, recomputeHash } from './world.js';
import { mappedFilePages } from './queries.js';
import { vmStat } from './vma-list.js';
import type { VmState } from './types.js';

function check(s: VmState, frames: { used: Set<number> }): void {
  const anonRefs = new Map<number, number>();
  const fileRefs = new Map<number, number>();
  let committed = 0;
  for (const mm of s.mms.values()) {
    const pt = s.pts.get(mm.id);
    let anon = 0;
    let file = 0;
    let shmem = 0;
    let swap = 0;
    for (let i = 0; i < mm.vmas.length; i++) {
      const v = mm.vmas[i];
      expect(v.start % 4096).toBe(0);
      expect(v.end).toBeGreaterThan(v.start);
      if (i > 0) expect(mm.vmas[i - 1].end).toBeLessThanOrEqual(v.start);
    }
    const st = vmStat(mm.vmas);
    expect([mm.totalVm, mm.dataVm, mm.execVm, mm.stackVm, mm.lockedVm]).toEqual([st.totalVm, st.dataVm, st.execVm, st.stackVm, st.lockedVm]);
    committed += st.accounted;
    if (pt) {
      expect(pt.ptes.size).toBe(mm.ptePages);
      expect(pt.pmds.size).toBe(mm.pmdPages);
      expect(pt.puds.size).toBe(mm.pudPages);
      let inVmas = 0;
      let all = 0;
      for (const t of pt.ptes.values()) for (let k = 0; k < 512; k++) if (t.entries[k] !== 0) all++;
      for (const v of mm.vmas) {
        for (let vpn = v.start / 4096; vpn < v.end / 4096; vpn++) {
          const t = pt.ptes.get(Math.floor(vpn / 512));
          if (!t) {
            vpn = Math.floor(vpn / 512) * 512 + 511;
            continue;
          }
          const e = t.entries[vpn % 512];
          if (e === 0) continue;
          inVmas++;
          if (isSwap(e)) swap++;
          else if (isPresent(e)) {
            const pfn = ptePfn(e);
            if (pteBits(e) & PTE_ANON) {
              anon++;
              anonRefs.set(pfn, (anonRefs.get(pfn) ?? 0) + 1);
              expect(frames.used.has(pfn), `anon pfn ${pfn} mapped but free in frames`).toBe(true);
            } else {
              fileRefs.set(pfn, (fileRefs.get(pfn) ?? 0) + 1);
              if (v.kind === 'shmem') shmem++;
              else file++;
            }
          }
        }
      }
      expect(inVmas, `mm ${mm.id}: PTEs outside every VMA`).toBe(all);
    }
    expect([mm.rssAnon, mm.rssFile, mm.rssShmem, mm.swapEnts]).toEqual([anon, file, shmem, swap]);
  }
  for (const [pfn, n] of anonRefs) expect(s.shared.get(pfn) ?? 1, `mapcount of ${pfn}`).toBe(n);
  for (const [pfn] of s.shared) expect(anonRefs.get(pfn) ?? 0).toBeGreaterThan(1);
  // The mapcounts evolve kept, page by page, are the file and shmem PTEs counted.
  expect(new Map([...fileMapsOf(s)].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...fileRefs].sort((a, b) => a[0] - b[0])));
  expect(mappedFilePages(s)).toBe(fileRefs.size);
  for (const f of s.files.values()) committed += f.chargedPages;
  expect(s.sc.committed).toBe(committed);
  expect(s.hash.digest()).toBe(recomputeHash(s).digest());
}

class Rand {
  constructor(public s: PrngState) {}
  below(n: number): number {
    const [v, next] = nextBelow(this.s, n);
    this.s = next;
    return v;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
}

describe('random workloads keep the state consistent', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}`, () => {
      const r = new Rand(prngStream(seed, 'vm-invariants'));
      const t = new TestMachine(vm, 8192, 4096); // 32 MiB of RAM: reclaim and OOM happen
      const fd = t.handle({ type: 'CreateFile', path: '/data', sizeBytes: 1 << 22 }).answer as number;
      const live = () => [...t.state.tasks.values()].filter((x) => !x.isKthread && x.pid !== 1 && x.state === 'running').map((x) => x.pid);
      const maps = new Map<number, { addr: number; len: number }[]>();
      for (let step = 0; step < 160; step++) {
        let pids = live();
        if (pids.length === 0) pids = [t.spawn('w', { prefault: r.below(2) === 0 })];
        const pid = r.pick(pids);
        const mine = maps.get(pid) ?? [];
        maps.set(pid, mine);
        const op = r.below(16);
        const pages = 1 + r.below(300);
        if (op < 3) {
          const flags = r.pick([0x22, 0x22, 0x21, 0x22 | 0x4000, 0x02]);
          const a = t.sys(pid, flags === 0x02 ? { nr: 'mmap', addr: 0, length: pages * 4096, prot: 3, flags, fd, offset: 0 } : { nr: 'mmap', addr: 0, length: pages * 4096, prot: r.pick([1, 3, 3]), flags });
          if (a > 0) mine.push({ addr: a, len: pages * 4096 });
        } else if (op < 7 && mine.length) {
          const m = r.pick(mine);
          const off = r.below(m.len / 4096) * 4096;
          const len = Math.min(m.len - off, (1 + r.below(64)) * 4096);
          t.handle({ type: 'Touch', pid, writes: r.below(3) ? [{ addr: m.addr + off, length: len }] : [], reads: [{ addr: m.addr + off, length: len }] });
        } else if (op === 7 && mine.length) {
          const m = mine.splice(r.below(mine.length), 1)[0];
          t.sys(pid, { nr: 'munmap', addr: m.addr, length: m.len });
        } else if (op === 8 && mine.length) {
          const m = r.pick(mine);
          t.sys(pid, { nr: 'mprotect', addr: m.addr, length: Math.min(m.len, 4096 * (1 + r.below(8))), prot: r.pick([0, 1, 3]) });
        } else if (op === 9 && mine.length) {
          const m = r.pick(mine);
          t.sys(pid, { nr: 'madvise', addr: m.addr, length: m.len, advice: r.pick([4, 8]) });
        } else if (op === 10 && mine.length) {
          const m = mine.splice(r.below(mine.length), 1)[0];
          const nl = (1 + r.below(400)) * 4096;
          const b = t.sys(pid, { nr: 'mremap', oldAddr: m.addr, oldSize: m.len, newSize: nl, flags: 1 });
          mine.push(b > 0 ? { addr: b, len: nl } : m);
        } else if (op === 11 && pids.length < 12) {
          const c = t.handle({ type: 'Fork', pid }).answer as number;
          if (c > 0) maps.set(c, mine.map((m) => ({ ...m })));
        } else if (op === 12 && pids.length > 1) {
          t.handle({ type: r.below(2) ? 'Exit' : 'Kill', pid });
        } else if (op === 13) {
          const b = t.sys(pid, { nr: 'brk', addr: 0 });
          const nb = t.sys(pid, { nr: 'brk', addr: b + (r.below(2) ? 1 : -1) * pages * 4096 });
          if (nb > b) t.handle({ type: 'Touch', pid, writes: [{ addr: b, length: nb - b }], reads: [] });
        } else if (op === 14) {
          // reclaim: evict a random anonymous page of some mm on the next allocation
          const mm = t.mm(pid);
          const pt = t.state.pts.get(mm.id);
          const idxs = pt ? [...pt.ptes.keys()] : [];
          if (idxs.length) {
            const idx = r.pick(idxs);
            const k = r.below(512);
            const e = pt!.ptes.get(idx)!.entries[k];
            const addr = (idx * 512 + k) * 4096;
            const v = mm.vmas.find((x) => x.start <= addr && x.end > addr);
            if (v && isPresent(e) && pteBits(e) & PTE_ANON) t.frames.evictNext.push({ pfn: ptePfn(e), kind: 'anon', owner: mm.anonRoot, index: v.pgoff + (addr - v.start) / 4096 });
          }
        } else {
          t.handle({ type: 'Spawn', name: 'w', prefault: r.below(2) === 0 });
        }
        if (step % 4 === 3) check(t.state, t.frames);
      }
    }, 60_000);
  }
});
