import type { Command } from '../command.js';
import { demo } from './demo.js';
import { machine, meminfo, proc, ps, sysctl } from './inspect.js';
import { exportLog, replay, tail } from './log.js';
import { serve } from './serve.js';
import { heapCommand } from './heap/index.js';
import { heapInspectCommands } from './heap-inspect.js';
import { importCmd } from './import.js';
import { oom } from './oom.js';
import { run } from './run.js';

const heap: Command = { ...heapCommand, summary: 'the glibc allocator: traces in and out, and a live heap\'s bins, chunks and map', subcommands: [...(heapCommand.subcommands ?? []), ...heapInspectCommands] };

export const COMMANDS: readonly Command[] = [serve, demo, run, machine, ps, meminfo, proc, sysctl, heap, oom, importCmd, tail, exportLog, replay];
