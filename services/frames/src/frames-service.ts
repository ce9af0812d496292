// The frames service: physical memory in a host. It calls nobody; vma's Needs arrive on
// mmsim.rpc.frames.command. Its /proc files ask vma for the figures only vm keeps.
import type { Bus, Subscription } from '@mmsim/bus';
import { rpcSubject } from '@mmsim/bus';
import { eventCodecs, type AnyEventCodec, type EventLog } from '@mmsim/eventlog';
import type { ProcReader } from '@mmsim/grpc';
import { createAggregateHost, serveHost, type AggregateHost, type HostLogger } from '@mmsim/host';
import { frames, isFramesQuery, queryFrames, type FramesCommand, type FramesEvent, type FramesState } from '@mmsim/kernel/frames';
import type { VmFigures } from '@mmsim/kernel/procfs';
import { framesProcFile, renderFramesProc } from './proc.js';

export type FramesHost = AggregateHost<FramesCommand, FramesEvent, FramesState>;

export interface FramesServiceOptions {
  readonly log: EventLog;
  readonly bus: Bus;
  readonly logger?: HostLogger;
}

export interface FramesService {
  readonly host: FramesHost;
  readonly proc: ProcReader;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createFramesService(opts: FramesServiceOptions): FramesService {
  const host = createAggregateHost<FramesCommand, FramesEvent, FramesState>({
    aggregate: frames,
    codec: eventCodecs.frames as AnyEventCodec<FramesEvent>,
    log: opts.log,
    logger: opts.logger,
  });
  const subs: Subscription[] = [];
  return {
    host,
    async proc(m, path) {
      const file = framesProcFile(path);
      if (!file) return undefined;
      const vm = (await opts.bus.request(rpcSubject('vma', 'query'), { machine: m, query: { type: 'VmFigures' } })) as VmFigures;
      return host.query(m, (s) => renderFramesProc(s, m.machine, file, vm));
    },
    async start() {
      await host.start();
      subs.push(await serveHost(opts.bus, host, { queryOf: (r) => (isFramesQuery(r) ? (s: FramesState) => queryFrames(s, r) : undefined) }));
    },
    async close() {
      for (const s of subs) await s.stop();
      await host.close();
    },
  };
}
