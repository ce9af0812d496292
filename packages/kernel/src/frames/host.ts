// The smallest host: decide, evolve each event, answer. The in-process machine, the benches
// and the tests use it; a service does the same with a log append between decide and evolve.
import type { AllocReply } from '../contracts/frames.js';
import type { MachineConfig } from '../machine/config.js';
import { decide, evolve } from './aggregate.js';
import { answerOf } from './answer.js';
import { FramesState } from './state.js';
import type { FramesCommand, FramesEvent } from './types.js';

export interface Handled {
  readonly events: FramesEvent[];
  readonly reply: AllocReply;
}

export function handleFrames(s: FramesState, cmd: FramesCommand): Handled {
  const events = decide(cmd, s);
  for (const e of events) evolve(s, e);
  return { events, reply: answerOf(cmd, events) };
}

/** A booted machine. */
export function bootFrames(config: MachineConfig): FramesState {
  const s = new FramesState();
  handleFrames(s, { type: 'Boot', config });
  return s;
}
