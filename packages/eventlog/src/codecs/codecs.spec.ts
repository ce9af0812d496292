import { DEFAULT_SYSCTLS, type MachineConfig } from '@mmsim/kernel';
import { Envelope, MachineCreated } from '@mmsim/proto';
import { describe, expect, it } from 'vitest';
import { fromEnvelopeEvent, toEnvelopeEvent } from './codec.js';
import { decodeBatch, encodeBatch, envelopeEventType, scanBatch } from './envelope.js';
import { eventCodecs, framesCodec } from './index.js';
import { machineConfigFromProto, machineConfigToProto } from './machine-config.js';

const config: MachineConfig = {
  tenant: 'acme',
  machine: 'box',
  profile: 'linux-2.6.18',
  ramBytes: 2 ** 34,
  swapBytes: 0,
  cpus: 4,
  seed: 2 ** 40 + 7,
  sysctl: { ...DEFAULT_SYSCTLS, overcommit_memory: 2, admin_reserve_kbytes: -1, min_free_kbytes: 67584 },
};

const env = (seq: number, service: 'frames' | 'vma', serviceSeq: number): Envelope => ({
  tenant: 'acme',
  machine: 'box',
  seq: BigInt(seq),
  service,
  serviceSeq: BigInt(serviceSeq),
  simTimeNs: 5n,
  cause: { requestId: 'r', parentSeq: 0n },
  stateHash: '0123456789abcdef',
  modelVersion: 1,
  event:
    service === 'frames'
      ? { $case: 'frames', value: { event: { $case: 'machineBooted', value: { config: machineConfigToProto(config), modelVersion: 1 } } } }
      : { $case: 'vma', value: { event: { $case: 'machineCreated', value: MachineCreated.fromPartial({ config: machineConfigToProto(config), modelVersion: 1 }) } } },
});

describe('codecs', () => {
  it('round-trips an EnvelopeBatch, and the scan reads the same positions as a full decode', () => {
    const batch = [env(7, 'frames', 3), env(8, 'frames', 4)];
    const bytes = encodeBatch(batch);
    expect(decodeBatch(bytes)).toEqual(batch);
    expect(scanBatch(bytes)).toEqual({ count: 2, firstSeq: 7, lastSeq: 8, services: ['frames', 'frames'], serviceSeqs: [3, 4], tenant: 'acme', machine: 'box' });
    expect(envelopeEventType(batch[0])).toBe('MachineBooted');
  });

  it('encodes the same envelope to the same bytes every time', () => {
    expect(Buffer.from(encodeBatch([env(1, 'vma', 1)])).equals(Buffer.from(encodeBatch([env(1, 'vma', 1)])))).toBe(true);
  });

  it('converts MachineConfig both ways, 64-bit values and -1 sysctls included', () => {
    const p = machineConfigToProto(config);
    expect(p.ramBytes).toBe(17179869184n);
    expect(p.sysctl?.adminReserveKbytes).toBe(-1n);
    expect(machineConfigFromProto(p)).toEqual(config);
    expect(() => machineConfigFromProto({ ...p, profile: 'linux-5.4' })).toThrow(/unknown kernel profile/);
  });

  it('maps an event to the envelope oneof of its service and refuses another service\'s', () => {
    const event = { type: 'MachineBooted' as const, config, modelVersion: 1 };
    const e = toEnvelopeEvent(framesCodec, event);
    expect(e.$case).toBe('frames');
    expect(e.value).toEqual({ event: { $case: 'machineBooted', value: { config: machineConfigToProto(config), modelVersion: 1 } } });
    expect(fromEnvelopeEvent(framesCodec, e)).toStrictEqual(event);
    expect(() => fromEnvelopeEvent(eventCodecs.vma, e)).toThrow(/expected a vma event, got frames/);
    expect(Object.keys(eventCodecs)).toEqual(['frames', 'vma', 'heap', 'oom']);
  });
});
