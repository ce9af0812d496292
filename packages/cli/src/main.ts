import { dispatch, type Command } from './command.js';
import { processIo, type Io } from './io.js';
import { COMMANDS } from './commands/index.js';

export const ROOT: Command = {
  name: '',
  summary: 'mmsim: a simulator of Linux memory management (glibc malloc, the kernel\'s mm, the OOM killer) as event-sourced services.',
  subcommands: COMMANDS,
};

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out('mmsim 0.1.0\n');
    return 0;
  }
  try {
    return await dispatch(ROOT, argv, io);
  } catch (e) {
    io.err(`mmsim: ${describeError(e)}\n`);
    return 1;
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
