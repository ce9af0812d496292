// A scenario read from a file is checked whole before anything runs, so a typo in step 40 is
// reported with its place (`steps[39].malloc.size: ...`) instead of failing after 39 steps have
// already changed a machine.
import { durationOf, sizeOf } from './size.js';
import { ScenarioError } from './runner.js';
import type { Scenario } from './types.js';

type FieldKind = 'ref' | 'size' | 'string' | 'int' | 'bool' | 'strings' | 'sizes' | 'prot' | 'signal' | 'cgroup-op';

interface StepSpec {
  readonly required: readonly string[];
  readonly fields: Readonly<Record<string, FieldKind>>;
}

const STEPS: Readonly<Record<string, StepSpec>> = {
  spawn: { required: ['name'], fields: { as: 'string', name: 'string', uid: 'int', nice: 'int', parent: 'ref', oomScoreAdj: 'int', rlimits: 'sizes', capabilities: 'strings', cgroup: 'string', env: 'strings' } },
  fork: { required: ['pid'], fields: { pid: 'ref', as: 'string' } },
  exit: { required: ['pid'], fields: { pid: 'ref', code: 'int' } },
  kill: { required: ['pid'], fields: { pid: 'ref', signal: 'signal' } },
  malloc: { required: ['pid', 'size'], fields: { pid: 'ref', size: 'size', as: 'string', write: 'bool', tid: 'int' } },
  calloc: { required: ['pid', 'nmemb', 'size'], fields: { pid: 'ref', nmemb: 'size', size: 'size', as: 'string' } },
  realloc: { required: ['pid', 'ptr', 'size'], fields: { pid: 'ref', ptr: 'ref', size: 'size', as: 'string' } },
  free: { required: ['pid', 'ptr'], fields: { pid: 'ref', ptr: 'ref' } },
  write: { required: ['pid', 'ptr', 'length'], fields: { pid: 'ref', ptr: 'ref', offset: 'size', length: 'size' } },
  mmap: { required: ['pid', 'length'], fields: { pid: 'ref', length: 'size', prot: 'prot', shared: 'bool', noreserve: 'bool', file: 'string', fileSize: 'size', as: 'string' } },
  munmap: { required: ['pid', 'addr', 'length'], fields: { pid: 'ref', addr: 'ref', length: 'size' } },
  touch: { required: ['pid', 'addr', 'length'], fields: { pid: 'ref', addr: 'ref', length: 'size', write: 'bool' } },
  readFile: { required: ['pid', 'file', 'length'], fields: { pid: 'ref', file: 'string', fileSize: 'size', offset: 'size', length: 'size' } },
  adj: { required: ['pid', 'value'], fields: { pid: 'ref', value: 'int' } },
  sysctl: { required: ['name', 'value'], fields: { name: 'string', value: 'string' } },
  cgroup: { required: ['path', 'op'], fields: { path: 'string', op: 'cgroup-op', file: 'string', value: 'string', pid: 'ref' } },
};
const SPECIAL_STEPS = ['advance', 'repeat'];
const MACHINE_FIELDS = ['name', 'profile', 'ramBytes', 'swapBytes', 'cpus', 'seed', 'sysctls'];

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (x: unknown): string => (typeof x === 'string' ? `"${x}"` : JSON.stringify(x) ?? String(x));
const fail = (path: string, what: string): never => {
  throw new ScenarioError(`${path}: ${what}`);
};

function checkSize(path: string, x: unknown): void {
  if (sizeOf(x) === undefined) fail(path, `expected a size (4096, "64k", "2M", "1G"), got ${show(x)}`);
}

function checkDuration(path: string, x: unknown): void {
  if (durationOf(x) === undefined) fail(path, `expected a duration ("2s", "500ms", or nanoseconds), got ${show(x)}`);
}

/** Names given with `as` so far, in document order: a `$name` must come after its `as`. */
class Names {
  private readonly known = new Set<string>();
  define(path: string, x: unknown): void {
    if (typeof x !== 'string' || !/^[A-Za-z_][\w-]*$/.test(x)) fail(path, `expected a name (letters, digits, _ and -), got ${show(x)}`);
    this.known.add(x as string);
  }
  checkRef(path: string, x: unknown): void {
    if (typeof x === 'number') {
      if (!Number.isSafeInteger(x)) fail(path, `expected an integer or "$name", got ${show(x)}`);
      return;
    }
    if (typeof x !== 'string') return fail(path, `expected an integer or "$name", got ${show(x)}`);
    if (x.startsWith('$')) {
      if (!this.known.has(x.slice(1))) fail(path, `${x} names no earlier result (give a step "as": "${x.slice(1)}" before this one)`);
      return;
    }
    if (!Number.isSafeInteger(Number(x)) || x.trim() === '') fail(path, `expected an integer or "$name", got ${show(x)}`);
  }
}

function checkField(path: string, kind: FieldKind, x: unknown, names: Names): void {
  switch (kind) {
    case 'ref':
      return names.checkRef(path, x);
    case 'size':
      return checkSize(path, x);
    case 'string':
      if (typeof x !== 'string') fail(path, `expected a string, got ${show(x)}`);
      return;
    case 'int':
      if (typeof x !== 'number' || !Number.isSafeInteger(x)) fail(path, `expected an integer, got ${show(x)}`);
      return;
    case 'bool':
      if (typeof x !== 'boolean') fail(path, `expected true or false, got ${show(x)}`);
      return;
    case 'strings':
      if (!Array.isArray(x) || x.some((s) => typeof s !== 'string')) fail(path, `expected a list of strings, got ${show(x)}`);
      return;
    case 'sizes':
      if (!isObject(x)) return fail(path, `expected an object of sizes like {"as": "1G"}, got ${show(x)}`);
      for (const [k, v] of Object.entries(x)) checkSize(`${path}.${k}`, v);
      return;
    case 'prot':
      if (typeof x !== 'string' || !/^[rwx]*$/.test(x)) fail(path, `expected protection letters from "rwx" (e.g. "rw"), got ${show(x)}`);
      return;
    case 'signal':
      if (typeof x !== 'string' || !/^(SIG)?[A-Z0-9]+$|^\d+$/.test(x)) fail(path, `expected a signal name such as "SIGKILL", got ${show(x)}`);
      return;
    case 'cgroup-op':
      if (x !== 'mkdir' && x !== 'write' && x !== 'move') fail(path, `expected "mkdir", "write" or "move", got ${show(x)}`);
      return;
  }
}

function checkSteps(path: string, steps: unknown, names: Names): void {
  if (!Array.isArray(steps)) return fail(path, `expected a list of steps, got ${show(steps)}`);
  steps.forEach((step, i) => checkStep(`${path}[${i}]`, step, names));
}

function checkStep(path: string, step: unknown, names: Names): void {
  if (!isObject(step)) return fail(path, `expected a step such as {"malloc": {...}}, got ${show(step)}`);
  const keys = Object.keys(step);
  const kinds = [...Object.keys(STEPS), ...SPECIAL_STEPS];
  if (keys.length !== 1 || !kinds.includes(keys[0])) {
    fail(path, `a step is an object with one key, one of ${kinds.join(', ')}; got ${keys.length === 0 ? 'none' : keys.join(', ')}`);
  }
  const kind = keys[0];
  const body = step[kind];
  const at = `${path}.${kind}`;
  if (kind === 'advance') return checkDuration(at, body);
  if (kind === 'repeat') {
    if (!isObject(body)) return fail(at, `expected {"times": N, "steps": [...]}, got ${show(body)}`);
    for (const k of Object.keys(body)) if (!['times', 'until', 'steps'].includes(k)) fail(`${at}.${k}`, 'unknown field (times, until, steps)');
    if (typeof body.times !== 'number' || !Number.isSafeInteger(body.times) || body.times < 0) fail(`${at}.times`, `expected a whole number of times, got ${show(body.times)}`);
    checkSteps(`${at}.steps`, body.steps, names);
    const u = body.until;
    if (u !== undefined && u !== 'oom-kill' && u !== 'null') {
      if (!isObject(u) || Object.keys(u).join() !== 'gone') fail(`${at}.until`, `expected "oom-kill", "null" or {"gone": PID}, got ${show(u)}`);
      else names.checkRef(`${at}.until.gone`, u.gone);
    }
    return;
  }
  const spec = STEPS[kind];
  if (!isObject(body)) return fail(at, `expected an object with ${spec.required.join(', ')}, got ${show(body)}`);
  for (const k of Object.keys(body)) if (!(k in spec.fields)) fail(`${at}.${k}`, `unknown field (${Object.keys(spec.fields).join(', ')})`);
  for (const k of spec.required) if (body[k] === undefined) fail(`${at}.${k}`, 'missing');
  // sysctl values may be numbers or strings
  for (const [k, v] of Object.entries(body)) {
    if (k === 'as') continue;
    if (kind === 'sysctl' && k === 'value' && typeof v === 'number') continue;
    checkField(`${at}.${k}`, spec.fields[k], v, names);
  }
  // the name is defined by the step's result, for the steps after it
  if (body.as !== undefined) names.define(`${at}.as`, body.as);
}

function checkMachine(m: unknown): void {
  if (!isObject(m)) return fail('machine', `expected {"name": ..., "ramBytes": ...}, got ${show(m)}`);
  for (const k of Object.keys(m)) if (!MACHINE_FIELDS.includes(k)) fail(`machine.${k}`, `unknown field (${MACHINE_FIELDS.join(', ')})`);
  if (typeof m.name !== 'string' || m.name.length === 0) fail('machine.name', `expected a machine name, got ${show(m.name)}`);
  if (m.ramBytes === undefined) fail('machine.ramBytes', 'missing');
  checkSize('machine.ramBytes', m.ramBytes);
  if (m.swapBytes !== undefined) checkSize('machine.swapBytes', m.swapBytes);
  if (m.profile !== undefined && m.profile !== 'linux-6.18' && m.profile !== 'linux-2.6.18') fail('machine.profile', `expected "linux-6.18" or "linux-2.6.18", got ${show(m.profile)}`);
  for (const k of ['cpus', 'seed']) {
    if (m[k] !== undefined && (typeof m[k] !== 'number' || !Number.isSafeInteger(m[k]) || (m[k] as number) < 0)) fail(`machine.${k}`, `expected a whole number, got ${show(m[k])}`);
  }
  if (m.sysctls !== undefined) {
    if (!isObject(m.sysctls)) return fail('machine.sysctls', `expected an object such as {"vm.overcommit_memory": 2}, got ${show(m.sysctls)}`);
    for (const [k, v] of Object.entries(m.sysctls)) if (typeof v !== 'string' && typeof v !== 'number') fail(`machine.sysctls.${k}`, `expected a number or string, got ${show(v)}`);
  }
}

/** Checks a parsed JSON value is a scenario (types.ts), naming the first place that is not. */
export function validateScenario(x: unknown): Scenario {
  if (!isObject(x)) return fail('scenario', `expected an object with "machine" and "steps", got ${show(x)}`);
  for (const k of Object.keys(x)) if (k !== 'machine' && k !== 'steps' && k !== 'description') fail(k, 'unknown field (machine, steps, description)');
  checkMachine(x.machine);
  if (x.steps === undefined) fail('steps', 'missing');
  checkSteps('steps', x.steps, new Names());
  return x as unknown as Scenario;
}

/** A scenario from JSON text: a syntax error or a wrong field is a ScenarioError saying where. */
export function parseScenario(text: string): Scenario {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return validateScenario(x);
}
