// @mmsim/kernel: the model. Pure and deterministic: no I/O, no clock, no Math.random, no env.
export * from './common/index.js';
export * from './contracts/index.js';
export * from './machine/config.js';
export * from './machine/in-process.js';
