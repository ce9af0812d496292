// do_exit() of a whole thread group (exit_group, or a fatal signal): every thread exits, the mm
// is torn down with its last user (exit_mmap frees its memory through frames), children go to
// init, and exited tasks are reaped when nobody will wait for them.
import { SIGKILL } from './constants.js';
import type { Ctx, Step } from './ctx.js';
import { settle } from './settle.js';
import type { Task } from './types.js';

export type ExitOutcome = 'exited' | 'pending' | 'gone';

/** The live tasks of pid's thread group, in list order (leader first: it was created first). */
export function threadGroup(ctx: Ctx, pid: number): Task[] {
  const t = ctx.w.task(pid);
  if (!t) return [];
  // A leader alone on its mm has no threads (they would share it): no need to scan the task list.
  const mm = t.pid === t.tgid && t.mmId ? ctx.w.mm(t.mmId) : undefined;
  if (mm && mm.users === 1) return t.state === 'running' || t.state === 'exiting' ? [t] : [];
  const out: Task[] = [];
  for (const p of ctx.w.order) {
    const x = ctx.w.task(p);
    if (x && x.tgid === t.tgid && (x.state === 'running' || x.state === 'exiting')) out.push(x);
  }
  return out;
}

/**
 * Ends the thread group of `pid` with `code` or `signal`. A group with a stuck thread cannot act
 * on SIGKILL yet: the kill stays pending (KillPending) and nothing is freed.
 */
export function* exitGroup(ctx: Ctx, pid: number, code: number, signal: number, oomVictim: boolean): Step<ExitOutcome> {
  const group = threadGroup(ctx, pid);
  if (group.length === 0) return 'gone';
  if (signal === SIGKILL && group.some((t) => t.stuck)) {
    for (const t of group) ctx.emit({ type: 'KillPending', pid: t.pid, oomVictim });
    return 'pending';
  }
  const leader = group.find((t) => t.pid === t.tgid) ?? group[0];
  const memcg = leader.memcg;
  const children = ctx.w.childrenOf(leader.pid);
  for (const t of group) {
    if (t.pid === leader.pid) continue;
    yield* settle(ctx, ctx.emit({ type: 'TaskExited', pid: t.pid, code, signal, oomVictim }), memcg);
    ctx.emit({ type: 'TaskReaped', pid: t.pid });
  }
  yield* settle(ctx, ctx.emit({ type: 'TaskExited', pid: leader.pid, code, signal, oomVictim }), memcg);
  // init reaps the zombies it inherits.
  for (const c of children) if (ctx.w.task(c)?.state === 'zombie') ctx.emit({ type: 'TaskReaped', pid: c });
  const parent = ctx.w.task(leader.ppid);
  if (!parent || parent.pid <= 1 || parent.state !== 'running') ctx.emit({ type: 'TaskReaped', pid: leader.pid });
  return 'exited';
}
