// The cgroup v2 memory controller as the OOM killer sees it (mm/memcontrol.c):
// mem_cgroup_scan_tasks() walks a subtree in pre-order, mem_cgroup_get_oom_group() finds the
// memory.oom.group cgroup to kill whole. Cgroup 0 is the root.
import type { OomMemcgInfo, OomTask } from '../contracts/oom.js';

export const ROOT_MEMCG = 0;

export interface MemcgTree {
  readonly byId: ReadonlyMap<number, OomMemcgInfo>;
  /** Children in the order the request lists them (creation order). */
  readonly children: ReadonlyMap<number, readonly number[]>;
}

export function memcgTree(memcgs: readonly OomMemcgInfo[] | undefined): MemcgTree {
  const byId = new Map<number, OomMemcgInfo>();
  const children = new Map<number, number[]>();
  for (const m of memcgs ?? []) {
    byId.set(m.id, m);
    if (m.id === m.parent) continue;
    let list = children.get(m.parent);
    if (list === undefined) children.set(m.parent, (list = []));
    list.push(m.id);
  }
  return { byId, children };
}

/** css_next_descendant_pre(): `root` first, then each child's subtree in order. */
export function subtreePreOrder(tree: MemcgTree, root: number): number[] {
  const out: number[] = [];
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const id = stack.pop() as number;
    if (seen.has(id)) continue; // a malformed tree must not loop
    seen.add(id);
    out.push(id);
    const kids = tree.children.get(id);
    if (kids) for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
  return out;
}

/**
 * mem_cgroup_scan_tasks(memcg, ...): the thread-group leaders of every cgroup of the subtree, in
 * pre-order; within a cgroup, in task-list order (the kernel: css_set order, close to it).
 */
export function scanSubtreeTasks(tree: MemcgTree, root: number, tasks: readonly OomTask[]): OomTask[] {
  const order = subtreePreOrder(tree, root);
  const byMemcg = new Map<number, OomTask[]>();
  for (const id of order) byMemcg.set(id, []);
  for (const t of tasks) {
    if (t.pid !== t.tgid) continue; // CSS_TASK_ITER_PROCS
    const list = byMemcg.get(t.memcg);
    if (list !== undefined) list.push(t);
  }
  const out: OomTask[] = [];
  for (const id of order) for (const t of byMemcg.get(id) as OomTask[]) out.push(t);
  return out;
}

/**
 * mem_cgroup_get_oom_group(victim, oom_domain): walking up from the victim's cgroup to the
 * OOM domain (the OOMing cgroup; the root for a global OOM), the highest cgroup with
 * memory.oom.group set. None when the victim sits in the root cgroup.
 */
export function oomGroupOf(tree: MemcgTree, victimMemcg: number, oomDomain: number): OomMemcgInfo | null {
  if (victimMemcg === ROOT_MEMCG) return null;
  let group: OomMemcgInfo | null = null;
  let id = victimMemcg;
  for (let guard = 0; guard < 10_000; guard++) {
    const m = tree.byId.get(id);
    if (m === undefined) break;
    if (m.oomGroup) group = m;
    if (id === oomDomain || m.parent === id) break;
    id = m.parent;
  }
  return group;
}

export function memcgPath(tree: MemcgTree, id: number): string {
  return tree.byId.get(id)?.path ?? (id === ROOT_MEMCG ? '/' : `memcg#${id}`);
}
