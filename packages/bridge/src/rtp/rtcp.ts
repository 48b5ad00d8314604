/**
 * RTCP: allocation-free iteration over compound packets, readers for the packet types the bridge
 * consumes, and builders for the ones it sends (reports, SDES, BYE, NACK, PLI, FIR, REMB,
 * transport-wide CC feedback).
 *
 * Readers take the packet's offset inside the compound buffer (from {@link RtcpIterator}) and
 * read with `buf.readUInt*BE`. Builders write into a caller-provided buffer at an offset, return
 * the number of bytes written, and throw RangeError only when the caller gave a buffer that is too
 * small (a programming error; size it with the `*Size` helpers). Malformed input never throws:
 * the iterator stops with a status, readers return false/-1.
 *
 * References:
 * - RFC 3550 §6.4.1 SR, §6.4.2 RR, §6.5 SDES, §6.6 BYE, Appendix A.2 (compound validity):
 *   https://www.rfc-editor.org/rfc/rfc3550#section-6.4
 * - RFC 4585 §6.1 (feedback common format: FMT, PT 205 RTPFB / 206 PSFB, sender + media SSRC),
 *   §6.2.1 (generic NACK: PID + BLP), §6.3.1 (PLI): https://www.rfc-editor.org/rfc/rfc4585#section-6
 * - RFC 5104 §4.3.1 (FIR: FCI = SSRC + seq nr + 24 reserved bits; media SSRC field 0):
 *   https://www.rfc-editor.org/rfc/rfc5104#section-4.3.1
 * - draft-alvestrand-rmcat-remb-03 §2.2 (REMB: PSFB FMT 15, "REMB", num SSRC, BR exp/mantissa):
 *   https://datatracker.ietf.org/doc/html/draft-alvestrand-rmcat-remb-03#section-2.2
 * - draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1 (transport-cc feedback: RTPFB FMT 15,
 *   run-length and status-vector chunks, receive deltas in 250 µs units, reference time in 64 ms):
 *   https://datatracker.ietf.org/doc/html/draft-holmer-rmcat-transport-wide-cc-extensions-01#section-3.1
 * - RFC 5506 (reduced-size RTCP: a compound may start with any packet type; not enforced here).
 */

/** RTCP packet types (second octet). */
export const RtcpPacketType = {
  /** Sender report (RFC 3550 §6.4.1). */
  SR: 200,
  /** Receiver report (RFC 3550 §6.4.2). */
  RR: 201,
  /** Source description (RFC 3550 §6.5). */
  SDES: 202,
  /** Goodbye (RFC 3550 §6.6). */
  BYE: 203,
  /** Application-defined (RFC 3550 §6.7). */
  APP: 204,
  /** Transport-layer feedback (RFC 4585 §6.2): NACK, transport-cc. */
  RTPFB: 205,
  /** Payload-specific feedback (RFC 4585 §6.3): PLI, FIR, REMB. */
  PSFB: 206,
  /** Extended reports (RFC 3611). */
  XR: 207,
} as const;

/** FMT values of transport-layer feedback (PT 205). */
export const RtpfbFormat = {
  /** Generic NACK (RFC 4585 §6.2.1). */
  Nack: 1,
  /** Transport-wide congestion control feedback (draft-holmer §3.1). */
  TransportCc: 15,
} as const;

/** FMT values of payload-specific feedback (PT 206). */
export const PsfbFormat = {
  /** Picture loss indication (RFC 4585 §6.3.1). */
  Pli: 1,
  /** Full intra request (RFC 5104 §4.3.1). */
  Fir: 4,
  /** Application layer feedback (REMB uses it, draft-alvestrand-rmcat-remb). */
  Afb: 15,
} as const;

/** Common header size (V/P/count, PT, length). */
export const RTCP_HEADER_SIZE = 4;
/** Size of a feedback packet without FCI (header + sender SSRC + media SSRC). */
export const RTCP_FEEDBACK_HEADER_SIZE = 12;
/** Size of one report block (RFC 3550 §6.4.1). */
export const RTCP_REPORT_BLOCK_SIZE = 24;
/** Size of the sender info in an SR (NTP, RTP ts, packet and octet count). */
export const RTCP_SENDER_INFO_SIZE = 20;

/** Why {@link RtcpIterator.next} stopped; `Ok` also means "clean end". */
export const RtcpParseStatus = {
  Ok: 0,
  /** Fewer than 4 bytes left for a header. */
  Truncated: 1,
  /** Version field is not 2. */
  BadVersion: 2,
  /** Length field runs past the end of the buffer. */
  BadLength: 3,
} as const;
/** One of the {@link RtcpParseStatus} values. */
export type RtcpParseStatus = (typeof RtcpParseStatus)[keyof typeof RtcpParseStatus];

/**
 * Walks the packets of a compound RTCP packet. Reuse one instance per pipeline node:
 *
 * ```ts
 * for (it.reset(buf, len); it.next(); ) { if (it.packetType === RtcpPacketType.PSFB && it.count === PsfbFormat.Pli) … }
 * if (it.status !== RtcpParseStatus.Ok) dropped++;
 * ```
 */
export class RtcpIterator {
  /** Buffer being iterated. */
  buffer: Buffer = EMPTY;
  /** Offset of the current packet. */
  offset = 0;
  /** Length of the current packet in bytes, header and padding included ((length field + 1) · 4). */
  length = 0;
  /** Packet type of the current packet (200 SR, 201 RR, …). */
  packetType = 0;
  /** The 5-bit count field: RC (SR/RR), SC (SDES/BYE) or FMT (feedback). */
  count = 0;
  /** P bit of the current packet. */
  padding = false;
  /** Why iteration stopped (Ok for a clean end). */
  status: RtcpParseStatus = RtcpParseStatus.Ok;
  #next = 0;
  #end = 0;

  /** Starts iterating `buf[0, length)`. */
  reset(buf: Buffer, length: number = buf.length, offset = 0): this {
    this.buffer = buf;
    this.#next = offset;
    this.#end = Math.min(length, buf.length);
    this.offset = offset;
    this.length = 0;
    this.status = RtcpParseStatus.Ok;
    return this;
  }

  /** Advances to the next packet; false at the end or when the rest is malformed (see `status`). */
  next(): boolean {
    const buf = this.buffer;
    const off = this.#next;
    const end = this.#end;
    if (off >= end) return false;
    if (off + RTCP_HEADER_SIZE > end) {
      this.status = RtcpParseStatus.Truncated;
      return false;
    }
    const b0 = buf[off] as number;
    if (b0 >> 6 !== 2) {
      this.status = RtcpParseStatus.BadVersion;
      return false;
    }
    const len = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > end) {
      this.status = RtcpParseStatus.BadLength;
      return false;
    }
    this.offset = off;
    this.length = len;
    this.padding = (b0 & 0x20) !== 0;
    this.count = b0 & 0x1f;
    this.packetType = buf[off + 1] as number;
    this.#next = off + len;
    return true;
  }

  /** Length of the current packet without its padding (P bit), or -1 when the padding is bogus. */
  get contentLength(): number {
    if (!this.padding) return this.length;
    const pad = this.buffer[this.offset + this.length - 1] as number;
    return pad === 0 || pad > this.length - RTCP_HEADER_SIZE ? -1 : this.length - pad;
  }

  /** SSRC of the packet sender (bytes 4–7), or -1 for a 4-byte packet (e.g. empty RR/BYE). */
  get senderSsrc(): number {
    return this.length >= 8 ? this.buffer.readUInt32BE(this.offset + 4) : -1;
  }

  /** Media source SSRC of a feedback packet (bytes 8–11), or -1 when too short. */
  get mediaSsrc(): number {
    return this.length >= 12 ? this.buffer.readUInt32BE(this.offset + 8) : -1;
  }
}

const EMPTY = Buffer.alloc(0);

// ---------------------------------------------------------------------------------------------
// SR / RR

/** A report block (RFC 3550 §6.4.1); reuse one object with {@link readReportBlock}. */
export interface RtcpReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction lost since the previous report, 8-bit fixed point (lost/expected × 256). */
  fractionLost: number;
  /** Cumulative number of packets lost (signed 24-bit). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | seq). */
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (LSR), 0 if none. */
  lastSr: number;
  /** Delay since that SR in 1/65536 s (DLSR). */
  delaySinceLastSr: number;
}

/** Sender info of an SR (RFC 3550 §6.4.1). */
export interface RtcpSenderInfo {
  /** NTP timestamp, most significant word (seconds since 1900). */
  ntpMsw: number;
  /** NTP timestamp, least significant word (fraction). */
  ntpLsw: number;
  /** RTP timestamp corresponding to the NTP timestamp. */
  rtpTimestamp: number;
  /** Sender's packet count. */
  packetCount: number;
  /** Sender's octet count. */
  octetCount: number;
}

/** Creates an empty report block object (to be reused). */
export function createReportBlock(): RtcpReportBlock {
  return { ssrc: 0, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 0, jitter: 0, lastSr: 0, delaySinceLastSr: 0 };
}

/** Creates an empty sender info object (to be reused). */
export function createSenderInfo(): RtcpSenderInfo {
  return { ntpMsw: 0, ntpLsw: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0 };
}

/** Reads the sender info of the SR at `off` into `into`; false when the packet is too short. */
export function readSenderInfo(buf: Buffer, off: number, length: number, into: RtcpSenderInfo): boolean {
  if (length < 8 + RTCP_SENDER_INFO_SIZE) return false;
  into.ntpMsw = buf.readUInt32BE(off + 8);
  into.ntpLsw = buf.readUInt32BE(off + 12);
  into.rtpTimestamp = buf.readUInt32BE(off + 16);
  into.packetCount = buf.readUInt32BE(off + 20);
  into.octetCount = buf.readUInt32BE(off + 24);
  return true;
}

/**
 * Offset of report block `i` of the SR/RR at `off` (with `packetType`/`length` from the
 * iterator), or -1 when it lies outside the packet.
 */
export function reportBlockOffset(packetType: number, off: number, length: number, i: number): number {
  const first = off + 8 + (packetType === RtcpPacketType.SR ? RTCP_SENDER_INFO_SIZE : 0);
  const blockOff = first + i * RTCP_REPORT_BLOCK_SIZE;
  return blockOff + RTCP_REPORT_BLOCK_SIZE <= off + length ? blockOff : -1;
}

/** Reads the report block at `blockOff` into `into`. */
export function readReportBlock(buf: Buffer, blockOff: number, into: RtcpReportBlock): RtcpReportBlock {
  into.ssrc = buf.readUInt32BE(blockOff);
  into.fractionLost = buf[blockOff + 4] as number;
  into.cumulativeLost = buf.readIntBE(blockOff + 5, 3);
  into.extendedHighestSeq = buf.readUInt32BE(blockOff + 8);
  into.jitter = buf.readUInt32BE(blockOff + 12);
  into.lastSr = buf.readUInt32BE(blockOff + 16);
  into.delaySinceLastSr = buf.readUInt32BE(blockOff + 20);
  return into;
}

function writeReportBlock(out: Buffer, off: number, rb: RtcpReportBlock): void {
  out.writeUInt32BE(rb.ssrc >>> 0, off);
  out[off + 4] = rb.fractionLost & 0xff;
  // Cumulative lost is a signed 24-bit field; clamp (RFC 3550 §6.4.1 / RFC 3550 A.3).
  const lost = Math.max(-0x800000, Math.min(0x7fffff, rb.cumulativeLost | 0));
  out.writeIntBE(lost, off + 5, 3);
  out.writeUInt32BE(rb.extendedHighestSeq >>> 0, off + 8);
  out.writeUInt32BE(rb.jitter >>> 0, off + 12);
  out.writeUInt32BE(rb.lastSr >>> 0, off + 16);
  out.writeUInt32BE(rb.delaySinceLastSr >>> 0, off + 20);
}

function writeHeader(out: Buffer, off: number, count: number, packetType: number, totalLength: number): void {
  out[off] = 0x80 | (count & 0x1f);
  out[off + 1] = packetType;
  out.writeUInt16BE(totalLength / 4 - 1, off + 2);
}

function ensure(out: Buffer, off: number, size: number): void {
  if (off < 0 || off + size > out.length) throw new RangeError(`RTCP builder needs ${size} bytes at offset ${off}`);
}

/** Size of an SR with `reports` report blocks. */
export function senderReportSize(reports: number): number {
  return 8 + RTCP_SENDER_INFO_SIZE + RTCP_REPORT_BLOCK_SIZE * reports;
}

/** Size of an RR with `reports` report blocks. */
export function receiverReportSize(reports: number): number {
  return 8 + RTCP_REPORT_BLOCK_SIZE * reports;
}

/** Writes an SR (at most 31 report blocks) at `out[off]`; returns its length. */
export function writeSenderReport(
  out: Buffer,
  off: number,
  ssrc: number,
  info: RtcpSenderInfo,
  reports: readonly RtcpReportBlock[] = [],
): number {
  if (reports.length > 31) throw new RangeError('at most 31 report blocks');
  const size = senderReportSize(reports.length);
  ensure(out, off, size);
  writeHeader(out, off, reports.length, RtcpPacketType.SR, size);
  out.writeUInt32BE(ssrc >>> 0, off + 4);
  out.writeUInt32BE(info.ntpMsw >>> 0, off + 8);
  out.writeUInt32BE(info.ntpLsw >>> 0, off + 12);
  out.writeUInt32BE(info.rtpTimestamp >>> 0, off + 16);
  out.writeUInt32BE(info.packetCount >>> 0, off + 20);
  out.writeUInt32BE(info.octetCount >>> 0, off + 24);
  for (let i = 0; i < reports.length; i++) writeReportBlock(out, off + 28 + i * RTCP_REPORT_BLOCK_SIZE, reports[i] as RtcpReportBlock);
  return size;
}

/** Writes an RR (at most 31 report blocks; zero is valid) at `out[off]`; returns its length. */
export function writeReceiverReport(out: Buffer, off: number, ssrc: number, reports: readonly RtcpReportBlock[] = []): number {
  if (reports.length > 31) throw new RangeError('at most 31 report blocks');
  const size = receiverReportSize(reports.length);
  ensure(out, off, size);
  writeHeader(out, off, reports.length, RtcpPacketType.RR, size);
  out.writeUInt32BE(ssrc >>> 0, off + 4);
  for (let i = 0; i < reports.length; i++) writeReportBlock(out, off + 8 + i * RTCP_REPORT_BLOCK_SIZE, reports[i] as RtcpReportBlock);
  return size;
}

// ---------------------------------------------------------------------------------------------
// SDES / BYE

/** SDES item type of CNAME (RFC 3550 §6.5.1). */
export const SDES_CNAME = 1;

/** Size of an SDES packet with one chunk carrying a CNAME of `cnameBytes` bytes. */
export function sdesCnameSize(cnameBytes: number): number {
  // header 4 + SSRC 4 + type 1 + len 1 + text + at least one null octet, padded to 32 bits.
  return 4 + ((4 + 2 + cnameBytes + 1 + 3) & ~3);
}

/** Writes an SDES packet with one chunk (`ssrc`, CNAME) at `out[off]`; returns its length. */
export function writeSdesCname(out: Buffer, off: number, ssrc: number, cname: string): number {
  const textLen = Buffer.byteLength(cname, 'utf8');
  if (textLen > 255) throw new RangeError('CNAME longer than 255 bytes');
  const size = sdesCnameSize(textLen);
  ensure(out, off, size);
  writeHeader(out, off, 1, RtcpPacketType.SDES, size);
  out.writeUInt32BE(ssrc >>> 0, off + 4);
  out[off + 8] = SDES_CNAME;
  out[off + 9] = textLen;
  out.write(cname, off + 10, textLen, 'utf8');
  // The chunk ends with one or more null octets up to the next 32-bit boundary (§6.5).
  out.fill(0, off + 10 + textLen, off + size);
  return size;
}

/** One SDES chunk as parsed by {@link parseSdes}. */
export interface SdesChunk {
  /** SSRC/CSRC the items describe. */
  ssrc: number;
  /** CNAME item, when present. */
  cname?: string;
}

/**
 * Parses the chunks of the SDES packet at `off` (count = SC from the iterator). Allocates (strings,
 * array): SDES arrives every few seconds, not per media packet. Stops at the first malformed chunk.
 */
export function parseSdes(buf: Buffer, off: number, length: number, count: number): SdesChunk[] {
  const chunks: SdesChunk[] = [];
  const end = off + length;
  let p = off + 4;
  for (let c = 0; c < count; c++) {
    if (p + 4 > end) break;
    const chunk: SdesChunk = { ssrc: buf.readUInt32BE(p) };
    p += 4;
    let ok = false;
    while (p < end) {
      const type = buf[p] as number;
      if (type === 0) {
        // End of the item list: skip to the next 32-bit boundary (relative to the packet start).
        p = off + ((p - off + 4) & ~3);
        ok = true;
        break;
      }
      if (p + 2 > end) break;
      const len = buf[p + 1] as number;
      if (p + 2 + len > end) break;
      if (type === SDES_CNAME) chunk.cname = buf.toString('utf8', p + 2, p + 2 + len);
      p += 2 + len;
    }
    chunks.push(chunk);
    if (!ok) break;
  }
  return chunks;
}

/** Size of a BYE for `count` SSRCs with an optional reason of `reasonBytes` bytes. */
export function byeSize(count: number, reasonBytes = 0): number {
  return 4 + 4 * count + (reasonBytes > 0 ? (1 + reasonBytes + 3) & ~3 : 0);
}

/** Writes a BYE at `out[off]`; returns its length. */
export function writeBye(out: Buffer, off: number, ssrcs: readonly number[], reason?: string): number {
  if (ssrcs.length > 31) throw new RangeError('at most 31 SSRCs in a BYE');
  const reasonLen = reason === undefined ? 0 : Buffer.byteLength(reason, 'utf8');
  if (reasonLen > 255) throw new RangeError('BYE reason longer than 255 bytes');
  const size = byeSize(ssrcs.length, reasonLen);
  ensure(out, off, size);
  writeHeader(out, off, ssrcs.length, RtcpPacketType.BYE, size);
  let p = off + 4;
  for (const ssrc of ssrcs) {
    out.writeUInt32BE(ssrc >>> 0, p);
    p += 4;
  }
  if (reasonLen > 0) {
    out[p] = reasonLen;
    out.write(reason as string, p + 1, reasonLen, 'utf8');
    out.fill(0, p + 1 + reasonLen, off + size);
  }
  return size;
}

/** SSRC `i` (< SC) of the BYE at `off`, or -1 when outside the packet. */
export function byeSsrc(buf: Buffer, off: number, length: number, i: number): number {
  const p = off + 4 + 4 * i;
  return p + 4 <= off + length ? buf.readUInt32BE(p) : -1;
}

// ---------------------------------------------------------------------------------------------
// Generic NACK (RFC 4585 §6.2.1)

/** Number of NACK FCI entries (PID + BLP) in the NACK packet of `length` bytes. */
export function nackEntryCount(length: number): number {
  return length < RTCP_FEEDBACK_HEADER_SIZE ? 0 : (length - RTCP_FEEDBACK_HEADER_SIZE) >> 2;
}

/** PID of NACK entry `i`. */
export function nackPid(buf: Buffer, off: number, i: number): number {
  return buf.readUInt16BE(off + RTCP_FEEDBACK_HEADER_SIZE + 4 * i);
}

/** BLP of NACK entry `i` (bit k set: PID + k + 1 lost as well). */
export function nackBlp(buf: Buffer, off: number, i: number): number {
  return buf.readUInt16BE(off + RTCP_FEEDBACK_HEADER_SIZE + 4 * i + 2);
}

/**
 * Calls `fn(seq)` for every sequence number the NACK at `off` reports lost, in packet order.
 * `fn` should be created once (e.g. bound in a constructor), not per packet.
 */
export function forEachNackedSeq(buf: Buffer, off: number, length: number, fn: (seq: number) => void): void {
  const n = nackEntryCount(length);
  for (let i = 0; i < n; i++) {
    const pid = nackPid(buf, off, i);
    const blp = nackBlp(buf, off, i);
    fn(pid);
    for (let k = 0; k < 16; k++) if (blp & (1 << k)) fn((pid + k + 1) & 0xffff);
  }
}

/**
 * Number of FCI entries needed for `count` lost sequence numbers given in increasing (wrap-aware)
 * order. Duplicates are tolerated.
 */
export function nackEntriesFor(seqs: ArrayLike<number>, count: number = seqs.length): number {
  let entries = 0;
  let pid = -1;
  for (let i = 0; i < count; i++) {
    const s = (seqs[i] as number) & 0xffff;
    if (pid >= 0) {
      const d = (s - pid) & 0xffff;
      if (d === 0 || d <= 16) continue;
    }
    entries++;
    pid = s;
  }
  return entries;
}

/** Size of a NACK for `entries` FCI entries. */
export function nackSize(entries: number): number {
  return RTCP_FEEDBACK_HEADER_SIZE + 4 * entries;
}

/**
 * Writes a generic NACK for the lost sequence numbers `seqs[0, count)` (increasing, wrap-aware
 * order) at `out[off]`, packing them into PID + BLP entries; returns its length.
 */
export function writeNack(
  out: Buffer,
  off: number,
  senderSsrc: number,
  mediaSsrc: number,
  seqs: ArrayLike<number>,
  count: number = seqs.length,
): number {
  const entries = nackEntriesFor(seqs, count);
  const size = nackSize(entries);
  ensure(out, off, size);
  writeHeader(out, off, RtpfbFormat.Nack, RtcpPacketType.RTPFB, size);
  out.writeUInt32BE(senderSsrc >>> 0, off + 4);
  out.writeUInt32BE(mediaSsrc >>> 0, off + 8);
  let p = off + RTCP_FEEDBACK_HEADER_SIZE - 4;
  let pid = -1;
  let blp = 0;
  for (let i = 0; i < count; i++) {
    const s = (seqs[i] as number) & 0xffff;
    if (pid >= 0) {
      const d = (s - pid) & 0xffff;
      if (d === 0) continue;
      if (d <= 16) {
        blp |= 1 << (d - 1);
        continue;
      }
      out.writeUInt16BE(blp, p + 2);
    }
    p += 4;
    pid = s;
    blp = 0;
    out.writeUInt16BE(pid, p);
  }
  if (pid >= 0) out.writeUInt16BE(blp, p + 2);
  return size;
}

// ---------------------------------------------------------------------------------------------
// PLI / FIR

/** Size of a PLI. */
export const PLI_SIZE = RTCP_FEEDBACK_HEADER_SIZE;

/** Writes a PLI (RFC 4585 §6.3.1) at `out[off]`; returns 12. */
export function writePli(out: Buffer, off: number, senderSsrc: number, mediaSsrc: number): number {
  ensure(out, off, PLI_SIZE);
  writeHeader(out, off, PsfbFormat.Pli, RtcpPacketType.PSFB, PLI_SIZE);
  out.writeUInt32BE(senderSsrc >>> 0, off + 4);
  out.writeUInt32BE(mediaSsrc >>> 0, off + 8);
  return PLI_SIZE;
}

/** Size of a FIR with `entries` FCI entries. */
export function firSize(entries: number): number {
  return RTCP_FEEDBACK_HEADER_SIZE + 8 * entries;
}

/**
 * Writes a FIR (RFC 5104 §4.3.1) asking `mediaSsrc` for a keyframe, with command sequence number
 * `seqNr` (8-bit; increment it per new request, repeat it for retransmissions); returns 20.
 * The common header's media SSRC is 0 as §4.3.1.2 requires; the target is in the FCI.
 */
export function writeFir(out: Buffer, off: number, senderSsrc: number, mediaSsrc: number, seqNr: number): number {
  const size = firSize(1);
  ensure(out, off, size);
  writeHeader(out, off, PsfbFormat.Fir, RtcpPacketType.PSFB, size);
  out.writeUInt32BE(senderSsrc >>> 0, off + 4);
  out.writeUInt32BE(0, off + 8);
  out.writeUInt32BE(mediaSsrc >>> 0, off + 12);
  out[off + 16] = seqNr & 0xff;
  out[off + 17] = 0;
  out[off + 18] = 0;
  out[off + 19] = 0;
  return size;
}

/** Number of FIR FCI entries in the FIR packet of `length` bytes. */
export function firEntryCount(length: number): number {
  return length < RTCP_FEEDBACK_HEADER_SIZE ? 0 : (length - RTCP_FEEDBACK_HEADER_SIZE) >> 3;
}

/** Target SSRC of FIR entry `i`. */
export function firSsrc(buf: Buffer, off: number, i: number): number {
  return buf.readUInt32BE(off + RTCP_FEEDBACK_HEADER_SIZE + 8 * i);
}

/** Command sequence number of FIR entry `i`. */
export function firSeqNr(buf: Buffer, off: number, i: number): number {
  return buf[off + RTCP_FEEDBACK_HEADER_SIZE + 8 * i + 4] as number;
}

// ---------------------------------------------------------------------------------------------
// REMB (draft-alvestrand-rmcat-remb-03 §2.2)

const REMB_IDENTIFIER = 0x52454d42; // "REMB"

/** Size of a REMB listing `ssrcs` SSRCs. */
export function rembSize(ssrcs: number): number {
  return RTCP_FEEDBACK_HEADER_SIZE + 8 + 4 * ssrcs;
}

/** A parsed REMB; reuse with {@link readRemb}. */
export interface RtcpRemb {
  /** Estimated maximum bitrate in bits per second (mantissa · 2^exp). */
  bitrateBps: number;
  /** SSRCs the estimate applies to (reused array; its length is set by the reader). */
  ssrcs: number[];
}

/** True when the PSFB FMT 15 packet at `off` carries the "REMB" identifier. */
export function isRemb(buf: Buffer, off: number, length: number): boolean {
  return length >= RTCP_FEEDBACK_HEADER_SIZE + 8 && buf.readUInt32BE(off + 12) === REMB_IDENTIFIER;
}

/** Reads the REMB at `off` into `into`; false when it isn't a well-formed REMB. */
export function readRemb(buf: Buffer, off: number, length: number, into: RtcpRemb): boolean {
  if (!isRemb(buf, off, length)) return false;
  const num = buf[off + 16] as number;
  if (RTCP_FEEDBACK_HEADER_SIZE + 8 + 4 * num > length) return false;
  const exp = (buf[off + 17] as number) >> 2;
  const mantissa = (((buf[off + 17] as number) & 0x03) << 16) | buf.readUInt16BE(off + 18);
  into.bitrateBps = mantissa * 2 ** exp;
  into.ssrcs.length = num;
  for (let i = 0; i < num; i++) into.ssrcs[i] = buf.readUInt32BE(off + 20 + 4 * i);
  return true;
}

/** Writes a REMB for `bitrateBps` applying to `ssrcs` (≤ 255) at `out[off]`; returns its length. */
export function writeRemb(out: Buffer, off: number, senderSsrc: number, bitrateBps: number, ssrcs: readonly number[]): number {
  if (ssrcs.length > 255) throw new RangeError('at most 255 SSRCs in a REMB');
  const size = rembSize(ssrcs.length);
  ensure(out, off, size);
  writeHeader(out, off, PsfbFormat.Afb, RtcpPacketType.PSFB, size);
  out.writeUInt32BE(senderSsrc >>> 0, off + 4);
  out.writeUInt32BE(0, off + 8); // media SSRC unused, 0 (§2.2)
  out.writeUInt32BE(REMB_IDENTIFIER, off + 12);
  let mantissa = Math.max(0, Math.floor(bitrateBps));
  let exp = 0;
  while (mantissa > 0x3ffff) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  if (exp > 63) {
    exp = 63;
    mantissa = 0x3ffff;
  }
  out[off + 16] = ssrcs.length;
  out[off + 17] = (exp << 2) | (mantissa >> 16);
  out.writeUInt16BE(mantissa & 0xffff, off + 18);
  for (let i = 0; i < ssrcs.length; i++) out.writeUInt32BE((ssrcs[i] as number) >>> 0, off + 20 + 4 * i);
  return size;
}

// ---------------------------------------------------------------------------------------------
// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01)

/** Per-packet status symbols of transport-cc feedback (§3.1.1). */
export const TccStatus = {
  /** Packet not received. */
  NotReceived: 0,
  /** Received, delta fits in one unsigned byte (0 … 63.75 ms). */
  SmallDelta: 1,
  /** Received, delta needs two signed bytes (or is negative). */
  LargeDelta: 2,
} as const;

/** Receive-delta unit in microseconds (§3.1.5). */
export const TCC_DELTA_UNIT_US = 250;
/** Reference-time unit in microseconds (§3.1). */
export const TCC_REFERENCE_TIME_UNIT_US = 64_000;
const TCC_HEADER_SIZE = RTCP_FEEDBACK_HEADER_SIZE + 8;
const MAX_RUN_LENGTH = 0x1fff;
const CHUNK_RUN = 0;
const CHUNK_VECTOR_1BIT = 1;
const CHUNK_VECTOR_2BIT = 2;

/**
 * A transport-cc feedback packet, usable both ways and designed for reuse (arrays grow, never
 * shrink):
 * - receive side: `parse(buf, off, len)`, then read `status[i]`, `deltaTicks[i]`,
 *   `arrivalTimeUs[i]` for `i < statusCount` (packet `baseSeq + i`);
 * - send side: `reset(...)`, `addReceived(arrivalUs)` / `addNotReceived()` for consecutive
 *   sequence numbers, then `write(out, off)`.
 */
export class TransportCcFeedback {
  /** SSRC of the feedback sender. */
  senderSsrc = 0;
  /** Media source SSRC (libwebrtc sends the first media SSRC; receivers ignore it). */
  mediaSsrc = 0;
  /** Transport-wide sequence number of the first packet described. */
  baseSeq = 0;
  /** Number of packets described. */
  statusCount = 0;
  /** Reference time, 24-bit wire value, in multiples of 64 ms. */
  referenceTime = 0;
  /** Feedback packet count (8-bit, increments per feedback sent). */
  fbPktCount = 0;
  /** Status symbol per packet ({@link TccStatus}). */
  status: Uint8Array = new Uint8Array(64);
  /** Receive delta per received packet in 250 µs ticks (relative to the previous received one). */
  deltaTicks: Int32Array = new Int32Array(64);
  /**
   * Arrival time per packet in µs on the feedback sender's clock (referenceTime · 64 ms + sum of
   * deltas), NaN when not received. Filled by `parse()` and `addReceived()`.
   */
  arrivalTimeUs: Float64Array = new Float64Array(64);
  #lastUs = 0;
  #chunkKind = CHUNK_RUN;

  /** Reference time in microseconds (wire value × 64 ms, no sign extension). */
  get referenceTimeUs(): number {
    return this.referenceTime * TCC_REFERENCE_TIME_UNIT_US;
  }

  /**
   * Parses the transport-cc feedback at `off` (whole packet, `length` from the iterator).
   * Returns false when malformed. Allocates only when the packet describes more packets than any
   * before it.
   */
  parse(buf: Buffer, off: number, length: number): boolean {
    let end = off + length;
    if ((buf[off] as number) & 0x20) {
      const pad = buf[end - 1] as number;
      if (pad === 0 || pad > length - TCC_HEADER_SIZE) return false;
      end -= pad;
    }
    if (end - off < TCC_HEADER_SIZE) return false;
    this.senderSsrc = buf.readUInt32BE(off + 4);
    this.mediaSsrc = buf.readUInt32BE(off + 8);
    this.baseSeq = buf.readUInt16BE(off + 12);
    const n = buf.readUInt16BE(off + 14);
    this.referenceTime = buf.readUIntBE(off + 16, 3);
    this.fbPktCount = buf[off + 19] as number;
    this.#reserve(n);
    const status = this.status;
    let p = off + TCC_HEADER_SIZE;
    let i = 0;
    while (i < n) {
      if (p + 2 > end) return false;
      const chunk = buf.readUInt16BE(p);
      p += 2;
      if ((chunk & 0x8000) === 0) {
        // Run-length chunk: T=0, S (2 bits), run length (13 bits).
        const sym = (chunk >> 13) & 0x03;
        const run = chunk & MAX_RUN_LENGTH;
        if (sym === 3) return false;
        const stop = Math.min(n, i + run);
        while (i < stop) status[i++] = sym;
      } else if ((chunk & 0x4000) === 0) {
        // Status vector chunk, 14 one-bit symbols.
        for (let k = 13; k >= 0 && i < n; k--) status[i++] = (chunk >> k) & 0x01;
      } else {
        // Status vector chunk, 7 two-bit symbols.
        for (let k = 6; k >= 0 && i < n; k--) {
          const sym = (chunk >> (2 * k)) & 0x03;
          if (sym === 3) return false;
          status[i++] = sym;
        }
      }
    }
    const deltas = this.deltaTicks;
    const arrival = this.arrivalTimeUs;
    let t = this.referenceTime * TCC_REFERENCE_TIME_UNIT_US;
    for (i = 0; i < n; i++) {
      const sym = status[i] as number;
      if (sym === TccStatus.NotReceived) {
        deltas[i] = 0;
        arrival[i] = Number.NaN;
        continue;
      }
      let d: number;
      if (sym === TccStatus.SmallDelta) {
        if (p + 1 > end) return false;
        d = buf[p] as number;
        p += 1;
      } else {
        if (p + 2 > end) return false;
        d = buf.readInt16BE(p);
        p += 2;
      }
      deltas[i] = d;
      t += d * TCC_DELTA_UNIT_US;
      arrival[i] = t;
    }
    this.statusCount = n;
    return true;
  }

  /**
   * Starts a new feedback packet. `referenceTimeUs` is rounded down to 64 ms; the first
   * received packet's delta is measured from it (so pass a time ≤ the first arrival).
   */
  reset(senderSsrc: number, mediaSsrc: number, baseSeq: number, referenceTimeUs: number, fbPktCount: number): void {
    this.senderSsrc = senderSsrc >>> 0;
    this.mediaSsrc = mediaSsrc >>> 0;
    this.baseSeq = baseSeq & 0xffff;
    this.statusCount = 0;
    const ref = Math.floor(referenceTimeUs / TCC_REFERENCE_TIME_UNIT_US);
    this.referenceTime = ((ref % 0x1000000) + 0x1000000) % 0x1000000;
    this.fbPktCount = fbPktCount & 0xff;
    this.#lastUs = ref * TCC_REFERENCE_TIME_UNIT_US;
  }

  /** Appends "packet baseSeq + statusCount was not received". False when the packet is full. */
  addNotReceived(): boolean {
    const i = this.statusCount;
    if (i >= 0xffff) return false;
    this.#reserve(i + 1);
    this.status[i] = TccStatus.NotReceived;
    this.deltaTicks[i] = 0;
    this.arrivalTimeUs[i] = Number.NaN;
    this.statusCount = i + 1;
    return true;
  }

  /**
   * Appends "packet baseSeq + statusCount arrived at `arrivalUs`". The delta is rounded to 250 µs
   * relative to the previous packet's rounded time (no drift). Returns false, adding nothing, when
   * the delta doesn't fit in 16 signed bits (> ~8 s): start a new feedback packet then.
   */
  addReceived(arrivalUs: number): boolean {
    const i = this.statusCount;
    if (i >= 0xffff) return false;
    const ticks = Math.round((arrivalUs - this.#lastUs) / TCC_DELTA_UNIT_US);
    if (ticks < -0x8000 || ticks > 0x7fff) return false;
    this.#reserve(i + 1);
    this.status[i] = ticks >= 0 && ticks <= 0xff ? TccStatus.SmallDelta : TccStatus.LargeDelta;
    this.deltaTicks[i] = ticks;
    this.#lastUs += ticks * TCC_DELTA_UNIT_US;
    this.arrivalTimeUs[i] = this.#lastUs;
    this.statusCount = i + 1;
    return true;
  }

  /** Serialized size of the packet as currently filled (padded to 32 bits). */
  serializedSize(): number {
    return (TCC_HEADER_SIZE + 2 * this.#chunkCount() + this.#deltaBytes() + 3) & ~3;
  }

  /** Writes the packet at `out[off]`; returns its length. */
  write(out: Buffer, off: number): number {
    const size = this.serializedSize();
    ensure(out, off, size);
    writeHeader(out, off, RtpfbFormat.TransportCc, RtcpPacketType.RTPFB, size);
    out.writeUInt32BE(this.senderSsrc, off + 4);
    out.writeUInt32BE(this.mediaSsrc, off + 8);
    out.writeUInt16BE(this.baseSeq, off + 12);
    out.writeUInt16BE(this.statusCount, off + 14);
    out.writeUIntBE(this.referenceTime, off + 16, 3);
    out[off + 19] = this.fbPktCount;
    let p = off + TCC_HEADER_SIZE;
    const n = this.statusCount;
    const status = this.status;
    let i = 0;
    while (i < n) {
      const chunkLen = this.#nextChunk(i);
      const kind = this.#chunkKind;
      let chunk: number;
      if (kind === CHUNK_RUN) {
        chunk = ((status[i] as number) << 13) | chunkLen;
      } else if (kind === CHUNK_VECTOR_1BIT) {
        chunk = 0x8000;
        for (let k = 0; k < chunkLen; k++) chunk |= (status[i + k] as number) << (13 - k);
      } else {
        chunk = 0xc000;
        for (let k = 0; k < chunkLen; k++) chunk |= (status[i + k] as number) << (12 - 2 * k);
      }
      out.writeUInt16BE(chunk, p);
      p += 2;
      i += chunkLen;
    }
    const deltas = this.deltaTicks;
    for (i = 0; i < n; i++) {
      const sym = status[i] as number;
      if (sym === TccStatus.SmallDelta) {
        out[p++] = deltas[i] as number;
      } else if (sym === TccStatus.LargeDelta) {
        out.writeInt16BE(deltas[i] as number, p);
        p += 2;
      }
    }
    // Zero padding to the next 32-bit boundary (§3.1 figure: "zero padding").
    out.fill(0, p, off + size);
    return size;
  }

  /**
   * Chooses the chunk starting at packet `i` (greedy): a run-length chunk for runs of ≥ 14
   * identical symbols (what a 1-bit vector holds), else a 14 × 1-bit vector when the next symbols
   * are all "not received"/"small delta", else a 7 × 2-bit vector. Sets #chunkKind and returns the
   * number of packets the chunk covers.
   */
  #nextChunk(i: number): number {
    const status = this.status;
    const n = this.statusCount;
    const first = status[i] as number;
    let run = 1;
    while (i + run < n && run < MAX_RUN_LENGTH && status[i + run] === first) run++;
    if (run >= 14 || (run === n - i && run > 7)) {
      this.#chunkKind = CHUNK_RUN;
      return run;
    }
    const m1 = Math.min(14, n - i);
    let oneBit = true;
    for (let k = 0; k < m1; k++) {
      if ((status[i + k] as number) > TccStatus.SmallDelta) {
        oneBit = false;
        break;
      }
    }
    if (oneBit) {
      this.#chunkKind = CHUNK_VECTOR_1BIT;
      return m1;
    }
    this.#chunkKind = CHUNK_VECTOR_2BIT;
    return Math.min(7, n - i);
  }

  #chunkCount(): number {
    let chunks = 0;
    for (let i = 0; i < this.statusCount; chunks++) i += this.#nextChunk(i);
    return chunks;
  }

  #deltaBytes(): number {
    let bytes = 0;
    const status = this.status;
    for (let i = 0; i < this.statusCount; i++) bytes += status[i] as number; // 0, 1 or 2 bytes
    return bytes;
  }

  #reserve(n: number): void {
    if (n <= this.status.length) return;
    let cap = this.status.length * 2;
    while (cap < n) cap *= 2;
    const status = new Uint8Array(cap);
    status.set(this.status.subarray(0, this.statusCount));
    const deltas = new Int32Array(cap);
    deltas.set(this.deltaTicks.subarray(0, this.statusCount));
    const arrival = new Float64Array(cap);
    arrival.set(this.arrivalTimeUs.subarray(0, this.statusCount));
    this.status = status;
    this.deltaTicks = deltas;
    this.arrivalTimeUs = arrival;
  }
}
