// A scenario: a machine and the steps a workload takes on it, as JSON. Values that name an
// earlier result are written "$name"; sizes accept 4k/64M/2G suffixes.

export type Size = number | string;
export type Ref = number | string; // a number, or "$name" of an earlier result

export interface ScenarioMachine {
  readonly name: string;
  readonly profile?: 'linux-6.18' | 'linux-2.6.18';
  readonly ramBytes: Size;
  readonly swapBytes?: Size;
  readonly cpus?: number;
  readonly seed?: number;
  readonly sysctls?: Readonly<Record<string, string | number>>;
}

export type Step =
  | { readonly spawn: { readonly as?: string; readonly name: string; readonly uid?: number; readonly nice?: number; readonly parent?: Ref; readonly oomScoreAdj?: number; readonly rlimits?: Readonly<Record<string, Size>>; readonly capabilities?: readonly string[]; readonly cgroup?: string; readonly env?: readonly string[] } }
  | { readonly fork: { readonly pid: Ref; readonly as?: string } }
  | { readonly exit: { readonly pid: Ref; readonly code?: number } }
  | { readonly kill: { readonly pid: Ref; readonly signal?: string } }
  | { readonly malloc: { readonly pid: Ref; readonly size: Size; readonly as?: string; readonly write?: boolean; readonly tid?: number } }
  | { readonly calloc: { readonly pid: Ref; readonly nmemb: Size; readonly size: Size; readonly as?: string } }
  | { readonly realloc: { readonly pid: Ref; readonly ptr: Ref; readonly size: Size; readonly as?: string } }
  | { readonly free: { readonly pid: Ref; readonly ptr: Ref } }
  | { readonly write: { readonly pid: Ref; readonly ptr: Ref; readonly offset?: Size; readonly length: Size } }
  | { readonly mmap: { readonly pid: Ref; readonly length: Size; readonly prot?: string; readonly shared?: boolean; readonly noreserve?: boolean; readonly file?: string; readonly fileSize?: Size; readonly as?: string } }
  | { readonly munmap: { readonly pid: Ref; readonly addr: Ref; readonly length: Size } }
  | { readonly touch: { readonly pid: Ref; readonly addr: Ref; readonly length: Size; readonly write?: boolean } }
  | { readonly readFile: { readonly pid: Ref; readonly file: string; readonly fileSize?: Size; readonly offset?: Size; readonly length: Size } }
  | { readonly adj: { readonly pid: Ref; readonly value: number } }
  | { readonly sysctl: { readonly name: string; readonly value: string | number } }
  | { readonly cgroup: { readonly path: string; readonly op: 'mkdir' | 'write' | 'move'; readonly file?: string; readonly value?: string; readonly pid?: Ref } }
  | { readonly advance: Size | string }
  | { readonly repeat: { readonly times: number; readonly until?: Until; readonly steps: readonly Step[] } };

/** Stop a repeat early: when a task is gone, or when any OOM kill happened, or malloc returned NULL. */
export type Until = 'oom-kill' | 'null' | { readonly gone: Ref };

export interface Scenario {
  /** What the scenario shows, for its readers (not used when it runs). */
  readonly description?: string;
  readonly machine: ScenarioMachine;
  readonly steps: readonly Step[];
}

export interface ScenarioResult {
  readonly vars: Readonly<Record<string, number>>;
  readonly steps: number;
  /** Tasks the OOM killer (or a signal) took, in order. */
  readonly killed: readonly number[];
  /** malloc/calloc/realloc calls that returned NULL. */
  readonly nullReturns: number;
}
