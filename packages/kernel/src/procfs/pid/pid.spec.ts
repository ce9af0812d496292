// The per-process /proc files: exact line formats (fixtures are lines this 6.18 machine printed)
// and, when a real Linux /proc is there, a field-by-field comparison with a real `sleep`.
import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { vm } from '../../vm/aggregate.js';
import { TestMachine } from '../../vm/testing.js';
import { formatMapsLine, renderMaps, renderSmapsRollup, renderStat, renderStatus } from './index.js';
import { cpuMask, sigPendingLimit } from './status.js';

describe('maps line format (show_map_vma)', () => {
  it('pads the name to column 73, keeps the trailing space of anonymous lines', () => {
    // Lines copied from /proc/<pid>/maps of a sleep on Linux 6.18.
    expect(formatMapsLine({ start: 0x55bc9b51b000, end: 0x55bc9b51d000, perms: 'r--p', offset: 0, dev: 0xfe00, inode: 260875, name: '/usr/bin/sleep' })).toBe(
      '55bc9b51b000-55bc9b51d000 r--p 00000000 fe:00 260875                     /usr/bin/sleep',
    );
    expect(formatMapsLine({ start: 0x7fe67a0af000, end: 0x7fe67a0b1000, perms: 'rw-p', offset: 0x1d3000, dev: 0xfe00, inode: 339380, name: '/usr/lib/x86_64-linux-gnu/libc.so.6' })).toBe(
      '7fe67a0af000-7fe67a0b1000 rw-p 001d3000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6',
    );
    expect(formatMapsLine({ start: 0x7fe679ed9000, end: 0x7fe679edc000, perms: 'rw-p', offset: 0, dev: 0, inode: 0, name: '' })).toBe('7fe679ed9000-7fe679edc000 rw-p 00000000 00:00 0 ');
    expect(formatMapsLine({ start: 0xffffffffff600000, end: 0xffffffffff601000, perms: '--xp', offset: 0, dev: 0, inode: 0, name: '[vsyscall]' })).toBe(
      'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
    );
    expect(formatMapsLine({ start: 0x7f2f0d85a000, end: 0x7f2f0d95a000, perms: 'rw-s', offset: 0, dev: 1, inode: 1081, name: '/dev/zero (deleted)' })).toBe(
      '7f2f0d85a000-7f2f0d95a000 rw-s 00000000 00:01 1081                       /dev/zero (deleted)',
    );
  });
});

describe('status helpers', () => {
  it('SigQ limit is max_threads / 2 (fork_init: RAM / (8 * 16 KiB))', () => {
    // This machine shows SigQ 0/96364: max_threads 192728, i.e. totalram 6167296..6167327 pages at boot.
    expect(sigPendingLimit(6167296)).toBe(96364);
    expect(sigPendingLimit(6167296 - 32)).toBe(96363);
  });
  it('Cpus_allowed is a %*pb mask', () => {
    expect(cpuMask(2)).toBe('3');
    expect(cpuMask(8)).toBe('ff');
    expect(cpuMask(36)).toBe('f,ffffffff');
  });
});

describe('a simulated process', () => {
  const t = new TestMachine(vm, 65536);
  const pid = t.spawn('sleep', { argv: ['sleep', '100'] });
  const brk = t.sys(pid, { nr: 'brk', addr: 0 });
  t.sys(pid, { nr: 'brk', addr: brk + 0x21000 });
  t.touch(pid, [{ addr: brk, length: 4 * 4096 }]);

  it('maps shows [heap], [stack], the vdso parts and [vsyscall] last', () => {
    const names = renderMaps(t.state, pid)
      .trim()
      .split('\n')
      .map((l) => l.slice(73));
    expect(names).toContain('[heap]');
    expect(names).toContain('[stack]');
    expect(names.filter((n) => n.startsWith('[v'))).toEqual(['[vvar]', '[vvar_vclock]', '[vdso]', '[vsyscall]']);
    expect(names.at(-1)).toBe('[vsyscall]');
  });

  it('status: VmRSS = RssAnon + RssFile + RssShmem; VmPTE counts the page-table pages', () => {
    const st = Object.fromEntries(
      renderStatus(t.state, pid)
        .trim()
        .split('\n')
        .map((l) => l.split(':\t')),
    );
    const kb = (k: string) => parseInt(st[k], 10);
    expect(kb('VmRSS')).toBe(kb('RssAnon') + kb('RssFile') + kb('RssShmem'));
    const mm = t.mm(pid);
    expect(kb('VmPTE')).toBe((mm.ptePages + mm.pmdPages + mm.pudPages) * 4);
    expect(kb('VmExe')).toBe(20); // the program's text: end_code - start_code rounded to pages
    expect(kb('VmStk')).toBe(132);
  });
});

const haveProc = existsSync('/proc/self/status') && existsSync('/usr/bin/sleep') && process.platform === 'linux';

describe.skipIf(!haveProc)('against a real sleep on this machine', () => {
  async function real(): Promise<{ status: string; maps: string; stat: string; rollup: string }> {
    const child = spawn('/usr/bin/sleep', ['30']);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const f = (n: string) => readFileSync(`/proc/${child.pid}/${n}`, 'utf8');
      return { status: f('status'), maps: f('maps'), stat: f('stat'), rollup: f('smaps_rollup') };
    } finally {
      child.kill();
    }
  }
  const cpus = availableParallelism();
  const t = new TestMachine(vm, 65536);
  t.state.machine = { ...t.state.machine!, cpus };
  const pid = t.spawn('sleep', { argv: ['sleep', '30'] });
  const brk = t.sys(pid, { nr: 'brk', addr: 0 });
  t.sys(pid, { nr: 'brk', addr: brk + 0x21000 });
  t.touch(pid, [{ addr: brk, length: 4 * 4096 }]);

  /** What kind of value a line holds, so lines can be compared where the numbers differ. */
  const shape = (v: string): string =>
    v
      .replace(/[0-9a-f]{16}/g, 'H16')
      .replace(/\d+/g, 'N')
      .replace(/N-N/g, 'N');

  it('status: the same fields, in the same order, with the same widths and constant values', async () => {
    const r = (await real()).status.trimEnd().split('\n');
    const s = renderStatus(t.state, pid).trimEnd().split('\n');
    expect(s.map((l) => l.split(':')[0])).toEqual(r.map((l) => l.split(':')[0]));
    const constant = new Set(['Umask', 'Ngid', 'TracerPid', 'Groups', 'Kthread', 'VmPin', 'HugetlbPages', 'CoreDumping', 'THP_enabled', 'untag_mask', 'SigPnd', 'ShdPnd', 'CapInh', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters', 'Speculation_Store_Bypass', 'SpeculationIndirectBranch', 'Cpus_allowed', 'Cpus_allowed_list', 'Mems_allowed', 'Mems_allowed_list']);
    for (let i = 0; i < r.length; i++) {
      const [label, rv] = r[i].split(':\t');
      const sv = s[i].split(':\t')[1];
      if (constant.has(label)) expect(`${label}: ${sv}`).toBe(`${label}: ${rv}`);
      else expect(`${label}: ${shape(sv)}`).toBe(`${label}: ${shape(rv)}`);
      if (/^(Vm|Rss|Huge)/.test(label)) {
        expect(rv).toMatch(/^[ \d]{8} kB$/);
        expect(sv).toMatch(/^[ \d]{8} kB$/);
      }
    }
    // The memory lines are "%8lu kB".
    for (const l of s.filter((x) => /^(Vm|Rss)/.test(x))) expect(l.split(':\t')[1]).toMatch(/^[ \d]{8} kB$/);
  });

  it('maps: every line has the kernel layout; the same mappings as the real one, up to the locale files', async () => {
    const r = (await real()).maps.trimEnd().split('\n');
    const s = renderMaps(t.state, pid).trimEnd().split('\n');
    const layout = /^[0-9a-f]{8,16}-[0-9a-f]{8,16} [r-][w-][x-][ps] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+ ( {0,80}\S.*)?$/;
    for (const l of [...r, ...s]) {
      expect(l).toMatch(layout);
      if (l.length > 73 && l[72] === ' ' && l[73] !== ' ') expect(l.slice(0, 73).trimEnd().length).toBeLessThan(73);
    }
    const named = (lines: string[]) => lines.map((l) => (l.length > 73 ? l.slice(73) : '')).filter((n) => !n.includes('/locale/') && !n.includes('gconv'));
    const sim = named(s).map((n) => n.replace('/usr/bin/sleep', 'PROG'));
    const real_ = named(r).map((n) => n.replace('/usr/bin/sleep', 'PROG'));
    // Anonymous mappings made by the real sleep's setlocale() are absent in the model.
    expect(sim.filter((n) => n)).toEqual(real_.filter((n) => n));
  });

  it('stat: 52 fields, numeric where the kernel prints numbers, the constants the same', async () => {
    const parse = (x: string) => {
      const i = x.lastIndexOf(')');
      return [x.slice(0, x.indexOf(' ')), x.slice(x.indexOf('(') + 1, i), ...x.slice(i + 2).trim().split(' ')];
    };
    const r = parse((await real()).stat);
    const s = parse(renderStat(t.state, pid));
    expect(s).toHaveLength(52);
    expect(r).toHaveLength(52);
    for (const i of [6, 7, 8, 16, 17, 18, 20, 24, 37]) expect(`${i}: ${s[i]}`).toBe(`${i}: ${r[i]}`); // tty, tpgid, flags, priority..., rsslim, exit_signal
    for (let i = 3; i < 52; i++) expect(s[i]).toMatch(/^-?\d+$/);
  });

  it('smaps_rollup: the same lines with the same widths', async () => {
    const r = (await real()).rollup.trimEnd().split('\n');
    const s = renderSmapsRollup(t.state, pid).trimEnd().split('\n');
    expect(s.slice(1).map((l) => l.split(':')[0])).toEqual(r.slice(1).map((l) => l.split(':')[0]));
    // The header: both ranges have 12 hex digits here, so the rest of the line must be identical.
    expect(s[0].slice(25)).toBe(r[0].slice(25));
    for (const l of [...r.slice(1), ...s.slice(1)]) {
      expect(l).toMatch(/^[A-Za-z_]+:\s+\d+ kB$/);
      expect(l.indexOf(' kB')).toBe(24);
    }
  });
});
