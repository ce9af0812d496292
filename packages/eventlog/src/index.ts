// @mmsim/eventlog: the machine log behind one interface (file and JetStream), the envelope and
// event codecs, export, and replay.
export { EMPTY_POSITION, machineKey } from './event-log.js';
export type {
  AppendEvent,
  AppendRequest,
  AppendResult,
  Cause,
  EventLog,
  LogPosition,
  LogRecord,
  LogTip,
  MachineRef,
  ReadOptions,
  TailOptions,
} from './event-log.js';
export {
  LogClosedError,
  LogConflictError,
  LogCorruptError,
  LogFencedError,
  LogLockedError,
  LogPositionError,
  LogUnavailableError,
} from './errors.js';
export { AppendRequestError } from './append.js';
export { advanceByRecord, advancePosition, describePosition, isLogPosition, mergePosition } from './position.js';
export * from './codecs/index.js';
export { FileEventLog, type FileEventLogOptions, type RepairReport } from './file/file-event-log.js';
export { readLogFile, type ReadLogFileOptions } from './file/log-file.js';
export { FILE_EXTENSION } from './file/format.js';
export {
  JetStreamEventLog,
  connectJetStreamEventLog,
  type ConnectJetStreamEventLogOptions,
  type JetStreamEventLogOptions,
} from './jetstream/jetstream-event-log.js';
export { exportChunks, exportToFile, type ExportChunk, type ExportOptions, type ExportResult } from './export.js';
export { replay, replayFile, replayMachine, type Divergence, type ReplayOptions, type ReplayProgress, type ReplayReport, type ReplayedAggregate } from './replay/replay.js';
export { replayEntry, type DecisionMismatch, type ReplayAggregate, type ReplayRegistry } from './replay/registry.js';
