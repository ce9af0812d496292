// NATS subject matching: tokens split on '.', `*` matches one token, `>` (last) one or more.

export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** A subject you can publish to: non-empty tokens, no wildcards, no whitespace. */
export const isPublishSubject = (subject: string): boolean =>
  subject.length > 0 && subject.split('.').every((t) => t.length > 0 && !/[\s*>]/.test(t));

/** A subject you can subscribe to: wildcards allowed, `>` only last. */
export function isSubscribeSubject(subject: string): boolean {
  const t = subject.split('.');
  return t.every((x, i) => x.length > 0 && !/\s/.test(x) && (x === '*' || x === '>' || !/[*>]/.test(x)) && (x !== '>' || i === t.length - 1));
}
