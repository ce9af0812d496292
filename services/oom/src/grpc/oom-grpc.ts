// OomService: scores, decisions explained, what-if, userspace-killer policies.
import type { Bus } from '@mmsim/bus';
import { rpcSubject } from '@mmsim/bus';
import type { EventLog } from '@mmsim/eventlog';
import { big, machineOf, requestId, unary, type GrpcServiceRegistration } from '@mmsim/grpc';
import type { AggregateHost } from '@mmsim/host';
import { invalid, notFound, type KernelProfile, type OomTask } from '@mmsim/kernel';
import {
  explainKill,
  formatExplainTable,
  formatPoints,
  formatScoresTable,
  scoresTable,
  type OomCommand,
  type OomEvent,
  type OomState,
} from '@mmsim/kernel/oom';
import { OomServiceService, type KillSummary, type OomServiceServer } from '@mmsim/proto';
import { DecisionIndex, type RecordedDecision } from '../decisions.js';
import { explainUserspaceKill } from '../userspace-explain.js';
import { answerWhatIf, formatExplanation, formatWhatIf } from '../what-if/answer.js';
import { parseChanges } from '../what-if/changes.js';
import { decodeLog } from '../what-if/records.js';

type OomHost = AggregateHost<OomCommand, OomEvent, OomState>;

export function killSummary(d: RecordedDecision): KillSummary {
  const e = d.event;
  // The decision's own clock (a Tick's or the request's): the envelope may carry an older one.
  const at = Math.max(d.simTimeNs, e.type === 'UserspaceKill' ? e.nowNs : e.request.nowNs);
  const base = { seq: big(d.seq), simTimeNs: big(at), victim: 0, victimName: '', killed: [] as number[], logLine: '', policy: '', constraint: '' };
  switch (e.type) {
    case 'OomKillDecided': {
      const victim = e.killed.find((k) => k.pid === e.chosen) ?? e.killed[0];
      return {
        ...base,
        verdict: 'kill',
        victim: e.chosen,
        victimName: victim?.name ?? '',
        killed: e.killed.map((k) => k.pid),
        logLine: e.logLines.find((l) => l.includes('Killed process')) ?? '',
        policy: e.profile,
        constraint: e.request.trigger.constraint.kind === 'memcg' ? `memcg ${e.request.trigger.constraint.memcg}` : 'global',
      };
    }
    case 'OomNoKill':
      return { ...base, verdict: e.reason === 'victim-not-reaped' ? 'wait' : 'none', policy: e.profile, logLine: e.logLines[0] ?? '', constraint: e.request.trigger.constraint.kind };
    case 'OomPanicked':
      return { ...base, verdict: 'panic', policy: e.profile, logLine: e.logLines[e.logLines.length - 1] ?? '', constraint: e.request.trigger.constraint.kind };
    case 'UserspaceKill':
      const killer = e.kind;
      return {
        ...base,
        verdict: killer,
        victim: e.pids[0] ?? 0,
        victimName: e.ranking.find((c) => c.pid === e.pids[0])?.name ?? e.cgroupPath,
        killed: [...e.pids],
        policy: killer,
        logLine: e.logLines[0] ?? e.reason,
        constraint: e.cgroupPath || 'global',
      };
  }
}

export function oomGrpc(host: OomHost, bus: Bus, log: EventLog): GrpcServiceRegistration {
  const decisions = new DecisionIndex(log);
  const configured = (m: { tenant: string; machine: string }) => {
    if (!host.query(m, (s) => s.configured)) throw notFound('oom.NO_SUCH_MACHINE', `no machine ${m.machine}`);
  };
  const implementation: OomServiceServer = {
    scores: unary(async (req, call) => {
      const m = machineOf(call, req.machine);
      configured(m);
      const v = (await bus.request(rpcSubject('vma', 'query'), { machine: m, query: { type: 'OomTasks' } })) as { tasks: OomTask[]; totalPages: number; profile: KernelProfile };
      // 2.6.18's badness divides by the run time: the machine's uptime is its simulated clock.
      const clock = (await bus.request(rpcSubject('vma', 'query'), { machine: m, query: { type: 'Machine' } })) as { clockNs?: number };
      const rows = scoresTable(v.tasks, v.totalPages, v.profile, clock.clockNs ?? 0).filter((r) => r.skip !== 'kernel-thread' && r.skip !== 'no-mm');
      return {
        rows: rows.map((r) => ({ pid: r.pid, name: r.name, points: typeof r.points === 'number' ? BigInt(r.points) : 0n, oomScore: r.oomScore, oomScoreAdj: r.oomScoreAdj, skipReason: r.skip ?? (typeof r.points === 'number' ? '' : formatPoints(r.points)) })),
        text: formatScoresTable(rows),
      };
    }),
    listKills: unary(async (req, call) => {
      const m = machineOf(call, req.machine);
      configured(m);
      return { kills: (await decisions.all(m)).map(killSummary) };
    }),
    explain: unary(async (req, call) => {
      const m = machineOf(call, req.machine);
      configured(m);
      const seq = Number(req.seq);
      // a userspace killer's decision is explained too, when named by its seq
      const u = seq === 0 ? undefined : (await decisions.all(m)).find((x) => x.seq === seq && x.event.type === 'UserspaceKill');
      if (u && u.event.type === 'UserspaceKill') {
        const x = explainUserspaceKill(u.event);
        return { kill: killSummary(u), text: formatExplainTable(x), json: JSON.stringify(x) };
      }
      const d = await decisions.find(m, seq);
      const x = explainKill(d.event);
      return { kill: killSummary(d), text: formatExplanation(x), json: JSON.stringify(x) };
    }),
    whatIf: unary(async (req, call) => {
      const m = machineOf(call, req.machine);
      configured(m);
      const changes = parseChanges(req);
      const d = await decisions.find(m, Number(req.seq));
      // --continue rebuilds the machine from this server's log and runs the rest of the recorded
      // workload in this process (the CLI does the same on its side from an export).
      const a = answerWhatIf(m.machine, d, changes, req.continue ? await decodeLog(log.records(m)) : null);
      return { text: formatWhatIf(a), json: JSON.stringify(a) };
    }),
    setPolicy: unary(async (req, call) => {
      const m = machineOf(call, req.machine);
      configured(m);
      const applied: string[] = [];
      for (const setting of req.settings) {
        let cmd = policyCommand(setting);
        if (cmd.type === 'EnableUserspaceKiller' && cmd.options) {
          // An option changes the killer as it runs now: the other options stay as they are.
          const kind = cmd.kind;
          const now = host.query(m, (st) => (kind === 'earlyoom' ? st.earlyoom?.options : st.oomd?.options));
          if (now) {
            const { kind: _k, ...rest } = now;
            cmd = { ...cmd, options: { ...rest, ...cmd.options } };
          }
        }
        await host.handle(m, cmd, { requestId: requestId(call) === '' ? '' : `${requestId(call)}.${applied.length}` });
        applied.push(setting);
      }
      return { settings: applied };
    }),
  };
  return { definition: OomServiceService, implementation };
}

/**
 * "earlyoom=on", "earlyoom=off", "systemd-oomd=on", "earlyoom.prefer=REGEX",
 * "earlyoom.mem_term_percent=10" (or memTermPercent), "systemd-oomd.swap_monitored=/a,/b",
 * "earlyoom.dry_run=true"...
 */
export function policyCommand(setting: string): OomCommand {
  const m = /^(earlyoom|systemd-oomd)(?:\.([A-Za-z_]+))?=(.*)$/.exec(setting.trim());
  if (!m) {
    if (/^(vm\.)?(panic_on_oom|oom_kill_allocating_task)=/.test(setting.trim())) {
      throw invalid('oom.USE_SYSCTL', `${setting} is a sysctl: set it with MachineService.Sysctl (mmsim sysctl), so /proc/sys/vm shows it too`);
    }
    throw invalid('oom.BAD_POLICY', `cannot read "${setting}" (earlyoom=on|off, systemd-oomd=on|off, earlyoom.OPTION=VALUE)`);
  }
  const kind = m[1] as 'earlyoom' | 'systemd-oomd';
  if (!m[2]) {
    if (m[3] === 'off') return { type: 'DisableUserspaceKiller', kind };
    if (m[3] === 'on') return { type: 'EnableUserspaceKiller', kind };
    throw invalid('oom.BAD_POLICY', `${m[1]} takes on or off, got "${m[3]}"`);
  }
  // mem_term_percent -> memTermPercent, as the options are named
  const key = m[2].replace(/_([a-z])/g, (_x, c: string) => c.toUpperCase());
  const raw = m[3];
  const value: unknown = /Monitored$/.test(key)
    ? raw.split(',').map((p) => p.trim()).filter((p) => p !== '')
    : raw === 'true' || raw === 'false'
      ? raw === 'true'
      : /^-?\d+$/.test(raw)
        ? Number(raw)
        : raw;
  return { type: 'EnableUserspaceKiller', kind, options: { [key]: value } };
}
