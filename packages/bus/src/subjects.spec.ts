import { describe, expect, it } from 'vitest';
import { subjectMatches } from './match.js';
import { eventSubject, parseEventSubject, parseRpcSubject, rpcSubject, rpcWildcard } from './subjects.js';

describe('subjects', () => {
  it('builds the subjects of docs/architecture.md', () => {
    expect(eventSubject('acme', 'box-1')).toBe('mmsim.evt.acme.box-1');
    expect(rpcSubject('heap', 'malloc')).toBe('mmsim.rpc.heap.malloc');
    expect(parseEventSubject('mmsim.evt.acme.box-1')).toEqual({ tenant: 'acme', machine: 'box-1' });
    expect(parseRpcSubject('mmsim.rpc.vma.syscall')).toEqual({ service: 'vma', op: 'syscall' });
    expect(parseEventSubject('mmsim.rpc.vma.syscall')).toBeUndefined();
  });

  it('refuses names that are not one subject token or not a safe path segment', () => {
    for (const bad of ['', 'a.b', 'a*', '>', 'a b', '../x', 'ü']) {
      expect(() => eventSubject(bad, 'm')).toThrow(/invalid tenant/);
      expect(() => eventSubject('t', bad)).toThrow(/invalid machine/);
    }
  });

  it('matches wildcards as NATS does', () => {
    expect(subjectMatches(rpcWildcard('vma'), 'mmsim.rpc.vma.brk')).toBe(true);
    expect(subjectMatches(rpcWildcard('vma'), 'mmsim.rpc.vma.brk.x')).toBe(false);
    expect(subjectMatches('mmsim.evt.>', 'mmsim.evt.t.m')).toBe(true);
    expect(subjectMatches('mmsim.evt.>', 'mmsim.evt')).toBe(false);
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*.c', 'a.b.d')).toBe(false);
  });
});
