import { describe, expect, it } from 'vitest';
import { busContract } from '../bus.contract.js';
import { rpcSubject } from '../subjects.js';
import { InProcessBus } from './in-process-bus.js';

busContract('InProcessBus', async () => {
  const bus = new InProcessBus();
  return { server: bus, client: bus, close: () => bus.close() };
});

busContract('InProcessBus (copy: none)', async () => {
  const bus = new InProcessBus({ copy: 'none' });
  return { server: bus, client: bus, close: () => bus.close() };
});

describe('InProcessBus: determinism', () => {
  it('hands a queue group its messages round-robin, in registration order', async () => {
    const bus = new InProcessBus();
    const s = rpcSubject('heap', 'malloc');
    const who: string[] = [];
    await bus.serve(s, () => who.push('a'), { queue: 'heap' });
    await bus.serve(s, () => who.push('b'), { queue: 'heap' });
    await bus.serve(s, () => who.push('c'), { queue: 'heap' });
    for (let i = 0; i < 5; i++) await bus.request(s, i);
    expect(who).toEqual(['a', 'b', 'c', 'a', 'b']);
  });

  it('does not share objects between caller and handler unless told to', async () => {
    const bus = new InProcessBus();
    const payload = { list: [1] };
    await bus.serve(rpcSubject('vma', 'x'), (p) => {
      (p as { list: number[] }).list.push(2);
      return p;
    });
    const r = await bus.request(rpcSubject('vma', 'x'), payload);
    expect(payload.list).toEqual([1]);
    expect(r).toEqual({ list: [1, 2] });
  });

  it('fails on what JSON cannot carry, as NATS would', async () => {
    const bus = new InProcessBus();
    await bus.serve(rpcSubject('vma', 'x'), () => 1);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(bus.request(rpcSubject('vma', 'x'), cyclic)).rejects.toMatchObject({ name: 'BusCodecError' });
  });
});
