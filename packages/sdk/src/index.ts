// @mmsim/sdk: a typed client for the four services, and the scenario runner.
export { connect, isUnreachable, procOwner, type ConnectOptions, type MmsimClient } from './client.js';
export { allAt, checkEndpoint, DEFAULT_ENDPOINT, parseEndpoints, type Endpoints } from './endpoints.js';
export type { Unary, CallContext } from './promisify.js';
