// @mmsim/grpc: the gRPC edge shared by the services: handler adapters, the error -> status
// table, a server with health and reflection, and the Log service.
export { serverStream, unary, type HandlerOptions } from './handlers.js';
export { isMalformed, malformedError, MALFORMED_CODE, tolerantDefinition, type Malformed } from './malformed.js';
export {
  ERROR_NAME_KEY,
  INFRASTRUCTURE_STATUS,
  REJECTION_CODE_KEY,
  REJECTION_KIND_KEY,
  REJECTION_STATUS,
  toServiceError,
  type ErrorLogger,
} from './status.js';
export { DEFAULT_GRPC_LISTEN, serviceName, startGrpcServer, type GrpcServerHandle, type GrpcServiceRegistration, type StartGrpcServerOptions } from './server.js';
export { descriptorSetPath, loadDescriptorSet } from './descriptor.js';
export { logService, type LogServiceOptions } from './log-service.js';
export { big, callerTenant, DEFAULT_TENANT, machineOf, num, pidOf, REQUEST_ID_METADATA_KEY, requestId, TENANT_METADATA_KEY, type MachineRefLike } from './edge.js';
export { procService, PROC_FILES, type ProcReader } from './proc-service.js';
