import { describe, expect, it } from 'vitest';
import { classifyDatagram, DatagramKind, isRtcpPacketType, looksLikeDtls, looksLikeRtcp, looksLikeRtp, looksLikeStun } from './classify.js';

const dg = (b0: number, b1 = 0, len = 40): Buffer => {
  const b = Buffer.alloc(len);
  b[0] = b0;
  b[1] = b1;
  return b;
};

describe('classifyDatagram() (RFC 7983 §7, RFC 5761 §4)', () => {
  it('maps every first-byte range boundary', () => {
    const cases: [number, DatagramKind][] = [
      [0, DatagramKind.Stun],
      [3, DatagramKind.Stun],
      [4, DatagramKind.Unknown],
      [15, DatagramKind.Unknown],
      [16, DatagramKind.Zrtp],
      [19, DatagramKind.Zrtp],
      [20, DatagramKind.Dtls],
      [63, DatagramKind.Dtls],
      [64, DatagramKind.TurnChannel],
      [79, DatagramKind.TurnChannel],
      [80, DatagramKind.Unknown],
      [127, DatagramKind.Unknown],
      [128, DatagramKind.Rtp],
      [191, DatagramKind.Rtp],
      [192, DatagramKind.Unknown],
      [255, DatagramKind.Unknown],
    ];
    for (const [b0, kind] of cases) expect(classifyDatagram(dg(b0, 96)), `first byte ${b0}`).toBe(kind);
  });

  it('tells RTCP (second byte 192–223) from RTP, including marker + PT 64–95 collisions', () => {
    for (let b1 = 0; b1 < 256; b1++) {
      const expected = b1 >= 192 && b1 <= 223 ? DatagramKind.Rtcp : DatagramKind.Rtp;
      expect(classifyDatagram(dg(0x80, b1))).toBe(expected);
      expect(isRtcpPacketType(b1)).toBe(expected === DatagramKind.Rtcp);
    }
    expect(classifyDatagram(dg(0x81, 200))).toBe(DatagramKind.Rtcp); // SR with RC 1
    expect(classifyDatagram(dg(0x80, 0x80 | 111))).toBe(DatagramKind.Rtp); // marker + opus PT 111
  });

  it('handles empty and one-byte datagrams and honours the length argument', () => {
    expect(classifyDatagram(Buffer.alloc(0))).toBe(DatagramKind.Unknown);
    expect(classifyDatagram(Buffer.from([0x80]))).toBe(DatagramKind.Unknown);
    expect(classifyDatagram(dg(0x80, 200), 0)).toBe(DatagramKind.Unknown);
  });

  it('looksLike* predicates also check minimum lengths', () => {
    expect(looksLikeStun(dg(0, 1, 20))).toBe(true);
    expect(looksLikeStun(dg(0, 1, 19))).toBe(false);
    expect(looksLikeDtls(dg(22, 0xfe, 13))).toBe(true);
    expect(looksLikeDtls(dg(22, 0xfe, 12))).toBe(false);
    expect(looksLikeRtp(dg(0x80, 111, 12))).toBe(true);
    expect(looksLikeRtp(dg(0x80, 111, 11))).toBe(false);
    expect(looksLikeRtp(dg(0x80, 201, 12))).toBe(false);
    expect(looksLikeRtcp(dg(0x80, 201, 8))).toBe(true);
    expect(looksLikeRtcp(dg(0x80, 201, 7))).toBe(false);
    expect(looksLikeRtcp(dg(0x40, 201, 8))).toBe(false);
  });
});
