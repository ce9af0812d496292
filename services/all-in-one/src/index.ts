// @mmsim/service-all-in-one: the four services in one process (the embedded default).
export { startAllInOne, DEFAULT_LOG_DIR, type AllInOne, type AllInOneOptions } from './all-in-one.js';
export { replayRegistry, verifyOomDecision } from './registry.js';
export { startStandalone, type Standalone, type StandaloneOptions } from './standalone.js';
export type { TenantQuota } from '@mmsim/service-vma';
