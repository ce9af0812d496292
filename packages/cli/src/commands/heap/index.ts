// `mmsim heap ...`: heap trace tooling. The command implementations are plain async functions
// (args, io) -> exit status; heapCommand describes them for the CLI's dispatcher.
import type { Command } from '../../command.js';
import {
  heapRecord,
  HEAP_RECORD_DESCRIPTION,
  HEAP_RECORD_OPTIONS,
  HEAP_RECORD_POSITIONALS,
  HEAP_RECORD_SUMMARY,
} from './record.js';
import {
  heapReplay,
  HEAP_REPLAY_DESCRIPTION,
  HEAP_REPLAY_OPTIONS,
  HEAP_REPLAY_POSITIONALS,
  HEAP_REPLAY_SUMMARY,
} from './replay.js';

export { heapRecord, type HeapRecordContext } from './record.js';
export { heapReplay } from './replay.js';
export { buildCTool, findCompiler, NoCompilerError, RECORDER, HEAPPROG, NATIVE_REPLAY } from './c-toolchain.js';

export const heapRecordCommand: Command = {
  name: 'record',
  summary: HEAP_RECORD_SUMMARY,
  description: HEAP_RECORD_DESCRIPTION,
  options: HEAP_RECORD_OPTIONS,
  positionals: HEAP_RECORD_POSITIONALS,
  examples: ['mmsim heap record -- ls -la /usr/bin', 'mmsim heap record --out sort.ht.gz -- sort -n big.txt'],
  run: (args, io) => heapRecord(args, io),
};

export const heapReplayCommand: Command = {
  name: 'replay',
  summary: HEAP_REPLAY_SUMMARY,
  description: HEAP_REPLAY_DESCRIPTION,
  options: HEAP_REPLAY_OPTIONS,
  positionals: HEAP_REPLAY_POSITIONALS,
  examples: ['mmsim heap replay ls.ht', 'mmsim heap replay test/fixtures/heaptrace/frag-m1-s1000.ht.gz --out sim.ht'],
  run: (args, io) => heapReplay(args, io),
};

/** `mmsim heap record|replay`, ready for COMMANDS. */
export const heapCommand: Command = {
  name: 'heap',
  summary: 'heap traces: record a program\'s malloc calls on real glibc, replay them through the model',
  subcommands: [heapRecordCommand, heapReplayCommand],
};
