import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { prngStream } from '../common/index.js';
import { ELF_ET_DYN_BASE, RLIM_INFINITY, STACK_TOP, TASK_SIZE } from './constants.js';
import { execLayout, LD_SO, LIBC, mmapBase, PROGRAM_SEGMENTS } from './layout.js';
import { vmStat } from './vma-list.js';

const input = (seed: number, extra: Partial<Parameters<typeof execLayout>[0]> = {}) => ({
  aslr: prngStream(seed, 'aslr'),
  stackRlimit: 8 << 20,
  programFile: 3,
  ldsoFile: 1,
  libcFile: 2,
  argv: ['sleep', '100'],
  env: ['HOME=/root', 'PATH=/usr/bin:/bin'],
  execfn: '/usr/bin/sleep',
  ...extra,
});

describe('x86-64 layout constants (arch/x86)', () => {
  it('47-bit user space, ELF_ET_DYN_BASE = DEFAULT_MAP_WINDOW / 3 * 2', () => {
    expect(TASK_SIZE).toBe(0x7ffffffff000);
    expect(ELF_ET_DYN_BASE).toBe(0x555555554aaa);
  });
  it('mmap_base leaves the stack rlimit + 16 GiB of stack randomization + the 1 MiB guard gap below the stack', () => {
    // gap = 8 MiB + 0x3fffff pages + 256 pages = 0x4008ff000
    expect(mmapBase(0, 8 << 20)).toBe(0x7ffffffff000 - 0x4008ff000);
    expect(mmapBase(0x1000, 8 << 20)).toBe(0x7ffffffff000 - 0x4008ff000 - 0x1000);
    // An unlimited stack rlimit cannot be padded (it would overflow): the gap is clamped to TASK_SIZE/6*5.
    expect(mmapBase(0, RLIM_INFINITY)).toBe(Math.ceil((TASK_SIZE - Math.floor(TASK_SIZE / 6) * 5) / 4096) * 4096);
  });
});

describe('execLayout: a small dynamically linked program', () => {
  const ex = execLayout(input(7));
  const files = (f: number) => ex.vmas.filter((v) => v.kind === 'file' && v.file === f);

  it('puts the PIE at ELF_ET_DYN_BASE + up to 2^28 pages, the stack up to 16 GiB below STACK_TOP, the break up to 1 GiB above .bss', () => {
    const pie = files(3)[0].start;
    expect(pie).toBeGreaterThanOrEqual(0x555555554000);
    expect(pie).toBeLessThan(0x555555554000 + 2 ** 28 * 4096);
    const stack = ex.vmas.find((v) => v.flags & 0x100)!;
    expect(stack.end).toBeLessThanOrEqual(STACK_TOP);
    expect(stack.end).toBeGreaterThan(STACK_TOP - 0x400000 * 4096);
    expect(ex.layout.startBrk).toBeGreaterThanOrEqual(pie + 0xb000);
    expect(ex.layout.startBrk).toBeLessThan(pie + 0xb000 + 2 ** 30);
    expect(ex.layout.brk).toBe(ex.layout.startBrk);
  });

  it('maps ld.so top-down right below mmap_base, the vdso right below it, libc below that', () => {
    const ld = files(1);
    expect(ld[ld.length - 1].end).toBe(ex.layout.mmapBase);
    const vdso = ex.vmas.filter((v) => v.kind === 'special');
    expect(vdso.map((v) => v.name)).toEqual(['[vvar]', '[vvar_vclock]', '[vdso]']);
    expect(vdso[2].end).toBe(ld[0].start);
    const libc = files(2);
    expect(libc[0].start).toBeLessThan(vdso[0].start);
  });

  it('gives the stack VMA the argument pages plus 128 KiB (fs/exec.c setup_arg_pages)', () => {
    const stack = ex.vmas.find((v) => v.flags & 0x100)!;
    expect(stack.end - stack.start).toBe(4096 + 131072);
    expect(ex.layout.startStack).toBeLessThan(ex.layout.argStart);
    expect(ex.layout.argEnd - ex.layout.argStart).toBe('sleep'.length + 1 + '100'.length + 1);
    expect(ex.layout.envEnd - ex.layout.envStart).toBe('HOME=/root'.length + 1 + 'PATH=/usr/bin:/bin'.length + 1);
    // env_end is below the execfn string and the final NULL pointer.
    expect(stack.end - ex.layout.envEnd).toBe(8 + '/usr/bin/sleep'.length + 1);
  });

  it('charges the writable private mappings and the stack (Committed_AS)', () => {
    // data+relro: program 2 pages, ld.so 4, libc 6; anonymous: libc .bss 13, ld.so 2, TLS 3; stack 33.
    expect(vmStat(ex.vmas).accounted).toBe(2 + 4 + 6 + 13 + 2 + 3 + 33);
  });

  it('is the same for the same seed, different for another', () => {
    expect(execLayout(input(7))).toEqual(ex);
    const other = execLayout(input(8));
    expect(other.layout.mmapBase).not.toBe(ex.layout.mmapBase);
    expect(other.layout.startBrk).not.toBe(ex.layout.startBrk);
  });

  it('takes a given initial break (a recorded trace replays at its heap_base)', () => {
    expect(execLayout(input(7, { brkStart: 0x55f1d824f000 })).layout.startBrk).toBe(0x55f1d824f000);
  });
});

// The segment table comes from this machine's coreutils sleep, ld.so and libc (Debian 12): check
// it against a real process's /proc/<pid>/maps when the same files are installed.
const sleepBin = '/usr/bin/sleep';
const realFilesMatch = existsSync('/proc/self/maps') && existsSync(sleepBin) && existsSync(LIBC.path) && existsSync(LD_SO.path);

describe.skipIf(!realFilesMatch)('execLayout against a real sleep on this machine', () => {
  it('has the same segments (size, permissions, file offset) for the program, ld.so and libc', async () => {
    const child = spawn(sleepBin, ['30']);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const maps = readFileSync(`/proc/${child.pid}/maps`, 'utf8').trim().split('\n');
      const segs = (path: string) =>
        maps
          .filter((l) => l.endsWith(path))
          .map((l) => {
            const [range, perms, off] = l.split(/\s+/);
            const [a, b] = range.split('-').map((x) => parseInt(x, 16));
            return [b - a, perms, parseInt(off, 16)];
          });
      const ours = (list: readonly { offset: number; length: number; prot: string }[]) =>
        list.map((s) => [s.length, s.prot === 'rx' ? 'r-xp' : s.prot === 'rw' ? 'rw-p' : 'r--p', s.offset]);
      const real = { libc: segs(LIBC.path), ld: segs(LD_SO.path), prog: segs(sleepBin) };
      // Other builds of the same files: skip rather than fail.
      if (JSON.stringify(real.libc) !== JSON.stringify(ours(LIBC.segments))) return;
      expect(real.ld).toEqual(ours(LD_SO.segments));
      expect(real.prog).toEqual(ours(PROGRAM_SEGMENTS));
    } finally {
      child.kill();
    }
  });
});
