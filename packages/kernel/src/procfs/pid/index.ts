// Per-process /proc files rendered from vm state: status, maps, smaps_rollup, stat,
// oom_score_adj, oom_adj. (oom_score is oom's: it needs badness.)
export { renderStatus, taskMem, capMask, sigPendingLimit, cpuMask } from './status.js';
export { renderMaps, mapsLines, formatMapsLine, vmaName, isHeap, isStack, type MapsLine } from './maps.js';
export { renderSmapsRollup, smapsTotals, type SmapsTotals } from './smaps-rollup.js';
export { renderStat } from './stat.js';
export { renderOomScoreAdj, renderOomAdj } from './oom-adj.js';
