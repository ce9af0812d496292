// What-if over a machine's log: re-decide a recorded OOM under a change (the kernel package's
// whatIf), or rebuild the machine and run the rest of the recorded workload under it.
export { decodeLog, type DecodedLog, type DecodedRecord } from './records.js';
export { recoverWorkload, heapCommand, type Root, type RootCommand, type Workload } from './workload.js';
export { parseChanges, describeMachineChange, runOnlyNote, cgroupBytes, type ChangeSpec, type MachineChange, type ParsedChanges } from './changes.js';
export { rebuildStates, ReplayMachine, type MachineStates, type StepOutcome } from './replay-machine.js';
export { continueWhatIf, type ContinueOptions, type ContinueResult, type RunSummary, type KillLine, type FailureLine } from './continue.js';
export { formatContinue, meminfoFields } from './report.js';
export { answerWhatIf, formatWhatIf, formatExplanation, withoutKernelThreads, type WhatIfAnswer } from './answer.js';
