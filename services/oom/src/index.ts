// @mmsim/service-oom: OOM policy and decisions; every kill explained.
export { createOomService, type OomHost, type OomService, type OomServiceOptions } from './oom-service.js';
export { killSummary, policyCommand } from './grpc/oom-grpc.js';
export { DecisionIndex, decisionsOfLog, findDecision, type KernelDecision, type RecordedDecision } from './decisions.js';
export * from './what-if/index.js';
