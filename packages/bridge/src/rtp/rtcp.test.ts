import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RtcpPacketConverter, type TransportWideCC } from 'werift-rtp';
import {
  byeSsrc,
  createReportBlock,
  createSenderInfo,
  firEntryCount,
  firSeqNr,
  firSsrc,
  forEachNackedSeq,
  isRemb,
  nackBlp,
  nackEntryCount,
  nackPid,
  parseSdes,
  PsfbFormat,
  readRemb,
  readReportBlock,
  readSenderInfo,
  reportBlockOffset,
  RtcpIterator,
  RtcpPacketType,
  RtcpParseStatus,
  RtpfbFormat,
  TccStatus,
  TransportCcFeedback,
  writeBye,
  writeFir,
  writeNack,
  writePli,
  writeReceiverReport,
  writeRemb,
  writeSdesCname,
  writeSenderReport,
  type RtcpRemb,
  type RtcpReportBlock,
} from './rtcp.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function collect(buf: Buffer, len = buf.length): { type: number; count: number; offset: number; length: number }[] {
  const it = new RtcpIterator();
  const out: { type: number; count: number; offset: number; length: number }[] = [];
  for (it.reset(buf, len); it.next(); ) out.push({ type: it.packetType, count: it.count, offset: it.offset, length: it.length });
  expect(it.status).toBe(RtcpParseStatus.Ok);
  return out;
}

describe('RtcpIterator', () => {
  it('walks a compound SR + SDES + BYE built by the writers', () => {
    const buf = Buffer.alloc(200);
    const rb: RtcpReportBlock = { ssrc: 0x11, fractionLost: 25, cumulativeLost: -3, extendedHighestSeq: 0x1_0005, jitter: 77, lastSr: 0xabcd1234, delaySinceLastSr: 65536 };
    const info = { ntpMsw: 0xe0000000, ntpLsw: 0x80000000, rtpTimestamp: 90000, packetCount: 10, octetCount: 12000 };
    let off = writeSenderReport(buf, 0, 0xaaaa, info, [rb]);
    off += writeSdesCname(buf, off, 0xaaaa, 'bridge-cname');
    off += writeBye(buf, off, [0xaaaa, 0xbbbb], 'bye');
    const packets = collect(buf, off);
    expect(packets.map((p) => p.type)).toEqual([RtcpPacketType.SR, RtcpPacketType.SDES, RtcpPacketType.BYE]);
    const sr = packets[0]!;
    const gotInfo = createSenderInfo();
    expect(readSenderInfo(buf, sr.offset, sr.length, gotInfo)).toBe(true);
    expect(gotInfo).toEqual(info);
    const blockOff = reportBlockOffset(sr.type, sr.offset, sr.length, 0);
    expect(readReportBlock(buf, blockOff, createReportBlock())).toEqual(rb);
    expect(reportBlockOffset(sr.type, sr.offset, sr.length, 1)).toBe(-1);
    const sdes = packets[1]!;
    expect(parseSdes(buf, sdes.offset, sdes.length, sdes.count)).toEqual([{ ssrc: 0xaaaa, cname: 'bridge-cname' }]);
    const bye = packets[2]!;
    expect(bye.count).toBe(2);
    expect([byeSsrc(buf, bye.offset, bye.length, 0), byeSsrc(buf, bye.offset, bye.length, 1)]).toEqual([0xaaaa, 0xbbbb]);
    const short = Buffer.alloc(8);
    expect(byeSsrc(short, 0, writeBye(short, 0, [7]), 1)).toBe(-1);
    // werift parses the same bytes.
    const w = RtcpPacketConverter.deSerialize(buf.subarray(0, off));
    expect(w.length).toBeGreaterThanOrEqual(2);
  });

  it('stops with a status on malformed input and never throws', () => {
    const it = new RtcpIterator();
    it.reset(hex('81c9'));
    expect(it.next()).toBe(false);
    expect(it.status).toBe(RtcpParseStatus.Truncated);
    it.reset(hex('41c90001 00000000'));
    expect(it.next()).toBe(false);
    expect(it.status).toBe(RtcpParseStatus.BadVersion);
    it.reset(hex('81c90007 00000000'));
    expect(it.next()).toBe(false);
    expect(it.status).toBe(RtcpParseStatus.BadLength);
    it.reset(hex('80c90001 00000001 81c9'));
    expect(it.next()).toBe(true);
    expect(it.senderSsrc).toBe(1);
    expect(it.next()).toBe(false);
    expect(it.status).toBe(RtcpParseStatus.Truncated);
    for (let i = 0; i < 2000; i++) {
      const junk = randomBytes(i % 80);
      expect(() => {
        for (it.reset(junk); it.next(); ) void it.contentLength;
      }).not.toThrow();
    }
  });

  it('reports content length without P-bit padding', () => {
    const it = new RtcpIterator();
    it.reset(hex('a0c90002 00000001 00000002'));
    expect(it.next()).toBe(true);
    expect(it.contentLength).toBe(10);
    it.reset(hex('a0c90001 00000001'));
    it.next();
    expect(it.contentLength).toBe(7);
    it.reset(hex('a0c90001 00000000'));
    it.next();
    expect(it.contentLength).toBe(-1);
  });
});

describe('RR', () => {
  it('round-trips report blocks and an empty RR', () => {
    const buf = Buffer.alloc(100);
    const blocks = [createReportBlock(), { ...createReportBlock(), ssrc: 9, cumulativeLost: 0x7fffff + 5, fractionLost: 255 }];
    const n = writeReceiverReport(buf, 0, 1, blocks);
    expect(n).toBe(8 + 48);
    const [rr] = collect(buf, n);
    expect(rr!.count).toBe(2);
    const got = readReportBlock(buf, reportBlockOffset(RtcpPacketType.RR, 0, n, 1), createReportBlock());
    expect(got.cumulativeLost).toBe(0x7fffff); // clamped to the 24-bit field
    expect(got.fractionLost).toBe(255);
    expect(writeReceiverReport(buf, 0, 1)).toBe(8);
    expect(() => writeReceiverReport(Buffer.alloc(10), 0, 1, blocks)).toThrow(RangeError);
  });
});

describe('generic NACK (RFC 4585 §6.2.1)', () => {
  it('packs lost sequence numbers into PID+BLP entries, across the wrap', () => {
    const lost = [65530, 65531, 65535, 0, 3, 5, 100, 101, 117, 118];
    const buf = Buffer.alloc(64);
    const n = writeNack(buf, 0, 0x1111, 0x2222, lost);
    const [p] = collect(buf, n);
    expect([p!.type, p!.count]).toEqual([RtcpPacketType.RTPFB, RtpfbFormat.Nack]);
    expect(nackEntryCount(n)).toBe(3);
    expect([nackPid(buf, 0, 0), nackBlp(buf, 0, 0)]).toEqual([65530, (1 << 0) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 10)]);
    expect([nackPid(buf, 0, 1), nackBlp(buf, 0, 1)]).toEqual([100, 1]);
    expect([nackPid(buf, 0, 2), nackBlp(buf, 0, 2)]).toEqual([117, 1]); // 117 is 17 after 100: new entry
    const seen: number[] = [];
    forEachNackedSeq(buf, 0, n, (s) => seen.push(s));
    expect(seen).toEqual(lost);
    // werift reads the same list.
    const w = RtcpPacketConverter.deSerialize(buf.subarray(0, n))[0] as unknown as { feedback: { lost: number[] } };
    // (werift forgets the 16-bit wrap for BLP bits: compare modulo 2^16.)
    expect(w.feedback.lost.map((x) => x & 0xffff).sort((a, b) => a - b)).toEqual([...lost].sort((a, b) => a - b));
  });

  it('ignores duplicates', () => {
    const buf = Buffer.alloc(64);
    const n = writeNack(buf, 0, 1, 2, [5, 5, 6, 6]);
    const seen: number[] = [];
    forEachNackedSeq(buf, 0, n, (s) => seen.push(s));
    expect(seen).toEqual([5, 6]);
  });
});

describe('PLI, FIR, REMB', () => {
  it('PLI and FIR carry the sender, the target and the FIR sequence number', () => {
    const buf = Buffer.alloc(64);
    let n = writePli(buf, 0, 0xaaaa, 0xbbbb);
    const it = new RtcpIterator().reset(buf, n);
    expect(it.next()).toBe(true);
    expect([it.packetType, it.count, it.senderSsrc, it.mediaSsrc, it.length]).toEqual([RtcpPacketType.PSFB, PsfbFormat.Pli, 0xaaaa, 0xbbbb, 12]);
    n = writeFir(buf, 0, 0xaaaa, 0xcccc, 257);
    it.reset(buf, n);
    expect(it.next()).toBe(true);
    expect([it.count, it.mediaSsrc, firEntryCount(it.length), firSsrc(buf, 0, 0), firSeqNr(buf, 0, 0)]).toEqual([PsfbFormat.Fir, 0, 1, 0xcccc, 1]);
  });

  it('REMB round-trips bitrate (mantissa/exponent) and SSRCs, and werift agrees', () => {
    const buf = Buffer.alloc(64);
    for (const bps of [0, 1, 300_000, 2_500_000, 0x3ffff, 0x40000, 123_456_789_012]) {
      const n = writeRemb(buf, 0, 0xaaaa, bps, [1, 2, 3]);
      expect(isRemb(buf, 0, n)).toBe(true);
      const r: RtcpRemb = { bitrateBps: 0, ssrcs: [] };
      expect(readRemb(buf, 0, n, r)).toBe(true);
      expect(r.ssrcs).toEqual([1, 2, 3]);
      expect(r.bitrateBps).toBeLessThanOrEqual(bps);
      expect(r.bitrateBps).toBeGreaterThanOrEqual(bps * (1 - 2 ** -17));
      const w = RtcpPacketConverter.deSerialize(buf.subarray(0, n))[0] as unknown as { feedback: { bitrate: bigint; ssrcFeedbacks: number[] } };
      expect(Number(w.feedback.bitrate)).toBe(r.bitrateBps);
      expect(w.feedback.ssrcFeedbacks).toEqual([1, 2, 3]);
    }
    expect(readRemb(hex('8fce0004 00000001 00000000 52454d42 05000000'), 0, 20, { bitrateBps: 0, ssrcs: [] })).toBe(false);
  });
});

describe('transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1)', () => {
  /** Arrival pattern: undefined = lost; numbers are arrival times in µs. */
  function build(arrivals: (number | undefined)[], refUs = 1_280_000): { fb: TransportCcFeedback; buf: Buffer; n: number } {
    const fb = new TransportCcFeedback();
    fb.reset(0x1234, 0x5678, 65530, refUs, 7);
    for (const a of arrivals) expect(a === undefined ? fb.addNotReceived() : fb.addReceived(a)).toBe(true);
    const buf = Buffer.alloc(fb.serializedSize() + 8);
    const n = fb.write(buf, 4);
    expect(n).toBe(fb.serializedSize());
    expect(n % 4).toBe(0);
    return { fb, buf, n };
  }

  function checkRoundTrip(arrivals: (number | undefined)[]): void {
    const { fb, buf, n } = build(arrivals);
    const it = new RtcpIterator().reset(buf, 4 + n, 4);
    expect(it.next()).toBe(true);
    expect([it.packetType, it.count, it.length]).toEqual([RtcpPacketType.RTPFB, RtpfbFormat.TransportCc, n]);
    const parsed = new TransportCcFeedback();
    expect(parsed.parse(buf, it.offset, it.length)).toBe(true);
    expect([parsed.senderSsrc, parsed.mediaSsrc, parsed.baseSeq, parsed.statusCount, parsed.referenceTime, parsed.fbPktCount]).toEqual([
      0x1234, 0x5678, 65530, arrivals.length, 20, 7,
    ]);
    for (let i = 0; i < arrivals.length; i++) {
      expect(parsed.status[i], `status ${i}`).toBe(fb.status[i]);
      const a = arrivals[i];
      if (a === undefined) {
        expect(parsed.status[i]).toBe(TccStatus.NotReceived);
        expect(Number.isNaN(parsed.arrivalTimeUs[i])).toBe(true);
      } else {
        expect(parsed.deltaTicks[i]).toBe(fb.deltaTicks[i]);
        expect(parsed.arrivalTimeUs[i]).toBe(fb.arrivalTimeUs[i]);
        expect(Math.abs((parsed.arrivalTimeUs[i] as number) - a)).toBeLessThanOrEqual(125); // rounding to 250 µs, no drift
      }
    }
    // werift decodes the same chunks and deltas. (Its `packetResults` ignores status vector
    // chunks, so statuses are rebuilt here from its parsed chunks.)
    const w = (RtcpPacketConverter.deSerialize(buf.subarray(4, 4 + n))[0] as unknown as { feedback: TransportWideCC }).feedback;
    expect([w.packetStatusCount, w.baseSequenceNumber, w.referenceTime, w.fbPktCount]).toEqual([arrivals.length, 65530, 20, 7]);
    const statuses: number[] = [];
    for (const chunk of w.packetChunks) {
      if ('runLength' in chunk) for (let k = 0; k < chunk.runLength; k++) statuses.push(chunk.packetStatus);
      else statuses.push(...chunk.symbolList);
    }
    expect(statuses.slice(0, arrivals.length)).toEqual([...parsed.status.subarray(0, arrivals.length)]);
    const received = arrivals.flatMap((a, i) => (a === undefined ? [] : [(parsed.deltaTicks[i] as number) * 250]));
    expect(w.recvDeltas.map((d) => d.delta)).toEqual(received);
  }

  it('small deltas only (1-bit vectors and runs)', () => {
    checkRoundTrip(Array.from({ length: 40 }, (_, i) => 1_280_000 + i * 1000));
  });

  it('long runs of losses and receptions (run-length chunks)', () => {
    const a: (number | undefined)[] = [];
    let t = 1_280_000;
    for (let i = 0; i < 100; i++) a.push(undefined);
    for (let i = 0; i < 9000; i++) a.push((t += 500));
    a.push(undefined);
    checkRoundTrip(a);
  });

  it('large and negative deltas (2-bit vectors), mixed with losses', () => {
    const a: (number | undefined)[] = [];
    let t = 1_280_000;
    for (let i = 0; i < 300; i++) {
      const r = (i * 7919) % 10;
      if (r === 0) a.push(undefined);
      else if (r === 1) a.push((t -= 1000)); // reordered: negative delta
      else if (r === 2) a.push((t += 100_000)); // 100 ms gap: large delta
      else a.push((t += 1_000 + r * 37));
    }
    checkRoundTrip(a);
  });

  it('the first delta is relative to the reference time (64 ms units)', () => {
    const { fb } = build([1_280_000 + 70_000]);
    expect(fb.referenceTime).toBe(20);
    expect(fb.deltaTicks[0]).toBe(280);
    expect(fb.status[0]).toBe(TccStatus.LargeDelta);
  });

  it('refuses a delta beyond 16 signed bits', () => {
    const fb = new TransportCcFeedback();
    fb.reset(1, 2, 0, 0, 0);
    expect(fb.addReceived(9_000_000)).toBe(false);
    expect(fb.statusCount).toBe(0);
  });

  it('rejects truncated and corrupted packets without throwing', () => {
    const { buf, n } = build([1_280_000, undefined, 1_400_000, 1_400_100]);
    const fb = new TransportCcFeedback();
    const whole = buf.subarray(4, 4 + n);
    expect(fb.parse(whole, 0, n)).toBe(true);
    // Cut before the last delta byte: the declared status count can't be satisfied.
    expect(fb.parse(whole, 0, 20 + 2 + 1)).toBe(false);
    for (let i = 0; i < 3000; i++) {
      const junk = randomBytes(8 + (i % 60));
      expect(() => fb.parse(junk, 0, junk.length)).not.toThrow();
    }
  });
});
