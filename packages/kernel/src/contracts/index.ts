export * from './heap-sys.js';
export * from './frames.js';
export * from './oom.js';
