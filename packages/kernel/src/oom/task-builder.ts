// oomTask(): an OomTask with the dull fields filled in (uid 1000, nice 0, adj 0, no flags), for
// tests, benches and what-if tables. Only pid is required.
import type { OomMmInfo, OomTask } from '../contracts/oom.js';
import { oomAdjFromScoreAdj } from './legacy-adj.js';

export type OomTaskInit = Partial<Omit<OomTask, 'mm'>> & { readonly pid: number; readonly mm?: Partial<OomMmInfo> | null };

export function oomTask(init: OomTaskInit): OomTask {
  const oomScoreAdj = init.oomScoreAdj ?? 0;
  let mm: OomMmInfo | null = null;
  if (init.mm !== null) {
    const m = init.mm ?? {};
    const rssAnon = m.rssAnon ?? 0, rssFile = m.rssFile ?? 0, rssShmem = m.rssShmem ?? 0;
    mm = {
      mmId: m.mmId ?? init.pid,
      totalVm: m.totalVm ?? rssAnon + rssFile + rssShmem + (m.swapEnts ?? 0),
      rssAnon,
      rssFile,
      rssShmem,
      swapEnts: m.swapEnts ?? 0,
      pgtablesBytes: m.pgtablesBytes ?? 0,
      oomSkip: m.oomSkip ?? false,
    };
  }
  return {
    pid: init.pid,
    tgid: init.tgid ?? init.pid,
    ppid: init.ppid ?? 1,
    name: init.name ?? `task${init.pid}`,
    uid: init.uid ?? 1000,
    euid: init.euid ?? init.uid ?? 1000,
    capSysAdmin: init.capSysAdmin ?? false,
    capSysResource: init.capSysResource ?? false,
    capSysRawio: init.capSysRawio ?? false,
    nice: init.nice ?? 0,
    oomScoreAdj,
    oomAdj: init.oomAdj ?? oomAdjFromScoreAdj(oomScoreAdj),
    isKthread: init.isKthread ?? false,
    inVfork: init.inVfork ?? false,
    exiting: init.exiting ?? false,
    oomVictim: init.oomVictim ?? false,
    oomOrigin: init.oomOrigin ?? false,
    utimeTicks: init.utimeTicks ?? 0,
    stimeTicks: init.stimeTicks ?? 0,
    startTimeNs: init.startTimeNs ?? 0,
    memcg: init.memcg ?? 0,
    mm,
    children: init.children ?? [],
    mmSharers: init.mmSharers ?? [],
  };
}
