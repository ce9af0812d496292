// The address space of a freshly exec'd small dynamically linked x86-64 program, the way
// fs/binfmt_elf.c load_elf_binary(), fs/exec.c setup_arg_pages(), arch/x86/mm/mmap.c and
// ld.so lay it out, with every random choice drawn from the machine's 'aslr' stream:
//   mmap_base  = PAGE_ALIGN(TASK_SIZE - clamp(stack rlimit + 16 GiB stack randomization + 1 MiB
//                guard gap, 128 MiB, TASK_SIZE/6*5) - mmap_rnd)    (arch/x86/mm/mmap.c mmap_base)
//   PIE base   = ELF_ET_DYN_BASE + mmap_rnd, page-aligned           (load_elf_binary)
//   stack top  = STACK_TOP - (rnd & STACK_RND_MASK) pages           (randomize_stack_top)
//   brk        = PAGE_ALIGN(end of bss) + up to 1 GiB               (arch_randomize_brk)
// ld.so is mapped by the kernel top-down below mmap_base, the vdso below it, then ld.so maps
// libc.so.6 and its own anonymous memory. Segment sizes and offsets are those of Debian 12's
// coreutils `sleep`, ld-linux-x86-64.so.2 and libc.so.6 (glibc 2.36) on the machine the model
// was checked against.
import { nextBelow, type PrngState } from '../common/index.js';
import {
  BRK_RND_RANGE,
  ELF_ET_DYN_BASE,
  MMAP_RND_BITS,
  PAGE_SIZE,
  STACK_EXPAND,
  STACK_GUARD_GAP,
  STACK_RND_MASK,
  STACK_TOP,
  TASK_SIZE,
  VM_ACCOUNT,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_IO,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_PFNMAP,
  VM_READ,
  VM_STACK,
  VM_WRITE,
} from './constants.js';
import type { MmLayout, Vma } from './types.js';
import { getUnmappedArea } from './unmapped-area.js';
import { insertVma } from './vma-list.js';

const pageAlign = (x: number): number => Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
const pageDown = (x: number): number => Math.floor(x / PAGE_SIZE) * PAGE_SIZE;

/** One PT_LOAD segment as mapped after ld.so's relocation (RELRO already mprotected read-only). */
export interface Segment {
  readonly offset: number;
  readonly length: number;
  readonly prot: 'r' | 'rx' | 'rw' | 'relro';
  /** Pages of it touched by the time main() runs, from its start: read (file pages) or written (COW copies). */
  readonly touched: number;
}

export interface ElfImage {
  readonly path: string;
  readonly inode: number;
  readonly sizeBytes: number;
  readonly segments: readonly Segment[];
  /** Anonymous memory right after the last segment (.bss beyond the file), with pages written. */
  readonly bss: { readonly length: number; readonly touched: number } | null;
}

export const LD_SO: ElfImage = {
  path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
  inode: 338944,
  sizeBytes: 215000,
  segments: [
    { offset: 0x0, length: 0x1000, prot: 'r', touched: 1 },
    { offset: 0x1000, length: 0x26000, prot: 'rx', touched: 38 },
    { offset: 0x27000, length: 0xa000, prot: 'r', touched: 10 },
    { offset: 0x31000, length: 0x2000, prot: 'relro', touched: 2 },
    { offset: 0x33000, length: 0x2000, prot: 'rw', touched: 2 },
  ],
  bss: null,
};

export const LIBC: ElfImage = {
  path: '/usr/lib/x86_64-linux-gnu/libc.so.6',
  inode: 339380,
  sizeBytes: 1926232,
  segments: [
    { offset: 0x0, length: 0x26000, prot: 'r', touched: 37 },
    { offset: 0x26000, length: 0x156000, prot: 'rx', touched: 217 },
    { offset: 0x17c000, length: 0x53000, prot: 'r', touched: 48 },
    { offset: 0x1cf000, length: 0x4000, prot: 'relro', touched: 4 },
    { offset: 0x1d3000, length: 0x2000, prot: 'rw', touched: 2 },
  ],
  bss: { length: 0xd000, touched: 5 },
};

/** The executable: a PIE the size of coreutils `sleep`. */
export const PROGRAM_SEGMENTS: readonly Segment[] = [
  { offset: 0x0, length: 0x2000, prot: 'r', touched: 2 },
  { offset: 0x2000, length: 0x5000, prot: 'rx', touched: 5 },
  { offset: 0x7000, length: 0x2000, prot: 'r', touched: 2 },
  { offset: 0x9000, length: 0x1000, prot: 'relro', touched: 1 },
  { offset: 0xa000, length: 0x1000, prot: 'rw', touched: 1 },
];
export const PROGRAM_SIZE = 43888;
/** mm->start_code/end_code/start_data/end_data and the end of .bss, relative to the load base. */
const PROGRAM_CODE = [0x2000, 0x6609] as const;
const PROGRAM_DATA = [0x9d10, 0xa200] as const;
const PROGRAM_BSS_END = 0xa2e8;

/** The vdso image: [vvar] 4 pages, [vvar_vclock] 2 pages, [vdso] 2 pages (6.18 x86-64). */
const VDSO_PARTS = [
  { name: '[vvar]', pages: 4, flags: VM_READ | VM_MAYREAD | VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP },
  { name: '[vvar_vclock]', pages: 2, flags: VM_READ | VM_MAYREAD | VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP },
  { name: '[vdso]', pages: 2, flags: VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DONTEXPAND | VM_DONTDUMP },
] as const;

/** Anonymous memory ld.so maps for itself (above libc) and for the TLS/dtv (below libc). */
const LDSO_ANON = { length: 0x2000, touched: 1 };
const TLS_ANON = { length: 0x3000, touched: 2 };

const MAY = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
export const ANON_RW_FLAGS = VM_READ | VM_WRITE | MAY | VM_ACCOUNT;
export const STACK_FLAGS = VM_READ | VM_WRITE | MAY | VM_STACK | VM_ACCOUNT;

function segmentFlags(prot: Segment['prot']): number {
  switch (prot) {
    case 'r':
      return VM_READ | MAY;
    case 'rx':
      return VM_READ | VM_EXEC | MAY;
    case 'rw':
      return VM_READ | VM_WRITE | MAY | VM_ACCOUNT;
    case 'relro':
      // mapped writable (charged, VM_ACCOUNT), then mprotect(PROT_READ) by ld.so: the charge stays.
      return VM_READ | MAY | VM_ACCOUNT;
  }
}

/** A range to fault in at spawn: [start, start + pages) read or written. */
export interface Prefault {
  readonly start: number;
  readonly pages: number;
  readonly write: boolean;
}

export interface ExecLayout {
  readonly layout: MmLayout;
  readonly vmas: Vma[];
  readonly prefault: Prefault[];
  readonly aslr: PrngState;
}

export interface ExecInput {
  readonly aslr: PrngState;
  readonly stackRlimit: number;
  readonly programFile: number;
  readonly ldsoFile: number;
  readonly libcFile: number;
  readonly argv: readonly string[];
  readonly env: readonly string[];
  readonly execfn: string;
  readonly brkStart?: number;
}

class Draws {
  constructor(public s: PrngState) {}
  below(n: number): number {
    const [v, next] = nextBelow(this.s, n);
    this.s = next;
    return v;
  }
  /** get_random_long() & ((1 << bits) - 1), for bits <= 32. */
  bits(n: number): number {
    return this.below(2 ** n);
  }
}

/** arch/x86/mm/mmap.c mmap_base(). */
export function mmapBase(rnd: number, stackRlimit: number): number {
  const pad = STACK_RND_MASK * PAGE_SIZE + STACK_GUARD_GAP;
  let gap = stackRlimit;
  if (gap + pad <= Number.MAX_SAFE_INTEGER) gap += pad;
  const gapMax = Math.floor(TASK_SIZE / 6) * 5;
  gap = Math.min(Math.max(gap, 128 * 1024 * 1024), gapMax);
  return pageAlign(TASK_SIZE - gap - rnd);
}

/** TASK_UNMAPPED_BASE + rnd: mm->mmap_legacy_base, where bottom-up placement starts. */
export const mmapLegacyBase = (rnd: number): number => pageAlign(Math.floor(TASK_SIZE / 3)) + rnd;

const strBytes = (xs: readonly string[]): number => xs.reduce((n, s) => n + s.length + 1, 0);

/** Builds the VMAs and mm layout of a new program (execve of a small dynamic PIE). */
export function execLayout(inp: ExecInput): ExecLayout {
  const d = new Draws(inp.aslr);
  // 1. setup_new_exec() -> arch_pick_mmap_layout()
  const mmapRnd = d.bits(MMAP_RND_BITS) * PAGE_SIZE;
  const base = mmapBase(mmapRnd, inp.stackRlimit);
  const legacyBase = mmapLegacyBase(mmapRnd);
  // 2. setup_arg_pages(randomize_stack_top(STACK_TOP)); arch_align_stack() moves sp down a little
  const stackTop = STACK_TOP - d.bits(22) * PAGE_SIZE;
  const stackEnd = pageAlign(Math.floor((stackTop - d.below(8192)) / 16) * 16);
  const envEnd = stackEnd - 8 - (inp.execfn.length + 1);
  const envStart = envEnd - strBytes(inp.env);
  const argStart = envStart - strBytes(inp.argv);
  const argPages = Math.ceil((stackEnd - pageDown(argStart)) / PAGE_SIZE);
  const stackVmaStart = stackEnd - (argPages * PAGE_SIZE + Math.min(STACK_EXPAND, Math.max(0, inp.stackRlimit - argPages * PAGE_SIZE)));
  // create_elf_tables(): random bytes, platform, auxv, envp, argv, argc, then arch_align_stack()
  const tables = 16 + 7 + 22 * 16 + (inp.env.length + 1) * 8 + (inp.argv.length + 1) * 8 + 8;
  const startStack = Math.floor((argStart - tables - d.below(8192)) / 16) * 16;
  // 3. the PIE's load bias
  const loadBias = pageDown(ELF_ET_DYN_BASE + d.bits(MMAP_RND_BITS) * PAGE_SIZE);

  let vmas: Vma[] = [];
  const prefault: Prefault[] = [];
  const mapImage = (file: number, at: number, segs: readonly Segment[]): void => {
    for (const s of segs) {
      const start = at + s.offset;
      vmas = insertVma(vmas, {
        start,
        end: start + s.length,
        flags: segmentFlags(s.prot),
        pgoff: s.offset / PAGE_SIZE,
        kind: 'file',
        file,
        name: '',
        anon: s.prot === 'rw' || s.prot === 'relro',
      });
      if (s.touched) prefault.push({ start, pages: s.touched, write: s.prot === 'rw' || s.prot === 'relro' });
    }
  };
  const mapAnon = (start: number, length: number, touched: number): void => {
    vmas = insertVma(vmas, { start, end: start + length, flags: ANON_RW_FLAGS, pgoff: start / PAGE_SIZE, kind: 'anon', file: 0, name: '', anon: touched > 0 });
    if (touched) prefault.push({ start, pages: touched, write: true });
  };
  const as = () => ({ vmas, mmapBase: base, mmapLegacyBase: legacyBase });
  const imageSpan = (img: ElfImage): number => {
    const last = img.segments[img.segments.length - 1];
    return last.offset + last.length + (img.bss?.length ?? 0);
  };

  // The executable.
  mapImage(inp.programFile, loadBias, PROGRAM_SEGMENTS);
  // The stack.
  vmas = insertVma(vmas, { start: stackVmaStart, end: stackEnd, flags: STACK_FLAGS, pgoff: stackVmaStart / PAGE_SIZE, kind: 'anon', file: 0, name: '', anon: true });
  const stackTouchFrom = pageDown(startStack) - PAGE_SIZE;
  prefault.push({ start: stackTouchFrom, pages: (stackEnd - stackTouchFrom) / PAGE_SIZE, write: true });
  // The interpreter, mapped whole by the kernel, top-down.
  const ldso = getUnmappedArea(as(), 0, imageSpan(LD_SO), false);
  mapImage(inp.ldsoFile, ldso, LD_SO.segments);
  // The vdso below it (one get_unmapped_area for vvar + vdso).
  const vdsoLen = VDSO_PARTS.reduce((n, p) => n + p.pages * PAGE_SIZE, 0);
  let at = getUnmappedArea(as(), 0, vdsoLen, false);
  for (const p of VDSO_PARTS) {
    vmas = insertVma(vmas, { start: at, end: at + p.pages * PAGE_SIZE, flags: p.flags, pgoff: 0, kind: 'special', file: 0, name: p.name, anon: false });
    at += p.pages * PAGE_SIZE;
  }
  // ld.so's own anonymous memory, then libc.so.6 (+ its .bss), then the TLS block.
  mapAnon(getUnmappedArea(as(), 0, LDSO_ANON.length, true), LDSO_ANON.length, LDSO_ANON.touched);
  const libcSpan = imageSpan(LIBC);
  const libc = getUnmappedArea(as(), 0, libcSpan, false);
  mapImage(inp.libcFile, libc, LIBC.segments);
  if (LIBC.bss) mapAnon(libc + libcSpan - LIBC.bss.length, LIBC.bss.length, LIBC.bss.touched);
  mapAnon(getUnmappedArea(as(), 0, TLS_ANON.length, true), TLS_ANON.length, TLS_ANON.touched);

  // 4. the break: right after .bss, randomized over 1 GiB (arch_randomize_brk -> randomize_page).
  const brkBase = pageAlign(loadBias + PROGRAM_BSS_END);
  const brkRnd = d.below(BRK_RND_RANGE / PAGE_SIZE) * PAGE_SIZE;
  const startBrk = inp.brkStart !== undefined ? inp.brkStart : brkBase + brkRnd;

  prefault.sort((a, b) => a.start - b.start);
  return {
    layout: {
      mmapBase: base,
      mmapLegacyBase: legacyBase,
      startCode: loadBias + PROGRAM_CODE[0],
      endCode: loadBias + PROGRAM_CODE[1],
      startData: loadBias + PROGRAM_DATA[0],
      endData: loadBias + PROGRAM_DATA[1],
      startBrk,
      brk: startBrk,
      startStack,
      argStart,
      argEnd: envStart,
      envStart,
      envEnd,
    },
    vmas,
    prefault,
    aslr: d.s,
  };
}

/** The lowest address the program's own segments use and the end of its .bss (brk may not go below it). */
export const programEnd = (layout: MmLayout): number => layout.startCode - PROGRAM_CODE[0] + PROGRAM_BSS_END;
