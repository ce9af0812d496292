import { describe, expect, it } from 'vitest';
import { bootFrames, handleFrames } from '../frames/host.js';
import { GiB, MiB, machine } from '../frames/spec-machines.js';
import { renderBuddyinfo } from './buddyinfo.js';
import { buddyinfoZones, meminfoInput, vmstatValues, zoneinfoInput } from './machine-figures.js';
import { renderMeminfo } from './meminfo.js';
import { renderVmstat, VMSTAT_2_6_18, VMSTAT_6_18 } from './vmstat.js';
import { renderZoneinfo, type ZoneinfoZone } from './zoneinfo.js';

describe('/proc/buddyinfo', () => {
  it('prints populated zones as a 6.18 kernel does ("%8s " name, "%6lu " per order)', () => {
    // The DMA line of a real 6.18 guest: managed pfns 256..4095 are free as blocks of order 8, 9 and three of 10.
    const out = renderBuddyinfo([
      { name: 'DMA', present: 3998, nrFree: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3] },
      { name: 'Movable', present: 0, nrFree: new Array(11).fill(0) },
    ]);
    expect(out).toBe('Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n');
  });

  it('a booted 1 GiB machine: DMA as above, DMA32 all in order-10 blocks', () => {
    expect(renderBuddyinfo(buddyinfoZones(bootFrames(machine(GiB))))).toBe(
      'Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n'
      + 'Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0      0    236 \n',
    );
  });
});

const zone = (over: Partial<ZoneinfoZone>): ZoneinfoZone => ({
  name: 'Movable', startPfn: 0, spanned: 0, present: 0, managed: 0, free: 0, boost: 0, min: 32, low: 32, high: 32, promo: 32,
  cma: 0, protection: [0, 0, 0, 0, 0], stats: {}, active: 0, inactive: 0, ...over,
});

describe('/proc/zoneinfo', () => {
  it('an unpopulated zone stops after protection, as 6.18 prints the empty Movable zone', () => {
    const out = renderZoneinfo({ node: 0, zones: [zone({})], nodeStats: {}, nodeUnreclaimable: false }, 'linux-6.18');
    expect(out).toBe('Node 0, zone  Movable\n  pages free     0\n        boost    0\n        min      32\n        low      32\n'
      + '        high     32\n        promo    32\n        spanned  0\n        present  0\n        managed  0\n        cma      0\n'
      + '        protection: (0, 0, 0, 0, 0)\n');
  });

  it('a populated zone: per-node stats under the first, watermarks, counters, start_pfn', () => {
    const s = bootFrames(machine(GiB));
    const out = renderZoneinfo(zoneinfoInput(s), 'linux-6.18');
    const dma = out.slice(0, out.indexOf('Node 0, zone    DMA32'));
    expect(dma.startsWith('Node 0, zone      DMA\n  per-node stats\n      nr_inactive_anon 0\n')).toBe(true);
    expect(dma).toContain('\n  pages free     3840\n        boost    0\n        min      15\n        low      18\n        high     21\n        promo    24\n'
      + '        spanned  4095\n        present  3998\n        managed  3840\n        cma      0\n        protection: (0, 944, 944, 944, 944)\n'
      + '      nr_free_pages 3840\n      nr_free_pages_blocks 3584\n');
    expect(dma.endsWith('      numa_other   0\n  node_unreclaimable:  0\n  start_pfn:           1\n')).toBe(true);
    const dma32 = out.slice(out.indexOf('Node 0, zone    DMA32'));
    expect(dma32).not.toContain('per-node stats');
    // Normal, Movable and Device are empty on a 1 GiB machine: 5 zone headers in all.
    expect(out.match(/^Node 0, zone/gm)?.length).toBe(5);
  });

  it('2.6.18: populated zones only, with active/inactive/scanned and all_unreclaimable', () => {
    const s = bootFrames(machine(GiB, 0, 'linux-2.6.18'));
    handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 5 }], memcg: 0, allowReclaim: true });
    const out = renderZoneinfo(zoneinfoInput(s), 'linux-2.6.18');
    expect(out.match(/^Node 0, zone/gm)?.length).toBe(2);
    expect(out).toContain('Node 0, zone    DMA32\n  pages free     241659\n');
    expect(out).toContain('\n        active   5\n        inactive 0\n        scanned  0 (a: 0 i: 0)\n        spanned  258048\n        present  258048\n    nr_anon_pages 5\n');
    expect(out).toContain('\n  pagesets\n  all_unreclaimable: 0\n  prev_priority:     12\n  start_pfn:         4096\n');
  });
});

describe('/proc/vmstat', () => {
  it('6.18: every counter of a 6.18 kernel in its order (192); 2.6.18: 51', () => {
    const s = bootFrames(machine(GiB));
    const out = renderVmstat(vmstatValues(s), 'linux-6.18').trim().split('\n');
    expect(out.length).toBe(192);
    expect(out.map((l) => l.split(' ')[0])).toEqual(VMSTAT_6_18);
    expect(VMSTAT_2_6_18.length).toBe(51);
  });

  it('counts what happened: allocations, frees, faults vm passes in, swap traffic', () => {
    const s = bootFrames(machine(128 * MiB, 64 * MiB));
    handleFrames(s, { type: 'SetMemcgLimit', memcg: 5, maxPages: 4, parent: 0 });
    handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index: 0, count: 5 }], memcg: 5, allowReclaim: true });
    const v = vmstatValues(s, { pgfault: 42, pgmajfault: 3 });
    // 5 pages allocated from DMA32; the 5th needed memcg reclaim, which wrote all 4 to swap.
    expect([v.pgalloc_dma32, v.pgfree, v.pswpout, v.pgpgout, v.nr_anon_pages, v.nr_inactive_anon]).toEqual([5, 4, 4, 16, 1, 1]);
    expect([v.pgscan_direct, v.pgsteal_direct, v.pgsteal_anon, v.numa_hit, v.pgfault, v.pgmajfault]).toEqual([4, 4, 4, 5, 42, 3]);
    const text = renderVmstat(v, 'linux-6.18');
    expect(text).toContain('\npswpout 4\n');
    expect(text).toContain('\npgfault 42\n');
    expect(text.endsWith('nr_unstable 0\n')).toBe(true);
  });

  it('nr_dirty_threshold: 20% of dirtyable memory as domain_dirty_limits computes it (819/4096)', () => {
    const s = bootFrames(machine(GiB));
    const v = vmstatValues(s);
    // dirtyable = free - totalreserve + file pages + 1 = 245504 - 2425 + 0 + 1 = 243080.
    expect(v.nr_dirty_threshold).toBe(Math.floor((819 * 243080) / 4096));
    expect(v.nr_dirty_background_threshold).toBe(Math.floor((409 * 243080) / 4096));
  });
});

describe('meminfoInput', () => {
  it('a machine\'s own figures: MemTotal from the layout, Cached with shmem, CommitLimit from overcommit_ratio', () => {
    const s = bootFrames(machine(GiB, 64 * MiB));
    handleFrames(s, { type: 'GetFilePage', file: 1, index: 0, memcg: 0 });
    handleFrames(s, { type: 'GetFilePage', file: 2, index: 0, memcg: 0, kind: 'shmem' });
    handleFrames(s, { type: 'GetFilePage', file: 3, index: 0, memcg: 0, kind: 'bdev' });
    const out = renderMeminfo(meminfoInput(s, { committedAsPages: 1000, mappedPages: 1 }), 'linux-6.18');
    expect(out).toContain('MemTotal:         982016 kB\n');
    expect(out).toContain('Buffers:               4 kB\nCached:                8 kB\n');
    expect(out).toContain('Shmem:                 4 kB\n');
    // (245504 pages * 50 / 100) + 16383 swap pages = 139135 pages.
    expect(out).toContain('CommitLimit:      556540 kB\nCommitted_AS:       4000 kB\n');
    expect(out).toContain('SwapTotal:         65532 kB\n');
  });
});
