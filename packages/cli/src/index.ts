export { main, ROOT } from './main.js';
export { parseArgs, parseNumber, UsageError } from './args.js';
export type { Command } from './command.js';
export { bufferIo, type Io } from './io.js';
