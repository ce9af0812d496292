// vm wired to the real frames and oom aggregates in one process (InProcessMachine), booted in
// the order the Needs require: frames boots first (vm reads its totals), oom is configured,
// then vm creates the machine (init and the kernel threads fault their pages in through frames).
// frames' reads (GetTotals...) are queries: answered from its state, without events.
import type { Aggregate } from '../common/index.js';
import { answerOf as framesAnswer, frames, isFramesQuery, queryFrames, totals as framesTotals, type FramesState } from '../frames/index.js';
import { oom } from '../oom/index.js';
import { InProcessMachine, type InProcessMachineOptions } from '../machine/in-process.js';
import type { MachineConfig } from '../machine/config.js';
import type { VmAggregate } from './aggregate.js';
import { createVm } from './aggregate.js';
import type { VmCommand, VmState } from './types.js';

type AnyAggregate = Aggregate<unknown, unknown, unknown>;

/** frames with its queries answered (no events) and the contract's AllocReply as the answer. */
export function framesHost(): AnyAggregate {
  const f = frames as unknown as AnyAggregate;
  return {
    ...f,
    decide: (c: unknown, s: unknown) => (isFramesQuery(c) ? [] : f.decide(c, s)),
    answer: (c: unknown, evs: readonly unknown[], s: unknown) =>
      isFramesQuery(c) ? queryFrames(s as FramesState, c) : framesAnswer(c as Parameters<typeof framesAnswer>[0], evs as Parameters<typeof framesAnswer>[1]),
  };
}

export class FullMachine {
  readonly m: InProcessMachine;
  readonly vm: VmAggregate;
  /** `heap`: the heap aggregate too, when the test drives processes through malloc. */
  constructor(readonly config: MachineConfig, options: InProcessMachineOptions = {}, heap?: AnyAggregate) {
    this.vm = createVm();
    this.m = new InProcessMachine({ vma: this.vm as unknown as AnyAggregate, frames: framesHost(), oom: oom as unknown as AnyAggregate, ...(heap ? { heap } : {}) }, options);
    this.m.handle('frames', { type: 'Boot', config });
    const t = framesTotals(this.frames);
    this.m.handle('oom', { type: 'Configure', config, totalRamPages: t.totalRamPages, totalSwapPages: t.totalSwapPages });
    this.handle({ type: 'CreateMachine', config, totals: t });
  }
  handle(c: VmCommand): { events: readonly unknown[]; answer: unknown } {
    return this.m.handle('vma', c);
  }
  get state(): VmState {
    return this.m.state<VmState>('vma');
  }
  get frames(): FramesState {
    return this.m.state<FramesState>('frames');
  }
}
