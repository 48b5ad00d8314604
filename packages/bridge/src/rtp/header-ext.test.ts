import { describe, expect, it } from 'vitest';
import {
  absSendTimeFromMicros,
  audioLevelDbov,
  audioLevelIsVoice,
  createHeaderExtensionIdSet,
  findHeaderExtension,
  headerExtensionEquals,
  headerExtensionLength,
  readAbsSendTime,
  readAudioLevel,
  readMid,
  readTransportCcSeq,
  readVideoOrientation,
  stripHeaderExtensions,
  writeAbsSendTime,
  writeTransportCcSeq,
} from './header-ext.js';
import { RtpHeader, RtpParseStatus, writeRtpHeader } from './rtp-packet.js';

type Element = { id: number; data: number[] };

/** Builds an RTP packet with the given extension elements (and optional padding bytes between them). */
function packet(form: 'one' | 'two', elements: Element[], payload: number[] = [1, 2, 3, 4, 5], options: { gap?: number; rtpPadding?: number } = {}): Buffer {
  const ext: number[] = [];
  for (const e of elements) {
    if (form === 'one') ext.push((e.id << 4) | (e.data.length - 1), ...e.data);
    else ext.push(e.id, e.data.length, ...e.data);
    for (let g = 0; g < (options.gap ?? 0); g++) ext.push(0);
  }
  while (ext.length % 4) ext.push(0);
  const pad = options.rtpPadding ?? 0;
  const buf = Buffer.alloc(12 + 4 + ext.length + payload.length + pad);
  writeRtpHeader(buf, { payloadType: 111, sequenceNumber: 1, timestamp: 2, ssrc: 3 });
  buf[0] = (buf[0] as number) | 0x10 | (pad ? 0x20 : 0);
  buf.writeUInt16BE(form === 'one' ? 0xbede : 0x1000, 12);
  buf.writeUInt16BE(ext.length / 4, 14);
  Buffer.from(ext).copy(buf, 16);
  Buffer.from(payload).copy(buf, 16 + ext.length);
  if (pad) buf[buf.length - 1] = pad;
  return buf;
}

function parsed(buf: Buffer): RtpHeader {
  const h = new RtpHeader();
  expect(h.parse(buf)).toBe(RtpParseStatus.Ok);
  return h;
}

const AUDIO_LEVEL = 1;
const ABS_SEND_TIME = 3;
const TCC = 5;
const MID = 10;
const ORIENTATION = 13;

describe('findHeaderExtension() and readers (RFC 8285)', () => {
  for (const form of ['one', 'two'] as const) {
    it(`${form}-byte form: finds elements across padding bytes and reads them`, () => {
      const h = parsed(
        packet(
          form,
          [
            { id: AUDIO_LEVEL, data: [0x80 | 42] },
            { id: ABS_SEND_TIME, data: [0x12, 0x34, 0x56] },
            { id: TCC, data: [0xab, 0xcd] },
            { id: MID, data: [...Buffer.from('v1')] },
            { id: ORIENTATION, data: [0x03] },
          ],
          [9, 9],
          { gap: 1 },
        ),
      );
      expect(readAudioLevel(h, AUDIO_LEVEL)).toBe(0x80 | 42);
      expect(audioLevelIsVoice(0x80 | 42)).toBe(true);
      expect(audioLevelDbov(0x80 | 42)).toBe(42);
      expect(readAbsSendTime(h, ABS_SEND_TIME)).toBe(0x123456);
      expect(readTransportCcSeq(h, TCC)).toBe(0xabcd);
      expect(readMid(h, MID)).toBe('v1');
      expect(headerExtensionEquals(h, MID, Buffer.from('v1'))).toBe(true);
      expect(headerExtensionEquals(h, MID, Buffer.from('v2'))).toBe(false);
      expect(readVideoOrientation(h, ORIENTATION)).toBe(3);
      expect(findHeaderExtension(h, 7)).toBe(-1);
      expect(readAudioLevel(h, 7)).toBe(-1);
      expect(readMid(h, 7)).toBeUndefined();
      const off = findHeaderExtension(h, MID);
      expect(headerExtensionLength(h, off)).toBe(2);
      expect(writeTransportCcSeq(h, TCC, 0x10005)).toBe(true);
      expect(readTransportCcSeq(h, TCC)).toBe(5);
      expect(writeAbsSendTime(h, ABS_SEND_TIME, 0xfedcba)).toBe(true);
      expect(readAbsSendTime(h, ABS_SEND_TIME)).toBe(0xfedcba);
      expect(writeAbsSendTime(h, 7, 1)).toBe(false);
    });
  }

  it('two-byte form allows zero-length elements and ids above 14', () => {
    const h = parsed(packet('two', [{ id: 200, data: [] }, { id: 20, data: [7] }]));
    expect(findHeaderExtension(h, 200)).toBeGreaterThan(0);
    expect(headerExtensionLength(h, findHeaderExtension(h, 200))).toBe(0);
    expect(readAudioLevel(h, 20)).toBe(7);
  });

  it('one-byte form stops at ID 15 and rejects an element overrunning the block', () => {
    const stop = packet('one', [{ id: 1, data: [5] }]);
    stop[16] = 0xf0; // ID 15: stop parsing
    expect(readAudioLevel(parsed(stop), 1)).toBe(-1);
    const overrun = packet('one', [{ id: 1, data: [5] }]);
    overrun[16] = 0x1f; // claims 16 bytes in a 4-byte block
    expect(readAudioLevel(parsed(overrun), 1)).toBe(-1);
  });

  it('packets without an extension, or with a non-RFC 8285 profile, find nothing', () => {
    const plain = Buffer.alloc(20);
    writeRtpHeader(plain, { payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 1 });
    expect(findHeaderExtension(parsed(plain), 1)).toBe(-1);
    const other = packet('one', [{ id: 1, data: [5] }]);
    other.writeUInt16BE(0xabac, 12);
    expect(findHeaderExtension(parsed(other), 1)).toBe(-1);
  });

  it('absSendTimeFromMicros() is 6.18 fixed point modulo 64 s', () => {
    expect(absSendTimeFromMicros(1_000_000)).toBe(1 << 18);
    expect(absSendTimeFromMicros(64_000_000 + 500_000)).toBe(1 << 17);
  });
});

describe('stripHeaderExtensions() (PROTOCOL.md §7.4)', () => {
  const keep = createHeaderExtensionIdSet([AUDIO_LEVEL, ORIENTATION]);

  for (const form of ['one', 'two'] as const) {
    it(`${form}-byte form: keeps audio level + orientation, drops the rest, moves the payload, fixes lengths`, () => {
      const payload = [0xde, 0xad, 0xbe, 0xef, 0x01];
      const buf = packet(
        form,
        [
          { id: MID, data: [...Buffer.from('audio-0')] },
          { id: AUDIO_LEVEL, data: [0x85] },
          { id: TCC, data: [0, 7] },
          { id: ABS_SEND_TIME, data: [1, 2, 3] },
          { id: ORIENTATION, data: [2] },
        ],
        payload,
        { gap: 1, rtpPadding: 3 },
      );
      const h = parsed(buf);
      const before = buf.length;
      const len = stripHeaderExtensions(h, keep);
      expect(len).toBeLessThan(before);
      expect(h.length).toBe(len);
      // Re-parse the result from scratch: it must be a valid packet with only the kept elements.
      const again = new RtpHeader();
      expect(again.parse(buf, len)).toBe(RtpParseStatus.Ok);
      expect(again.extensionDataLength % 4).toBe(0);
      expect(readAudioLevel(again, AUDIO_LEVEL)).toBe(0x85);
      expect(readVideoOrientation(again, ORIENTATION)).toBe(2);
      expect(findHeaderExtension(again, MID)).toBe(-1);
      expect(findHeaderExtension(again, TCC)).toBe(-1);
      expect(findHeaderExtension(again, ABS_SEND_TIME)).toBe(-1);
      expect([...buf.subarray(again.payloadOffset, again.payloadOffset + again.payloadLength)]).toEqual(payload);
      expect(again.paddingLength).toBe(3);
      expect([again.headerLength, again.payloadOffset, again.extensionDataLength]).toEqual([h.headerLength, h.payloadOffset, h.extensionDataLength]);
      expect(again.ssrc).toBe(3);
    });
  }

  it('removes the whole block and clears X when nothing is kept', () => {
    const payload = [1, 2, 3];
    const buf = packet('one', [{ id: MID, data: [...Buffer.from('0')] }, { id: TCC, data: [0, 1] }], payload);
    const h = parsed(buf);
    const len = stripHeaderExtensions(h, keep);
    expect(len).toBe(12 + payload.length);
    expect((buf[0] as number) & 0x10).toBe(0);
    const again = parsed(buf.subarray(0, len));
    expect(again.hasExtension).toBe(false);
    expect([...buf.subarray(12, len)]).toEqual(payload);
    expect(h.extensionOffset).toBe(-1);
    expect(h.headerLength).toBe(12);
  });

  it('leaves packets that only carry kept elements byte-identical', () => {
    const buf = packet('one', [{ id: AUDIO_LEVEL, data: [0x10] }]);
    const copy = Buffer.from(buf);
    expect(stripHeaderExtensions(parsed(buf), keep)).toBe(buf.length);
    expect(buf).toEqual(copy);
    const none = Buffer.alloc(20);
    writeRtpHeader(none, { payloadType: 1, sequenceNumber: 1, timestamp: 1, ssrc: 1 });
    expect(stripHeaderExtensions(parsed(none), keep)).toBe(20);
  });

  it('drops a non-RFC 8285 extension block entirely', () => {
    const buf = packet('one', [{ id: AUDIO_LEVEL, data: [0x10] }], [7, 7]);
    buf.writeUInt16BE(0x1234, 12);
    const len = stripHeaderExtensions(parsed(buf), keep);
    expect(len).toBe(14);
    expect(parsed(buf.subarray(0, len)).payloadLength).toBe(2);
  });
});
