// vm: tasks, address spaces (mm, VMAs, page tables), faults, fork/COW, rlimits, overcommit,
// cgroups and the simulated clock of one machine. See README.md.
export { vm, createVm, initialState, stateHash, answerOf, type VmAggregate } from './aggregate.js';
export type * from './types.js';
export * from './queries.js';
export { commitLimitPages, vmEnoughMemory, initAdminReserveKbytes, initUserReserveKbytes } from './overcommit.js';
export { legacyOomAdj, oomScoreAdjOfLegacy } from './oom-adj.js';
export { touchSpans } from './spans.js';
export { FIRST_USER_PID } from './boot.js';
