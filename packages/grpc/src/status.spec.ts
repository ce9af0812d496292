import { status } from '@grpc/grpc-js';
import { Rejection } from '@mmsim/kernel';
import { describe, expect, it } from 'vitest';
import { toServiceError } from './status.js';

const quiet = { error: () => undefined };

describe('error -> gRPC status', () => {
  it('maps each rejection kind, matching on data not on the class', () => {
    const cases: [Rejection['kind'], status][] = [
      ['invalid', status.INVALID_ARGUMENT],
      ['not-found', status.NOT_FOUND],
      ['precondition', status.FAILED_PRECONDITION],
      ['quota', status.RESOURCE_EXHAUSTED],
      ['permission', status.PERMISSION_DENIED],
    ];
    for (const [kind, code] of cases) {
      const local = toServiceError(new Rejection('vma.X', kind, 'why'), 't', quiet);
      const crossed = toServiceError({ name: 'Rejection', code: 'vma.X', kind, message: 'why' }, 't', quiet);
      expect([local.code, crossed.code]).toEqual([code, code]);
      expect(local.details).toBe('vma.X: why');
      expect(local.metadata?.get('mmsim-rejection-code')).toEqual(['vma.X']);
      expect(local.metadata?.get('mmsim-rejection-kind')).toEqual([kind]);
    }
  });

  it('maps infrastructure errors by name, also when relayed over the bus', () => {
    const named = (name: string) => Object.assign(new Error('m'), { name });
    expect(toServiceError(named('LogFencedError'), 't', quiet).code).toBe(status.ABORTED);
    expect(toServiceError(named('NoRespondersError'), 't', quiet).code).toBe(status.UNAVAILABLE);
    expect(toServiceError(named('RequestTimeoutError'), 't', quiet).code).toBe(status.UNAVAILABLE);
    const relayed = Object.assign(new Error('vma: fenced'), { name: 'RemoteError', remoteName: 'LogFencedError' });
    const r = toServiceError(relayed, 't', quiet);
    expect(r.code).toBe(status.ABORTED);
    expect(r.metadata?.get('mmsim-error')).toEqual(['LogFencedError']);
  });

  it('turns anything else into INTERNAL and logs it', () => {
    const logged: unknown[] = [];
    const r = toServiceError(new TypeError('x is undefined'), '/mmsim.v1.X/Y', { error: (m, e) => logged.push(m, e) });
    expect(r.code).toBe(status.INTERNAL);
    expect(r.details).toBe('internal error (TypeError: x is undefined)');
    expect(logged[0]).toBe('/mmsim.v1.X/Y: internal error');
    expect(toServiceError('a string', 't', quiet).code).toBe(status.INTERNAL);
  });
});
