// The machine-wide /proc files: frames' figures plus what only vm knows (Committed_AS,
// CommitLimit, fault counters), read from vma over the bus without entering any queue.
import { notFound } from '@mmsim/kernel';
import type { FramesState } from '@mmsim/kernel/frames';
import { buddyinfoZones, meminfoInput, renderBuddyinfo, renderMeminfo, renderVmstat, renderZoneinfo, vmstatValues, zoneinfoInput, type VmFigures } from '@mmsim/kernel/procfs';

export const FRAMES_PROC_FILES = ['meminfo', 'vmstat', 'buddyinfo', 'zoneinfo'] as const;
export type FramesProcFile = (typeof FRAMES_PROC_FILES)[number];

export function framesProcFile(path: string): FramesProcFile | undefined {
  const rel = path.trim().replace(/^\/+/, '').replace(/^proc\//, '');
  return (FRAMES_PROC_FILES as readonly string[]).includes(rel) ? (rel as FramesProcFile) : undefined;
}

export function renderFramesProc(s: FramesState, machine: string, file: FramesProcFile, vm: VmFigures): string {
  const profile = s.config?.profile;
  if (!profile) throw notFound('frames.NO_SUCH_MACHINE', `no machine ${machine}`);
  switch (file) {
    case 'meminfo':
      return renderMeminfo(meminfoInput(s, vm), profile);
    case 'vmstat':
      return renderVmstat(vmstatValues(s, vm), profile);
    case 'buddyinfo':
      return renderBuddyinfo(buddyinfoZones(s));
    case 'zoneinfo':
      return renderZoneinfo(zoneinfoInput(s, vm), profile);
  }
}
