// /proc/zoneinfo (mm/vmstat.c zoneinfo_show_print). linux-6.18: every zone of the node, the
// per-node stats under the first populated zone, free pages, watermarks (boost, min, low,
// high, promo), spanned/present/managed, lowmem_reserve as "protection", the zone counters,
// node_unreclaimable and start_pfn. The per-cpu "pagesets" block is left out (no per-cpu
// lists are modelled). linux-2.6.18: populated zones only, with its own fields.
import { unreachable, type KernelProfile } from '../common/index.js';

export const ZONE_STATS_6_18: readonly string[] = [
  'nr_free_pages', 'nr_free_pages_blocks', 'nr_zone_inactive_anon', 'nr_zone_active_anon', 'nr_zone_inactive_file',
  'nr_zone_active_file', 'nr_zone_unevictable', 'nr_zone_write_pending', 'nr_mlock', 'nr_zspages', 'nr_free_cma',
  'numa_hit', 'numa_miss', 'numa_foreign', 'numa_interleave', 'numa_local', 'numa_other',
];

export const NODE_STATS_6_18: readonly string[] = [
  'nr_inactive_anon', 'nr_active_anon', 'nr_inactive_file', 'nr_active_file', 'nr_unevictable',
  'nr_slab_reclaimable', 'nr_slab_unreclaimable', 'nr_isolated_anon', 'nr_isolated_file', 'workingset_nodes',
  'workingset_refault_anon', 'workingset_refault_file', 'workingset_activate_anon', 'workingset_activate_file',
  'workingset_restore_anon', 'workingset_restore_file', 'workingset_nodereclaim', 'nr_anon_pages', 'nr_mapped',
  'nr_file_pages', 'nr_dirty', 'nr_writeback', 'nr_shmem', 'nr_shmem_hugepages', 'nr_shmem_pmdmapped',
  'nr_file_hugepages', 'nr_file_pmdmapped', 'nr_anon_transparent_hugepages', 'nr_vmscan_write',
  'nr_vmscan_immediate_reclaim', 'nr_dirtied', 'nr_written', 'nr_throttled_written',
  'nr_kernel_misc_reclaimable', 'nr_foll_pin_acquired', 'nr_foll_pin_released', 'nr_kernel_stack',
  'nr_page_table_pages', 'nr_sec_page_table_pages', 'nr_iommu_pages', 'nr_swapcached', 'pgpromote_success',
  'pgpromote_candidate', 'pgpromote_candidate_nrl', 'pgdemote_kswapd', 'pgdemote_direct',
  'pgdemote_khugepaged', 'pgdemote_proactive', 'nr_hugetlb', 'nr_balloon_pages', 'nr_kernel_file_pages',
];

export const ZONE_STATS_2_6_18: readonly string[] = [
  'nr_anon_pages', 'nr_mapped', 'nr_file_pages', 'nr_slab', 'nr_page_table_pages', 'nr_dirty', 'nr_writeback',
  'nr_unstable', 'nr_bounce', 'numa_hit', 'numa_miss', 'numa_foreign', 'numa_interleave', 'numa_local', 'numa_other',
];

export interface ZoneinfoZone {
  readonly name: string;
  readonly startPfn: number;
  readonly spanned: number;
  readonly present: number;
  readonly managed: number;
  readonly free: number;
  readonly boost: number;
  readonly min: number;
  readonly low: number;
  readonly high: number;
  readonly promo: number;
  readonly cma: number;
  readonly protection: readonly number[];
  /** Zone counters by name (missing: 0). */
  readonly stats: Readonly<Record<string, number>>;
  /** 2.6.18: pages on the zone's active and inactive lists. */
  readonly active: number;
  readonly inactive: number;
}

export interface ZoneinfoInput {
  readonly node: number;
  readonly zones: readonly ZoneinfoZone[];
  /** Per-node counters by name (6.18). */
  readonly nodeStats: Readonly<Record<string, number>>;
  /** kswapd_failures >= MAX_RECLAIM_RETRIES. */
  readonly nodeUnreclaimable: boolean;
}

const stat = (name: string, v: number, indent: string): string => `\n${indent}${name.padEnd(12)} ${v}`;

function render618(inp: ZoneinfoInput): string {
  let out = '';
  let first = true;
  for (const z of inp.zones) {
    out += `Node ${inp.node}, zone ${z.name.padStart(8)}`;
    const populated = z.present > 0;
    if (populated && first) {
      first = false;
      out += '\n  per-node stats';
      for (const n of NODE_STATS_6_18) out += stat(n, inp.nodeStats[n] ?? 0, '      ');
    }
    out += `\n  pages free     ${z.free}`;
    for (const [label, v] of [['boost', z.boost], ['min', z.min], ['low', z.low], ['high', z.high], ['promo', z.promo],
      ['spanned', z.spanned], ['present', z.present], ['managed', z.managed], ['cma', z.cma]] as const) {
      out += `\n        ${label.padEnd(8)} ${v}`;
    }
    out += `\n        protection: (${z.protection.join(', ')})`;
    if (!populated) {
      out += '\n';
      continue;
    }
    for (const n of ZONE_STATS_6_18) out += stat(n, z.stats[n] ?? 0, '      ');
    out += `\n  node_unreclaimable:  ${inp.nodeUnreclaimable ? 1 : 0}`;
    out += `\n  start_pfn:           ${z.startPfn}\n`;
  }
  return out;
}

function render2618(inp: ZoneinfoInput): string {
  let out = '';
  for (const z of inp.zones) {
    if (z.present === 0) continue;
    out += `Node ${inp.node}, zone ${z.name.padStart(8)}`;
    out += `\n  pages free     ${z.free}\n        min      ${z.min}\n        low      ${z.low}\n        high     ${z.high}`;
    out += `\n        active   ${z.active}\n        inactive ${z.inactive}\n        scanned  0 (a: 0 i: 0)`;
    out += `\n        spanned  ${z.spanned}\n        present  ${z.present}`;
    for (const n of ZONE_STATS_2_6_18) out += stat(n, z.stats[n] ?? 0, '    ');
    out += `\n        protection: (${z.protection.join(', ')})`;
    out += '\n  pagesets';
    out += `\n  all_unreclaimable: ${inp.nodeUnreclaimable ? 1 : 0}\n  prev_priority:     12\n  start_pfn:         ${z.startPfn}\n`;
  }
  return out;
}

export function renderZoneinfo(input: ZoneinfoInput, profile: KernelProfile): string {
  switch (profile) {
    case 'linux-6.18':
      return render618(input);
    case 'linux-2.6.18':
      return render2618(input);
    default:
      return unreachable(profile, 'kernel profile');
  }
}
