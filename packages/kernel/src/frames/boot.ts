// Bringing a machine's memory up: the frame table, the reserved ranges, the root memcg, the
// swap device, the free lists (memblock_free_all) and the watermarks (init_per_zone_wmark_min).
import type { MachineConfig } from '../machine/config.js';
import { NR_PAGE_ORDERS } from './constants.js';
import {
  CTR_SIZE, S_MIN_FREE_KBYTES, S_SWAPPINESS, S_USER_MIN_FREE_KBYTES, S_WSF, SW_CURSOR, SW_FREE, SW_TOTAL, TOTALRESERVE,
  ZF_RESERVE, ZF_WHIGH, ZF_WLOW, ZF_WMIN, ZF_WPROMO, ZS, Z0,
} from './counters.js';
import { freeRangeAtBoot } from './buddy.js';
import { ST_RESERVED } from './frame-word.js';
import { computeLayout, validateRam, LOW_RAM_END_PFN, DMA_END_PFN } from './layout.js';
import { createMemcg, UNLIMITED } from './memcg.js';
import type { FramesState } from './state.js';
import { defaultMinFreeKbytes, lowmemReserve, setupWatermarks, totalReservePages } from './watermarks.js';

export function bootMachine(s: FramesState, config: MachineConfig): void {
  validateRam(config.ramBytes, config.swapBytes);
  const layout = computeLayout(config.ramBytes, config.profile);
  const n = layout.nFrames;
  s.booted = true;
  s.profile = config.profile;
  s.config = config;
  s.layout = layout;
  s.nFrames = n;
  s.nZones = layout.zones.length;
  s.z1 = DMA_END_PFN;
  s.z2 = Math.min(n, LOW_RAM_END_PFN);
  s.word = new Uint32Array(n);
  s.index = new Uint32Array(n);
  s.next = new Int32Array(n);
  s.prev = new Int32Array(n);
  s.freeHead = new Int32Array(5 * NR_PAGE_ORDERS).fill(-1);
  s.ctr = new Float64Array(CTR_SIZE);
  const slots = config.swapBytes / 4096;
  s.swapMap = new Uint16Array(slots);
  s.swapCgroup = new Uint16Array(slots);
  s.refreshArrays();

  for (const r of [...layout.holes, ...layout.reserved]) for (let i = r.start; i < r.end; i++) s.setWord(i, ST_RESERVED);

  createMemcg(s, 0, -1, UNLIMITED);
  s.ctr[SW_TOTAL] = Math.max(0, slots - 1);
  s.ctr[SW_FREE] = s.ctr[SW_TOTAL];
  s.ctr[SW_CURSOR] = 1;
  s.ctr[S_SWAPPINESS] = config.sysctl.swappiness;
  s.ctr[S_WSF] = config.sysctl.watermark_scale_factor;
  s.ctr[S_USER_MIN_FREE_KBYTES] = config.sysctl.min_free_kbytes >= 0 ? config.sysctl.min_free_kbytes : -1;

  for (const r of layout.free) freeRangeAtBoot(s, r.start, r.end);
  setupZoneWatermarks(s);
}

/** init_per_zone_wmark_min() / setup_per_zone_wmarks() + setup_per_zone_lowmem_reserve(), into ctr. */
export function setupZoneWatermarks(s: FramesState): void {
  const zones = s.layout?.zones ?? [];
  const pages = zones.map((z) => (s.profile === 'linux-2.6.18' ? z.present : z.managed));
  const user = s.ctr[S_USER_MIN_FREE_KBYTES];
  const minFree = user >= 0 ? user : defaultMinFreeKbytes(s.profile, pages);
  s.ctr[S_MIN_FREE_KBYTES] = minFree;
  const wm = setupWatermarks({ profile: s.profile, pages, minFreeKbytes: minFree, watermarkScaleFactor: s.ctr[S_WSF] });
  const reserve = lowmemReserve(s.profile, pages);
  zones.forEach((_z, k) => {
    const b = Z0 + k * ZS;
    s.ctr[b + ZF_WMIN] = wm[k].min;
    s.ctr[b + ZF_WLOW] = wm[k].low;
    s.ctr[b + ZF_WHIGH] = wm[k].high;
    s.ctr[b + ZF_WPROMO] = wm[k].promo;
    for (let j = 0; j < reserve[k].length; j++) s.ctr[b + ZF_RESERVE + j] = reserve[k][j];
  });
  s.ctr[TOTALRESERVE] = totalReservePages(pages, wm, reserve);
}
