// @mmsim/service-vma: processes, address spaces, the clock; the hub heap calls and that calls frames and oom.
export { createVmaService, VMA_QUERY_OP, type VmaHost, type VmaService, type VmaServiceOptions } from './vma-service.js';
export type { VmaQuery, MachineSummary, ProcessSummary, GoneSummary } from './queries.js';
export { sysctlName, sysctlValue } from './sysctl.js';
export { checkTenantQuota, type TenantQuota } from './tenant-quota.js';
