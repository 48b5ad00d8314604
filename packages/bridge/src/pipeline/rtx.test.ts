import { describe, expect, it } from 'vitest';
import { PacketInfo } from '../rtp/packet-info.js';
import { dropPaddingInPlace, unwrapRtx, wrapRtxInPlace, writePlainCopy, writeRtx } from './rtx.js';

function packetWithExtension(): PacketInfo {
  // V=2, X=1, PT 100, seq 4660, ts 0x01020304, ssrc 0xaabbccdd, one-byte ext (id 11, 1 byte), payload 5 bytes.
  const bytes = [0x90, 0x64, 0x12, 0x34, 1, 2, 3, 4, 0xaa, 0xbb, 0xcc, 0xdd, 0xbe, 0xde, 0, 1, 0xb0, 0x07, 0, 0, 9, 8, 7, 6, 5];
  const p = new PacketInfo(Buffer.alloc(64));
  Buffer.from(bytes).copy(p.buffer);
  p.length = bytes.length;
  expect(p.parseRtp()).toBe(0);
  return p;
}

describe('RTX (RFC 4588)', () => {
  it('wraps a packet into RTX and unwraps it back to the original', () => {
    const orig = packetWithExtension();
    const out = Buffer.alloc(64);
    const len = writeRtx(out, orig, 0x11223344, 77, 96);
    expect(len).toBe(orig.length + 2);
    const rtx = new PacketInfo(Buffer.alloc(64));
    out.copy(rtx.buffer, 0, 0, len);
    rtx.length = len;
    expect(rtx.parseRtp()).toBe(0);
    expect(rtx.rtp.ssrc).toBe(0x11223344);
    expect(rtx.rtp.sequenceNumber).toBe(77);
    expect(rtx.rtp.payloadType).toBe(96);
    expect(rtx.rtp.timestamp).toBe(0x01020304);
    expect(rtx.buffer.readUInt16BE(rtx.rtp.payloadOffset)).toBe(0x1234);
    expect(unwrapRtx(rtx, 0xaabbccdd, 100)).toBe('ok');
    expect(rtx.isRetransmission).toBe(true);
    expect(rtx.view()).toEqual(orig.view());
  });

  it('refuses an RTX packet with nothing after the OSN (a probe)', () => {
    const p = new PacketInfo(Buffer.alloc(64));
    Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x12, 0x34]).copy(p.buffer);
    p.length = 14;
    p.parseRtp();
    expect(unwrapRtx(p, 1, 100)).toBe('rtx-too-short');
  });

  it('a plain copy drops the padding and clears the P bit', () => {
    const p = new PacketInfo(Buffer.alloc(64));
    Buffer.from([0xa0, 100, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 7, 7, 0, 0, 3]).copy(p.buffer);
    p.length = 17;
    expect(p.parseRtp()).toBe(0);
    const out = Buffer.alloc(64);
    const len = writePlainCopy(out, p);
    expect(len).toBe(14);
    expect(out[0]).toBe(0x80);
    expect(writeRtx(Buffer.alloc(4), p, 1, 1, 96)).toBe(-1);
  });

  it('the in-place forms give the same bytes as the copying ones', () => {
    const padded = (): PacketInfo => {
      const p = new PacketInfo(Buffer.alloc(64));
      Buffer.from([0xb0, 0x64, 0x12, 0x34, 1, 2, 3, 4, 0xaa, 0xbb, 0xcc, 0xdd, 0xbe, 0xde, 0, 1, 0xb0, 0x07, 0, 0, 9, 8, 7, 0, 2]).copy(p.buffer);
      p.length = 25;
      expect(p.parseRtp()).toBe(0);
      return p;
    };
    for (const make of [packetWithExtension, padded]) {
      const out = Buffer.alloc(64);
      const len = writeRtx(out, make(), 0x11223344, 77, 96);
      const p = make();
      expect(wrapRtxInPlace(p, 0x11223344, 77, 96)).toBe(len);
      expect(p.view()).toEqual(out.subarray(0, len));
      expect(p.rtp.ssrc).toBe(0x11223344);
      const plainLen = writePlainCopy(out, make());
      const q = make();
      expect(dropPaddingInPlace(q)).toBe(plainLen);
      expect(q.view()).toEqual(out.subarray(0, plainLen));
    }
    // No room for the OSN.
    const full = new PacketInfo(Buffer.alloc(25));
    packetWithExtension().buffer.copy(full.buffer, 0, 0, 25);
    full.length = 25;
    expect(full.parseRtp()).toBe(0);
    expect(wrapRtxInPlace(full, 1, 1, 96)).toBe(-1);
  });
});
