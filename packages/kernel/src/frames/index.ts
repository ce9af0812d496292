// frames: physical memory of one machine (zones, buddy allocator, watermarks, page cache, LRU,
// reclaim, swap, memcg charges). Public surface.
export { frames, decide, evolve, stateHash, FramesDivergence, ownerRuns, sameData } from './aggregate.js';
export { answerOf, totals, framesFigures, memcgFigures, frameTableBytes, expandEvicted, totalRamPages, queryFrames, isFramesQuery, zoneCensus } from './answer.js';
export type { FramesFigures, ZoneFigures, MemcgFigures, FramesQuery, ZoneCensus } from './answer.js';
export { FramesState } from './state.js';
export { computeLayout, pfnOfIdx, idxOfPfn, totalManaged, totalPresent } from './layout.js';
export type { Layout, ZoneLayout } from './layout.js';
export { defaultMinFreeKbytes, setupWatermarks, lowmemReserve, totalReservePages, inactiveIsLow, multFrac } from './watermarks.js';
export type { ZoneWatermarks } from './watermarks.js';
export { KERNEL_PAGE_KINDS, ZONE_MODELS, MAX_PAGE_ORDER, NR_PAGE_ORDERS } from './constants.js';
export { MEMCG_EVENTS } from './counters.js';
export { expandPfnRuns, toPfnRuns } from './runs.js';
export * from './types.js';
export { handleFrames, bootFrames } from './host.js';
export type { Handled } from './host.js';
