// @mmsim/service-heap: every process's glibc 2.36 allocator, over gRPC and the bus.
export { createHeapService, SWEEP_EVERY, type HeapHost, type HeapService, type HeapServiceOptions, type HeapCall } from './heap-service.js';
export { heapResult, processEnded } from './results.js';
export { commandOf } from './grpc/heap-grpc.js';
