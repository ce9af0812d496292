// ProcService over any set of readers: each service brings the files it owns, all-in-one
// brings all three. A path no reader owns is NOT_FOUND with the list of what is modelled.
import { machineOf, type MachineRefLike } from './edge.js';
import { unary } from './handlers.js';
import type { GrpcServiceRegistration } from './server.js';
import { invalid, notFound } from '@mmsim/kernel';
import { ProcServiceService, type ProcServiceServer } from '@mmsim/proto';

/** The file's text, or undefined when this reader does not own the path. */
export type ProcReader = (machine: MachineRefLike, path: string) => string | undefined | Promise<string | undefined>;

export const PROC_FILES =
  '/proc/meminfo, /proc/vmstat, /proc/buddyinfo, /proc/zoneinfo, /proc/<pid>/{status,maps,smaps_rollup,stat,oom_score,oom_score_adj,oom_adj}, /proc/sys/vm/*';

export function procService(readers: readonly ProcReader[]): GrpcServiceRegistration {
  const implementation: ProcServiceServer = {
    readProc: unary(async (req, call) => {
      const m = machineOf(call, req.machine);
      if (req.path.trim() === '') throw invalid('proc.NO_PATH', 'path is empty');
      for (const read of readers) {
        const text = await read(m, req.path);
        if (text !== undefined) return { path: req.path, text };
      }
      throw notFound('proc.NO_SUCH_FILE', `${req.path} is not served here (modelled: ${PROC_FILES})`);
    }),
  };
  return { definition: ProcServiceService, implementation };
}
