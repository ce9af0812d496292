// A cgroup limit vma cannot read is INVALID_ARGUMENT naming the file and the value (the
// reading itself: packages/kernel/src/common/memparse.spec.ts).
import { describe, expect, it } from 'vitest';
import { limitValue } from './vma-grpc.js';

describe('cgroup limit values', () => {
  it('reads what the kernel reads, and names the file and the value when it cannot', () => {
    expect(limitValue('memory.max', '48M')).toBe(48 * 2 ** 20);
    expect(limitValue('memory.max', 'max')).toBe(-1);
    expect(() => limitValue('memory.high', '48MB')).toThrow(/memory\.high takes bytes \(4096, 64M, 2G\.\.\.\) or "max", got "48MB"/);
  });
});
