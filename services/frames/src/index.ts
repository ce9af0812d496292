// @mmsim/service-frames: physical memory (zones, buddy, page cache, LRU, reclaim, swap, memcg charges).
export { createFramesService, type FramesHost, type FramesService, type FramesServiceOptions } from './frames-service.js';
export { FRAMES_PROC_FILES, framesProcFile, renderFramesProc } from './proc.js';
