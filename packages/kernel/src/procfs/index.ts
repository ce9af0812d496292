// procfs: /proc text renderers. Pure functions of plain input structs; the *Input helpers
// build those structs from frames' state and vm's figures.
export { renderMeminfo, siMemAvailable, cachedPages, procLine } from './meminfo.js';
export type { MeminfoInput } from './meminfo.js';
export { renderBuddyinfo } from './buddyinfo.js';
export type { BuddyinfoZone } from './buddyinfo.js';
export { renderVmstat, vmstatNames, VMSTAT_6_18, VMSTAT_2_6_18 } from './vmstat.js';
export { renderZoneinfo, ZONE_STATS_6_18, NODE_STATS_6_18, ZONE_STATS_2_6_18 } from './zoneinfo.js';
export type { ZoneinfoInput, ZoneinfoZone } from './zoneinfo.js';
export {
  meminfoInput, vmstatValues, zoneinfoInput, buddyinfoZones, commitLimitPages, directMap, freeInBlocks, VMALLOC_TOTAL_KIB,
} from './machine-figures.js';
export type { VmFigures } from './machine-figures.js';
