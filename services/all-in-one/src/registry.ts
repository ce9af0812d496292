// What replay rebuilds, and how it re-checks each recorded decision: the OOM victim is
// decided again from the candidate table the event recorded; heap and frames re-run their
// calls inside evolve() and refuse a different outcome.
import { eventCodecs, replayEntry, type AnyEventCodec, type DecisionMismatch, type ReplayRegistry } from '@mmsim/eventlog';
import { frames, type FramesCommand, type FramesEvent, type FramesState } from '@mmsim/kernel/frames';
import { oom, whatIf, type OomCommand, type OomEvent, type OomState } from '@mmsim/kernel/oom';
import { vm, type VmCommand, type VmEvent, type VmState } from '@mmsim/kernel/vm';
import { heap, type HeapCommand, type HeapEvent, type HeapState } from '@mmsim/kernel/heap';

/** Re-decides an OOM kill from its recorded request; undefined when it agrees. */
export function verifyOomDecision(before: OomState, e: OomEvent): DecisionMismatch | undefined {
  if (e.type !== 'OomKillDecided' && e.type !== 'OomNoKill' && e.type !== 'OomPanicked') return undefined;
  const again = whatIf({ request: e.request, profile: e.profile, policy: e.policy, victims: before.victims, killSeq: before.killSeq, totalRamPages: before.totalRamPages, totalSwapPages: before.totalSwapPages }, []).before;
  const recorded = e.type === 'OomKillDecided' ? `kill ${e.killed.map((k) => k.pid).join(',')}` : e.type === 'OomNoKill' ? (e.reason === 'victim-not-reaped' ? 'wait' : 'none') : 'panic';
  const got = again.kind === 'kill' ? `kill ${again.killed.join(',')}` : again.kind;
  return recorded === got ? undefined : { expected: recorded, got, detail: `the OOM decision re-derived from its candidate table differs (${again.summary})` };
}

export function replayRegistry(): ReplayRegistry {
  return {
    frames: replayEntry<FramesCommand, FramesEvent, FramesState>({ aggregate: frames, codec: eventCodecs.frames as AnyEventCodec<FramesEvent> }),
    vma: replayEntry<VmCommand, VmEvent, VmState>({ aggregate: vm, codec: eventCodecs.vma as AnyEventCodec<VmEvent> }),
    oom: replayEntry<OomCommand, OomEvent, OomState>({ aggregate: oom, codec: eventCodecs.oom as AnyEventCodec<OomEvent>, verify: verifyOomDecision }),
    heap: replayEntry<HeapCommand, HeapEvent, HeapState>({ aggregate: heap, codec: eventCodecs.heap as AnyEventCodec<HeapEvent> }),
  };
}
