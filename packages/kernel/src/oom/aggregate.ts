// The oom aggregate of one machine: policy (profile, panic_on_oom...), kill history and the
// victims not yet gone, userspace killers. Its answer to vm is verdictOf().
import type { Aggregate, Decider } from '../common/index.js';
import type { OomRequest } from '../contracts/oom.js';
import { asOomCommand, decide } from './decide.js';
import { evolve, initialState } from './evolve.js';
import { stateHash } from './state-hash.js';
import type { OomCommand, OomEvent, OomState } from './types.js';
import { verdictOf } from './verdict.js';

export const oom: Aggregate<OomCommand | OomRequest, OomEvent, OomState> & Decider<OomCommand | OomRequest, OomEvent, OomState> = {
  service: 'oom',
  initialState,
  decide,
  evolve,
  stateHash,
  answer: (command, events) => verdictOf(asOomCommand(command), events),
};
