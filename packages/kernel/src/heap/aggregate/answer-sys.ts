// The HeapSys a call runs against inside decide() and evolve(): system calls and memory
// touches are answered from the command's `answers` (decide) or the event's records (evolve),
// in request order. Loads and stores are collected and sent as one Touch request before each
// system call and at the end of the call. When decide() runs out of answers, the request is
// thrown as Need('vma', request, index); when evolve() is asked something the event does not
// record, the replay has diverged.
import { Need } from '../../common/aggregate.js';
import type { AddrRange, HeapSys, Syscall, SyscallRequest, TouchRequest, TouchResult, VmaRequest } from '../../contracts/heap-sys.js';
import type { HeapSyscallRecord, HeapTouchRecord, SyscallAnswer } from './types.js';

const PAGE = 4096;

/** A Touch answered with a signal or a block: the call cannot go on. */
export class TouchFailed {
  readonly name = 'TouchFailed';
  constructor(readonly result: Exclude<TouchResult, { ok: true }>) {}
}

/** The re-run of a recorded call asked for something else than the event records. */
export class HeapDivergence extends Error {
  override readonly name = 'HeapDivergence';
}

/** The command's answers do not fit the requests (a Touch answered with a number...). */
export class BadAnswer {
  readonly name = 'BadAnswer';
  constructor(readonly message: string) {}
}

const isTouchResult = (a: SyscallAnswer): a is TouchResult => typeof a === 'object' && a !== null && 'ok' in a;

/** Sorted, merged page-aligned ranges from (addr, len) pairs. */
function pageRanges(pairs: readonly number[]): [number, number][] {
  const iv: [number, number][] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    const a = Math.floor(pairs[i] / PAGE) * PAGE;
    const b = Math.ceil((pairs[i] + pairs[i + 1]) / PAGE) * PAGE;
    if (b > a) iv.push([a, b]);
  }
  iv.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [];
  for (const r of iv) {
    const last = out[out.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** a minus b, both sorted and merged. */
function subtract(a: readonly [number, number][], b: readonly [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  let j = 0;
  for (const [s0, e0] of a) {
    let s = s0;
    while (j < b.length && b[j][1] <= s) j++;
    let k = j;
    while (s < e0) {
      if (k >= b.length || b[k][0] >= e0) {
        out.push([s, e0]);
        break;
      }
      if (b[k][0] > s) out.push([s, b[k][0]]);
      s = Math.max(s, b[k][1]);
      k++;
    }
  }
  return out;
}

const toRanges = (iv: readonly [number, number][]): AddrRange[] => iv.map(([a, b]) => ({ addr: a, length: b - a }));

function sameRanges(x: readonly AddrRange[], y: readonly AddrRange[]): boolean {
  return x.length === y.length && x.every((r, i) => r.addr === y[i].addr && r.length === y[i].length);
}

function sameSyscall(x: Syscall, y: Syscall): boolean {
  const a = x as unknown as Record<string, unknown>, b = y as unknown as Record<string, unknown>;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

export class AnswerSys implements HeapSys {
  private next = 0;
  private w: number[] = [];
  private r: number[] = [];
  readonly syscalls: HeapSyscallRecord[] = [];
  readonly touches: HeapTouchRecord[] = [];
  private readonly expected: (VmaRequest | undefined)[] | undefined;

  /**
   * `recorded` (evolve): the event's records; the answers come from them and every request
   * must match the recorded one.
   */
  constructor(
    private readonly pid: number,
    private readonly answers: readonly SyscallAnswer[],
    recorded?: { readonly syscalls: readonly HeapSyscallRecord[]; readonly touches: readonly HeapTouchRecord[] },
  ) {
    if (recorded !== undefined) {
      const n = recorded.syscalls.length + recorded.touches.length;
      const ans: SyscallAnswer[] = new Array<SyscallAnswer>(n);
      const exp: (VmaRequest | undefined)[] = new Array<VmaRequest | undefined>(n);
      for (const s of recorded.syscalls) {
        ans[s.seq] = s.result;
        exp[s.seq] = { type: 'Syscall', pid, call: s.call };
      }
      for (const t of recorded.touches) {
        ans[t.seq] = t.result;
        exp[t.seq] = { type: 'Touch', pid, writes: t.writes, reads: t.reads };
      }
      this.answers = ans;
      this.expected = exp;
    }
  }

  private take(req: VmaRequest): SyscallAnswer {
    const i = this.next;
    if (this.expected !== undefined) {
      const exp = this.expected[i];
      if (exp === undefined) throw new HeapDivergence(`pid ${this.pid}: the re-run made request ${i} (${describe(req)}), which the event does not record`);
      const same =
        exp.type === req.type &&
        (exp.type === 'Syscall'
          ? sameSyscall(exp.call, (req as SyscallRequest).call)
          : sameRanges(exp.writes, (req as TouchRequest).writes) && sameRanges(exp.reads, (req as TouchRequest).reads));
      if (!same) throw new HeapDivergence(`pid ${this.pid}: request ${i} is ${describe(req)}, the event records ${describe(exp)}`);
    }
    if (i >= this.answers.length) throw new Need('vma', req, i);
    this.next++;
    return this.answers[i];
  }

  /** Sends the loads and stores collected since the last request, if any. */
  flushTouches(): void {
    if (this.w.length === 0 && this.r.length === 0) return;
    const wr = pageRanges(this.w);
    const rd = subtract(pageRanges(this.r), wr);
    this.w = [];
    this.r = [];
    const writes = toRanges(wr), reads = toRanges(rd);
    const seq = this.next;
    const ans = this.take({ type: 'Touch', pid: this.pid, writes, reads });
    if (!isTouchResult(ans)) throw new BadAnswer(`answer ${seq} should be a TouchResult (the request was a Touch), got ${JSON.stringify(ans)}`);
    this.touches.push({ seq, writes, reads, result: ans });
    if (!ans.ok) throw new TouchFailed(ans);
  }

  /** The end of the call: the last Touch. */
  end(): void {
    this.flushTouches();
  }

  /** Whether every answer given was used (decide checks a command carries no extra ones). */
  get usedAll(): boolean {
    return this.next === this.answers.length;
  }

  private syscall(call: Syscall): number {
    this.flushTouches();
    const seq = this.next;
    const ans = this.take({ type: 'Syscall', pid: this.pid, call });
    if (typeof ans !== 'number') throw new BadAnswer(`answer ${seq} should be a system call result (the request was ${call.nr}), got ${JSON.stringify(ans)}`);
    this.syscalls.push({ seq, call, result: ans });
    return ans;
  }

  brk(addr: number): number {
    return this.syscall({ nr: 'brk', addr });
  }
  mmap(addr: number, length: number, prot: number, flags: number): number {
    return this.syscall({ nr: 'mmap', addr, length, prot, flags });
  }
  munmap(addr: number, length: number): number {
    return this.syscall({ nr: 'munmap', addr, length });
  }
  mremap(oldAddr: number, oldSize: number, newSize: number, flags: number): number {
    return this.syscall({ nr: 'mremap', oldAddr, oldSize, newSize, flags });
  }
  mprotect(addr: number, length: number, prot: number): number {
    return this.syscall({ nr: 'mprotect', addr, length, prot });
  }
  madvise(addr: number, length: number, advice: number): number {
    return this.syscall({ nr: 'madvise', addr, length, advice });
  }
  write(addr: number, length: number): void {
    this.w.push(addr, length);
  }
  read(addr: number, length: number): void {
    this.r.push(addr, length);
  }
}

function describe(r: VmaRequest): string {
  if (r.type === 'Syscall') return `${r.call.nr}(${JSON.stringify(r.call)})`;
  return `Touch(${r.writes.length} write ranges, ${r.reads.length} read ranges)`;
}

/** A HeapSys for a process between calls: nothing may reach the kernel outside a call. */
export const NO_SYS: HeapSys = {
  brk: () => {
    throw new Error('heap: system call outside a call');
  },
  mmap: () => {
    throw new Error('heap: system call outside a call');
  },
  munmap: () => {
    throw new Error('heap: system call outside a call');
  },
  mremap: () => {
    throw new Error('heap: system call outside a call');
  },
  mprotect: () => {
    throw new Error('heap: system call outside a call');
  },
  madvise: () => {
    throw new Error('heap: system call outside a call');
  },
  write: () => undefined,
  read: () => undefined,
};
