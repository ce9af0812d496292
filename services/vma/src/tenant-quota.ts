// Per-tenant quotas of a server (mmsim serve --max-machines / --max-ram): what platform teams
// set so that one tenant's load test cannot take the whole host. A create over quota is
// RESOURCE_EXHAUSTED and writes nothing. MachineService runs the creations of one tenant one
// at a time, so concurrent creates cannot pass the check together.
import { quota } from '@mmsim/kernel';

export interface TenantQuota {
  /** Machines a tenant may have at once (default: no limit). */
  readonly maxMachines?: number;
  /** Simulated RAM summed over a tenant's machines, in bytes (default: no limit). */
  readonly maxRamBytes?: number;
}

const GiB = 2 ** 30;
const human = (b: number): string => (b % GiB === 0 ? `${b / GiB} GiB` : `${Math.round(b / 2 ** 20)} MiB`);

/** Refuses a new machine of `ramBytes` for a tenant that has `ramOfMachines` already. */
export function checkTenantQuota(q: TenantQuota, tenant: string, ramOfMachines: readonly number[], ramBytes: number): void {
  if (q.maxMachines !== undefined && ramOfMachines.length + 1 > q.maxMachines) {
    throw quota('vma.TENANT_MACHINES', `tenant ${tenant} has ${ramOfMachines.length} machine(s), the most this server allows per tenant (--max-machines ${q.maxMachines})`);
  }
  const used = ramOfMachines.reduce((a, b) => a + b, 0);
  if (q.maxRamBytes !== undefined && used + ramBytes > q.maxRamBytes) {
    throw quota('vma.TENANT_RAM', `tenant ${tenant}'s machines have ${human(used)} of RAM; ${human(ramBytes)} more would pass the ${human(q.maxRamBytes)} this server allows per tenant (--max-ram)`);
  }
}
