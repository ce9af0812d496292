// @mmsim/sdk: a typed client for the four services, and the scenario runner.
export { connect, isUnreachable, procOwner, type ConnectOptions, type MmsimClient } from './client.js';
export { allAt, checkEndpoint, DEFAULT_ENDPOINT, parseEndpoints, type Endpoints } from './endpoints.js';
export type { Unary, CallContext } from './promisify.js';
export { runScenario, duration, ScenarioError, type RunOptions } from './scenario/runner.js';
export { parseScenario, validateScenario } from './scenario/validate.js';
export { parseNumber } from './scenario/size.js';
export type { Scenario, ScenarioMachine, ScenarioResult, Step, Until } from './scenario/types.js';
