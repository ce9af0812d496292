import { describe, expect, it } from 'vitest';
import { checkHeader, fileHeader, frame, frameAt } from './format.js';

describe('.mmlog framing', () => {
  it('uses the standard CRC-32 (check value of "123456789" is 0xCBF43926)', () => {
    const f = frame(new TextEncoder().encode('123456789'));
    const dv = new DataView(f.buffer);
    expect(dv.getUint32(0, true)).toBe(9);
    expect(dv.getUint32(4, true)).toBe(0xcbf43926);
  });

  it('reads a frame back, asks for more bytes when short, and flags a bad checksum', () => {
    const f = frame(new Uint8Array([1, 2, 3]));
    expect(frameAt(f, 0)).toMatchObject({ kind: 'record', size: 11 });
    expect(frameAt(f.subarray(0, 10), 0)).toEqual({ kind: 'short', need: 11 });
    expect(frameAt(f.subarray(0, 5), 0)).toEqual({ kind: 'short', need: 8 });
    const bad = f.slice();
    bad[9] ^= 1;
    expect(frameAt(bad, 0)).toMatchObject({ kind: 'bad', reason: 'checksum mismatch' });
    expect(frameAt(new Uint8Array(8), 0)).toMatchObject({ kind: 'bad', reason: 'record length 0' });
  });

  it('recognizes its header', () => {
    expect(checkHeader(fileHeader())).toBe('ok');
    expect(checkHeader(fileHeader().subarray(0, 5))).toBe('torn');
    expect(checkHeader(new Uint8Array(0))).toBe('empty');
    expect(checkHeader(new TextEncoder().encode('SQLite format 3\0'))).toBe('foreign');
  });
});
