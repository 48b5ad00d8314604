import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RtpPacket } from 'werift-rtp';
import {
  RtpHeader,
  rtpHeaderLength,
  rtpMarker,
  RtpParseStatus,
  rtpPayloadType,
  rtpSequenceNumber,
  rtpSsrc,
  rtpTimestamp,
  setRtpPayloadType,
  setRtpSequenceNumber,
  setRtpSsrc,
  setRtpTimestamp,
  writeRtpHeader,
} from './rtp-packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RtpHeader.parse()', () => {
  it('parses a packet with CSRCs, a one-byte extension and padding', () => {
    // V=2 P=1 X=1 CC=2, M=1 PT=100, seq 0xbeef, ts 0x01020304, ssrc 0xcafebabe
    const buf = hex(`b2e4beef 01020304 cafebabe 00000001 00000002
      bede0001 10ff0000
      aabbccdd ee
      000003`);
    const h = new RtpHeader();
    expect(h.parse(buf)).toBe(RtpParseStatus.Ok);
    expect(h.csrcCount).toBe(2);
    expect(h.csrc(1)).toBe(2);
    expect(h.marker).toBe(true);
    expect(h.payloadType).toBe(100);
    expect(h.sequenceNumber).toBe(0xbeef);
    expect(h.timestamp).toBe(0x01020304);
    expect(h.ssrc).toBe(0xcafebabe);
    expect(h.extensionOffset).toBe(20);
    expect(h.extensionProfile).toBe(0xbede);
    expect(h.extensionDataOffset).toBe(24);
    expect(h.extensionDataLength).toBe(4);
    expect(h.headerLength).toBe(28);
    expect(h.payloadOffset).toBe(28);
    expect(h.paddingLength).toBe(3);
    expect(h.payloadLength).toBe(5);
    expect(h.hasPadding && h.hasExtension).toBe(true);
    expect(h.isPaddingOnly).toBe(false);
  });

  it('detects padding-only probes', () => {
    const buf = Buffer.alloc(12 + 200);
    writeRtpHeader(buf, { payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3 });
    buf[0] = (buf[0] as number) | 0x20;
    buf[buf.length - 1] = 200;
    const h = new RtpHeader();
    expect(h.parse(buf)).toBe(RtpParseStatus.Ok);
    expect(h.isPaddingOnly).toBe(true);
  });

  it('returns a status for every malformed shape, never throws', () => {
    const h = new RtpHeader();
    expect(h.parse(Buffer.alloc(11))).toBe(RtpParseStatus.TooShort);
    expect(h.parse(Buffer.alloc(20), 21)).toBe(RtpParseStatus.TooShort);
    expect(h.parse(hex('40000000 00000000 00000000'))).toBe(RtpParseStatus.BadVersion);
    expect(h.parse(hex('81000000 00000000 00000000'))).toBe(RtpParseStatus.BadCsrcCount);
    expect(h.parse(hex('90000000 00000000 00000000 bede'))).toBe(RtpParseStatus.BadExtension);
    expect(h.parse(hex('90000000 00000000 00000000 bede0002 00000000'))).toBe(RtpParseStatus.BadExtension);
    expect(h.parse(hex('a0000000 00000000 00000000 aa00'))).toBe(RtpParseStatus.BadPadding);
    expect(h.parse(hex('a0000000 00000000 00000000 aa09'))).toBe(RtpParseStatus.BadPadding);
    expect(h.parse(hex('a0000000 00000000 00000000'))).toBe(RtpParseStatus.BadPadding);
    for (let i = 0; i < 2000; i++) {
      const junk = randomBytes(i % 64);
      expect(() => h.parse(junk)).not.toThrow();
    }
  });

  it('agrees with werift-rtp on random valid packets', () => {
    const h = new RtpHeader();
    for (let i = 0; i < 300; i++) {
      const cc = i % 4;
      const payload = randomBytes(1 + (i % 50));
      const buf = Buffer.alloc(12 + 4 * cc + payload.length);
      const seq = randomBytes(2).readUInt16BE(0);
      const ts = randomBytes(4).readUInt32BE(0);
      const ssrc = randomBytes(4).readUInt32BE(0);
      writeRtpHeader(buf, { payloadType: i % 128, sequenceNumber: seq, timestamp: ts, ssrc, marker: i % 2 === 0, csrcs: Array.from({ length: cc }, (_, k) => k + 1) });
      payload.copy(buf, 12 + 4 * cc);
      expect(h.parse(buf)).toBe(RtpParseStatus.Ok);
      const w = RtpPacket.deSerialize(buf);
      expect([h.payloadType, h.sequenceNumber, h.timestamp, h.ssrc, h.marker, h.csrcCount]).toEqual([
        w.header.payloadType,
        w.header.sequenceNumber,
        w.header.timestamp,
        w.header.ssrc,
        w.header.marker,
        w.header.csrcLength,
      ]);
      expect(buf.subarray(h.payloadOffset, h.payloadOffset + h.payloadLength)).toEqual(w.payload);
    }
  });
});

describe('RTP field setters and free readers', () => {
  it('rewrite in place, keeping the marker bit, and stay in sync with the parsed header', () => {
    const buf = Buffer.alloc(20);
    writeRtpHeader(buf, { payloadType: 96, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 1, marker: true });
    const h = new RtpHeader();
    h.parse(buf);
    h.setSsrc(0xdeadbeef);
    h.setSequenceNumber(65536 + 5);
    h.setTimestamp(-1);
    h.setPayloadType(111);
    expect(rtpSsrc(buf)).toBe(0xdeadbeef);
    expect(rtpSequenceNumber(buf)).toBe(5);
    expect(rtpTimestamp(buf)).toBe(0xffffffff);
    expect(rtpPayloadType(buf)).toBe(111);
    expect(rtpMarker(buf)).toBe(true);
    h.setMarker(false);
    expect(rtpMarker(buf)).toBe(false);
    const again = new RtpHeader();
    again.parse(buf);
    expect([again.ssrc, again.sequenceNumber, again.timestamp, again.payloadType, again.marker]).toEqual([h.ssrc, h.sequenceNumber, h.timestamp, h.payloadType, h.marker]);
    setRtpSsrc(buf, 7);
    setRtpSequenceNumber(buf, 8);
    setRtpTimestamp(buf, 9);
    setRtpPayloadType(buf, 0x80 | 10);
    expect([rtpSsrc(buf), rtpSequenceNumber(buf), rtpTimestamp(buf), rtpPayloadType(buf), rtpMarker(buf)]).toEqual([7, 8, 9, 10, false]);
  });

  it('rtpHeaderLength() ignores padding and rejects overruns', () => {
    expect(rtpHeaderLength(hex('b0000000 00000000 00000000 bede0001 10ff0000 ff'), 21)).toBe(20);
    expect(rtpHeaderLength(hex('90000000 00000000 00000000 bede0001 10ff'), 18)).toBe(-1);
    expect(rtpHeaderLength(Buffer.alloc(12), 12)).toBe(-1);
  });

  it('writeRtpHeader() rejects too many CSRCs and too small buffers', () => {
    expect(() => writeRtpHeader(Buffer.alloc(100), { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, csrcs: new Array(16).fill(0) })).toThrow(RangeError);
    expect(() => writeRtpHeader(Buffer.alloc(11), { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0 })).toThrow(RangeError);
  });
});
