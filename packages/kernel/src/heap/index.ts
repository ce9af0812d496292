// heap: glibc 2.36 ptmalloc, exact to the address. Public surface: the aggregate, the
// allocator per process, inspection, heaptrace v1, the SVG map.
export * from './aggregate/index.js';
export { Ptmalloc } from './ptmalloc.js';
export { inspectHeap, toHeapMap, type HeapInspection, type ArenaView, type BinView, type ChunkView, type ChunkKind, type MmappedChunkView, type TcacheView, type TunablesView, type HeapRegionView } from './inspect.js';
export { parseTrace, formatTrace, formatCall, TraceParseError } from './trace/parse.js';
export { replayTrace, prepareReplay, type ReplayOptions as TraceReplayOptions, type ReplayResult as TraceReplayResult, type PreparedReplay } from './trace/replay.js';
export { compareTraces, type TraceComparison } from './trace/compare.js';
export { LocalSys, type LocalSysOptions } from './trace/local-sys.js';
export { runHeapProgram, type HeapProgramOptions, type HeapProgramRun } from './trace/heapprog.js';
export type { ParsedTrace, TraceMallinfo2, TraceResident } from './trace/types.js';
export { renderHeapSvg, type HeapSvgOptions, type HeapMap } from './svg/index.js';
