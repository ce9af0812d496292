// Every NATS subject mmsim uses is built here, never by concatenation at a call site
// (docs/architecture.md "Subjects"). Tenants, machines, services and ops are single subject
// tokens, and tenants and machines are also path segments of the file log, so they are
// restricted to [A-Za-z0-9_-].

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export class InvalidNameError extends Error {
  override readonly name = 'InvalidNameError';
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`invalid ${what} ${JSON.stringify(value)}: use 1-128 of [A-Za-z0-9_-]`);
  }
}

/** Throws InvalidNameError unless `value` is a valid subject token / path segment. */
export function checkToken(what: string, value: string): string {
  if (typeof value !== 'string' || !TOKEN.test(value)) throw new InvalidNameError(what, String(value));
  return value;
}

export const isValidToken = (value: string): boolean => TOKEN.test(value);

/** The JetStream stream that holds every machine's log, and the subjects it captures. */
export const EVENT_STREAM = 'MMSIM';
export const EVENT_SUBJECTS = 'mmsim.evt.>';

/** `mmsim.evt.<tenant>.<machine>`: one machine's log; all four services append to it. */
export const eventSubject = (tenant: string, machine: string): string =>
  `mmsim.evt.${checkToken('tenant', tenant)}.${checkToken('machine', machine)}`;

/** The tenant and machine of an event subject, or undefined if it is not one. */
export function parseEventSubject(subject: string): { tenant: string; machine: string } | undefined {
  const t = subject.split('.');
  if (t.length !== 4 || t[0] !== 'mmsim' || t[1] !== 'evt' || !isValidToken(t[2]) || !isValidToken(t[3])) return undefined;
  return { tenant: t[2], machine: t[3] };
}

/** `mmsim.rpc.<service>.<op>`: request/reply to a service (outside the stream). */
export const rpcSubject = (service: string, op: string): string =>
  `mmsim.rpc.${checkToken('service', service)}.${checkToken('op', op)}`;

/** `mmsim.rpc.<service>.*`: every op of a service, for one handler that dispatches on the op. */
export const rpcWildcard = (service: string): string => `mmsim.rpc.${checkToken('service', service)}.*`;

/** The service and op of an rpc subject, or undefined if it is not one. */
export function parseRpcSubject(subject: string): { service: string; op: string } | undefined {
  const t = subject.split('.');
  if (t.length !== 4 || t[0] !== 'mmsim' || t[1] !== 'rpc' || !isValidToken(t[2]) || !isValidToken(t[3])) return undefined;
  return { service: t[2], op: t[3] };
}
