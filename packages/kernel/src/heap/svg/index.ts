// The heap map: an SVG drawing of one process's heap, to scale, chunks coloured by state.
export { renderHeapSvg, formatBytes, KIND_STYLES } from './render.js';
export { layoutHeap, type Layout, type Piece, type PieceKind } from './layout.js';
export { CHUNK_KINDS, type ChunkKind, type HeapMap, type HeapSvgOptions, type MapChunk, type MapRegion, type RegionKind } from './types.js';
