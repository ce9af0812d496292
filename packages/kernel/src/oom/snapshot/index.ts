export { parseSnapshot, type ProcSnapshot, type SnapshotProcessRecord } from './parse.js';
export { scoreSnapshot, type SnapshotScore } from './score.js';
export {
  snapshotToOomTasks,
  snapshotToMachine,
  profileOfRelease,
  hasCap,
  CAP_SYS_ADMIN,
  CAP_SYS_RAWIO,
  CAP_SYS_RESOURCE,
  type SnapshotTasks,
  type MirroredMachine,
  type MirroredProcess,
} from './mirror.js';
export { parseOomReports, oomReportToRequest, type OomReport, type OomReportTask, type ReportRequestOptions } from './oom-report.js';
