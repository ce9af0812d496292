// @mmsim/kernel oom: the OOM killer of each kernel profile as an aggregate, and the pure
// functions around it (badness, explain, what-if, /proc snapshots).
export { oom } from './aggregate.js';
export type * from './types.js';
export { oomTask, type OomTaskInit } from './task-builder.js';
export { asOomCommand } from './decide.js';
export { verdictOf, decisionVerdict, tickActions } from './verdict.js';
export { decideOutOfMemory, OOM_REAPER_DELAY_NS, type OomDecisionContext } from './out-of-memory.js';
export {
  BADNESS,
  oomBadness,
  oomScore618,
  points618,
  badness2618,
  points2618,
  HZ_2618,
  USER_HZ,
  type BadnessRules,
  type ScoredTask,
} from './badness/index.js';
export { OOM_SCORE_ADJ_MIN, OOM_SCORE_ADJ_MAX, OOM_DISABLE, OOM_ADJUST_MIN, OOM_ADJUST_MAX, comparePoints, formatPoints } from './points.js';
export { oomAdjFromScoreAdj, scoreAdjFromOomAdj } from './legacy-adj.js';
export { EARLYOOM_DEFAULTS, OOMD_DEFAULTS, normalizeKillerOptions } from './userspace/options.js';
export { explainKill, formulaText, SKIP_TEXT, type OomExplanation, type ExplainRow, type ExplainColumn, type OomDecisionEvent } from './explain/explain.js';
export { formatExplainTable } from './explain/format.js';
export { scoresTable, formatScoresTable, type ScoreRow } from './explain/scores-table.js';
export { whatIf, whatIfFromEvent, parseWhatIfChange, describeChange, type WhatIfBase, type WhatIfChange, type WhatIfOutcome, type WhatIfResult } from './what-if.js';
export { machineConfig, oomInitialized, oomRequest, type RequestInit } from './testing.js';
export * from './snapshot/index.js';
