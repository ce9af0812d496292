// MachineService: boot a machine (frames, then vma, then oom), read it, move its clock, sysctls.
import { busAsk, SerialQueue, type AggregateHost } from '@mmsim/host';
import type { Bus } from '@mmsim/bus';
import { DEFAULT_SYSCTLS, invalid, isKernelProfile, precondition, type MachineConfig, type VmSysctls } from '@mmsim/kernel';
import type { VmCommand, VmEvent, VmState } from '@mmsim/kernel/vm';
import { big, machineOf, num, requestId, type MachineRefLike } from '@mmsim/grpc';
import { unary } from '@mmsim/grpc';
import {
  MachineServiceService,
  type AdvanceTimeRequest,
  type AdvanceTimeResponse,
  type CreateMachineRequest,
  type CreateMachineResponse,
  type GetMachineRequest,
  type GetMachineResponse,
  type ListMachinesResponse,
  type MachineInfo,
  type SysctlRequest,
  type SysctlResponse,
} from '@mmsim/proto';
import type { GrpcServiceRegistration } from '@mmsim/grpc';
import { machineSummary, requireMachine } from '../queries.js';
import { sysctlName, sysctlNow, sysctlValue } from '../sysctl.js';
import { checkTenantQuota, type TenantQuota } from '../tenant-quota.js';
import type { ServerUnaryCall } from '@grpc/grpc-js';

type VmaHost = AggregateHost<VmCommand, VmEvent, VmState>;

export function machineConfigOf(ref: MachineRefLike, req: CreateMachineRequest): MachineConfig {
  const profile = req.profile === '' ? 'linux-6.18' : req.profile;
  if (!isKernelProfile(profile)) throw invalid('vma.INVALID_PROFILE', `profile "${req.profile}" is not linux-6.18 or linux-2.6.18`);
  // The sizes frames can lay out (128 MiB..256 GiB of RAM...) are frames' to say: its Boot
  // refuses others before anything is written, with the range in the message.
  const ramBytes = num(req.ramBytes, 'ram_bytes');
  const swapBytes = num(req.swapBytes, 'swap_bytes');
  const cpus = req.cpus === 0 ? 2 : req.cpus;
  if (cpus < 1 || cpus > 1024) throw invalid('vma.INVALID_CPUS', `cpus must be 1..1024, got ${cpus}`);
  const sysctl: Record<string, number> = { ...DEFAULT_SYSCTLS };
  for (const s of req.sysctls) {
    const name = sysctlName(s.name);
    sysctl[name] = sysctlValue(name, s.value);
  }
  return { tenant: ref.tenant, machine: ref.machine, profile, ramBytes, swapBytes, cpus, seed: num(req.seed, 'seed'), sysctl: sysctl as unknown as VmSysctls };
}

export function machineInfo(host: VmaHost, ref: MachineRefLike): MachineInfo {
  return host.query(ref, (s) => {
    const m = requireMachine(s, ref.machine);
    const sum = machineSummary(s);
    return {
      config: {
        ref: { tenant: ref.tenant, machine: ref.machine },
        profile: m.profile,
        ramBytes: big(m.ramBytes),
        swapBytes: big(m.swapBytes),
        cpus: m.cpus,
        seed: big(m.seed),
        sysctl: {
          overcommitMemory: s.sc.sysctl.overcommit_memory,
          overcommitRatio: s.sc.sysctl.overcommit_ratio,
          overcommitKbytes: big(s.sc.sysctl.overcommit_kbytes),
          adminReserveKbytes: big(s.sc.adminReserveKbytes),
          userReserveKbytes: big(s.sc.userReserveKbytes),
          minFreeKbytes: big(s.sc.sysctl.min_free_kbytes),
          watermarkScaleFactor: s.sc.sysctl.watermark_scale_factor,
          swappiness: s.sc.sysctl.swappiness,
          panicOnOom: s.sc.sysctl.panic_on_oom,
          oomKillAllocatingTask: s.sc.sysctl.oom_kill_allocating_task,
        },
      },
      simTimeNs: big(sum.clockNs),
      tasks: sum.tasks,
      lastSeq: big(host.position(ref).seq),
    };
  });
}

export function machineGrpc(host: VmaHost, bus: Bus, tenantQuota: TenantQuota = {}): GrpcServiceRegistration {
  const ask = busAsk(bus);
  // one creation per tenant at a time: the quota check and the creation are one step
  const creations = new Map<string, SerialQueue>();
  const creationsOf = (tenant: string): SerialQueue => {
    let q = creations.get(tenant);
    if (!q) creations.set(tenant, (q = new SerialQueue()));
    return q;
  };
  const askCtx = (ref: MachineRefLike, rid: string, what: string, simTimeNs = 0n) => ({
    machine: ref,
    requestId: rid === '' ? '' : `${rid}.${what}`,
    parentSeq: 0,
    simTimeNs,
    position: host.position(ref),
  });
  const create = async (ref: MachineRefLike, config: MachineConfig, rid: string): Promise<CreateMachineResponse> => {
    const exists = host.query(ref, (s) => s.machine !== null);
    // A retry (the same mmsim-request-id) of a creation that stopped half-way, say with oom
    // unreachable, goes through again: each service answers the steps it has applied from
    // their first run, and takes the ones it has not.
    if (exists && !host.applied(ref, rid)) throw precondition('vma.MACHINE_EXISTS', `machine ${ref.machine} exists`);
    if (!exists) checkTenantQuota(tenantQuota, ref.tenant, ramOfTenant(ref.tenant), config.ramBytes);
    // frames first: vm's boot reads frames' totals (MemTotal after the kernel's reservations).
    const booted = await ask('frames', { type: 'Boot', config }, askCtx(ref, rid, 'frames.boot'));
    const r = await host.handle(ref, { type: 'CreateMachine', config }, { requestId: rid, position: booted.position });
    const totals = host.query(ref, (s) => s.machine!.totals);
    const configured = await ask('oom', { type: 'Configure', config, totalRamPages: totals.totalRamPages, totalSwapPages: totals.totalSwapPages }, { ...askCtx(ref, rid, 'oom.configure', r.simTimeNs), position: r.position });
    // vma's next append goes after oom's record (else it would meet it as a conflict).
    await host.observe(ref, configured.position, configured.simTimeNs);
    return { machine: machineInfo(host, ref) };
  };
  const ramOfTenant = (tenant: string): number[] =>
    host.machines().filter((m) => m.tenant === tenant).flatMap((m) => host.query(m, (s) => (s.machine ? [s.machine.ramBytes] : [])));
  return {
    definition: MachineServiceService,
    implementation: {
      createMachine: unary(async (req: CreateMachineRequest, call: ServerUnaryCall<CreateMachineRequest, CreateMachineResponse>): Promise<CreateMachineResponse> => {
        const ref = machineOf(call, req.machine);
        const config = machineConfigOf(ref, req);
        const rid = requestId(call);
        return creationsOf(ref.tenant).run(() => create(ref, config, rid));
      }),
      getMachine: unary(async (req: GetMachineRequest, call: ServerUnaryCall<GetMachineRequest, GetMachineResponse>): Promise<GetMachineResponse> => ({
        machine: machineInfo(host, machineOf(call, req.machine)),
      })),
      listMachines: unary(async (_req: unknown, call: ServerUnaryCall<unknown, ListMachinesResponse>): Promise<ListMachinesResponse> => {
        const tenant = machineOf(call, { tenant: '', machine: 'x' }).tenant;
        const refs = host.machines().filter((m) => m.tenant === tenant && host.query(m, (s) => s.machine !== null));
        refs.sort((a, b) => (a.machine < b.machine ? -1 : a.machine > b.machine ? 1 : 0));
        return { machines: refs.map((m) => machineInfo(host, m)) };
      }),
      advanceTime: unary(async (req: AdvanceTimeRequest, call: ServerUnaryCall<AdvanceTimeRequest, AdvanceTimeResponse>): Promise<AdvanceTimeResponse> => {
        const ref = machineOf(call, req.machine);
        host.query(ref, (s) => requireMachine(s, ref.machine));
        const ns = num(req.ns, 'ns');
        if (ns > 365 * 24 * 3600 * 1e9) throw invalid('vma.INVALID_ARGUMENT', `ns must be at most a year, got ${ns}`);
        const r = await host.handle(ref, { type: 'AdvanceTime', ns }, { requestId: requestId(call) });
        const killed: number[] = [];
        for (const e of r.events) if (e.type === 'TaskExited' && e.signal === 9) killed.push(e.pid);
        return { simTimeNs: r.simTimeNs, killed };
      }),
      sysctl: unary(async (req: SysctlRequest, call: ServerUnaryCall<SysctlRequest, SysctlResponse>): Promise<SysctlResponse> => {
        const ref = machineOf(call, req.machine);
        host.query(ref, (s) => requireMachine(s, ref.machine));
        const name = sysctlName(req.name);
        if (req.value !== '') {
          const value = sysctlValue(name, req.value);
          // vm's SetSysctl tells the owner (frames or oom) itself, through a Need: asking it again
          // here would append the same setting twice.
          await host.handle(ref, { type: 'SetSysctl', name, value }, { requestId: requestId(call) });
        }
        return { name: `vm.${name}`, value: String(await sysctlNow(host, ask, ref, name)) };
      }),
    },
  };
}
