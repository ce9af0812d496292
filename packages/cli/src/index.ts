export { main, ROOT } from './main.js';
export { parseArgs, UsageError } from './args.js';
export type { Command } from './command.js';
export { bufferIo, type Io } from './io.js';
