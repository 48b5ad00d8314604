/**
 * Zero-copy RTP fixed-header reader/writer over a Buffer holding one packet at offset 0.
 *
 * `RtpHeader.parse()` validates lengths once and caches the offsets and fields in a reusable
 * object (one per PacketInfo, never one per packet). Malformed input yields an
 * {@link RtpParseStatus}, never a throw. The free functions read or patch single fields in place
 * for code that already knows the packet is valid (e.g. after SRTP authenticated it).
 *
 * References:
 * - RFC 3550 §5.1 (fixed header, CSRC list, padding: the last octet counts the padding octets
 *   including itself), §5.3.1 (header extension: 16-bit profile-defined + 16-bit length in
 *   32-bit words), Appendix A.1 (header validity checks):
 *   https://www.rfc-editor.org/rfc/rfc3550#section-5.1
 * - RFC 8285 §4 (one-byte/two-byte header extension profiles 0xBEDE / 0x100x):
 *   https://www.rfc-editor.org/rfc/rfc8285#section-4
 */

/** Size of the fixed RTP header (no CSRCs, no extension). */
export const RTP_HEADER_SIZE = 12;
/** Size of the header extension's own header (profile + length). */
export const RTP_EXTENSION_HEADER_SIZE = 4;

/** Result of {@link RtpHeader.parse}; `Ok` is 0 so `if (status)` means "malformed". */
export const RtpParseStatus = {
  Ok: 0,
  /** Shorter than the 12-byte fixed header. */
  TooShort: 1,
  /** Version field is not 2. */
  BadVersion: 2,
  /** CSRC list runs past the end of the packet. */
  BadCsrcCount: 3,
  /** Header extension (its header or declared length) runs past the end of the packet. */
  BadExtension: 4,
  /** P bit set but the padding count is 0 or larger than the payload. */
  BadPadding: 5,
} as const;
/** One of the {@link RtpParseStatus} values. */
export type RtpParseStatus = (typeof RtpParseStatus)[keyof typeof RtpParseStatus];

/**
 * Parsed view of one RTP packet's header: offsets plus the fixed-header fields, cached.
 * Designed to be reused: `parse()` overwrites every field. Setters write through to the buffer.
 */
export class RtpHeader {
  /** Buffer the packet lives in (packet starts at offset 0). */
  buffer: Buffer = EMPTY;
  /** Packet length in bytes (≤ buffer.length). */
  length = 0;
  /** Bytes before the payload: 12 + 4·CC + extension (always a multiple of 4). */
  headerLength = 0;
  /** Offset of the payload (= headerLength). */
  payloadOffset = 0;
  /** Payload length with padding removed. */
  payloadLength = 0;
  /** Padding octets at the end (0 when the P bit is clear). */
  paddingLength = 0;
  /** Offset of the extension's 4-byte header (profile, length), or -1 when the X bit is clear. */
  extensionOffset = -1;
  /** "Defined by profile" field of the extension (0xBEDE one-byte, 0x100x two-byte), or 0. */
  extensionProfile = 0;
  /** Offset of the extension data (after its 4-byte header), or -1. */
  extensionDataOffset = -1;
  /** Length of the extension data in bytes (a multiple of 4), or 0. */
  extensionDataLength = 0;
  /** Number of CSRCs (0–15). */
  csrcCount = 0;
  /** Marker bit. */
  marker = false;
  /** Payload type (0–127). */
  payloadType = 0;
  /** Sequence number (16-bit). */
  sequenceNumber = 0;
  /** Timestamp (32-bit, unsigned). */
  timestamp = 0;
  /** Synchronisation source (32-bit, unsigned). */
  ssrc = 0;

  /**
   * Validates and parses the packet in `buf[0, length)`. Once per packet; no allocation.
   * On a non-Ok status the fields are unspecified.
   */
  parse(buf: Buffer, length: number = buf.length): RtpParseStatus {
    this.buffer = buf;
    this.length = length;
    if (length < RTP_HEADER_SIZE || length > buf.length) return RtpParseStatus.TooShort;
    const b0 = buf[0] as number;
    if (b0 >> 6 !== 2) return RtpParseStatus.BadVersion;
    const cc = b0 & 0x0f;
    let off = RTP_HEADER_SIZE + 4 * cc;
    if (off > length) return RtpParseStatus.BadCsrcCount;
    if (b0 & 0x10) {
      if (off + RTP_EXTENSION_HEADER_SIZE > length) return RtpParseStatus.BadExtension;
      this.extensionOffset = off;
      this.extensionProfile = buf.readUInt16BE(off);
      const extLen = buf.readUInt16BE(off + 2) * 4;
      off += RTP_EXTENSION_HEADER_SIZE;
      if (off + extLen > length) return RtpParseStatus.BadExtension;
      this.extensionDataOffset = off;
      this.extensionDataLength = extLen;
      off += extLen;
    } else {
      this.extensionOffset = -1;
      this.extensionProfile = 0;
      this.extensionDataOffset = -1;
      this.extensionDataLength = 0;
    }
    let padding = 0;
    if (b0 & 0x20) {
      // RFC 3550 §5.1: the last octet counts the padding, itself included, so it is ≥ 1.
      if (length <= off) return RtpParseStatus.BadPadding;
      padding = buf[length - 1] as number;
      if (padding === 0 || padding > length - off) return RtpParseStatus.BadPadding;
    }
    const b1 = buf[1] as number;
    this.csrcCount = cc;
    this.marker = b1 >= 0x80;
    this.payloadType = b1 & 0x7f;
    this.sequenceNumber = buf.readUInt16BE(2);
    this.timestamp = buf.readUInt32BE(4);
    this.ssrc = buf.readUInt32BE(8);
    this.headerLength = off;
    this.payloadOffset = off;
    this.paddingLength = padding;
    this.payloadLength = length - off - padding;
    return RtpParseStatus.Ok;
  }

  /** P bit. */
  get hasPadding(): boolean {
    return this.paddingLength > 0;
  }

  /** X bit. */
  get hasExtension(): boolean {
    return this.extensionOffset >= 0;
  }

  /** Padding-only packet (P set, nothing but padding after the header): Chrome's BWE probes. */
  get isPaddingOnly(): boolean {
    return this.payloadLength === 0 && this.paddingLength > 0;
  }

  /** Reads CSRC `i` (0-based, < csrcCount). */
  csrc(i: number): number {
    return this.buffer.readUInt32BE(RTP_HEADER_SIZE + 4 * i);
  }

  /** Rewrites the SSRC in place (buffer and cached field). */
  setSsrc(ssrc: number): void {
    this.buffer.writeUInt32BE(ssrc >>> 0, 8);
    this.ssrc = ssrc >>> 0;
  }

  /** Rewrites the sequence number in place (taken modulo 2^16). */
  setSequenceNumber(seq: number): void {
    this.buffer.writeUInt16BE(seq & 0xffff, 2);
    this.sequenceNumber = seq & 0xffff;
  }

  /** Rewrites the timestamp in place (taken modulo 2^32). */
  setTimestamp(ts: number): void {
    this.buffer.writeUInt32BE(ts >>> 0, 4);
    this.timestamp = ts >>> 0;
  }

  /** Rewrites the payload type in place, keeping the marker bit. */
  setPayloadType(pt: number): void {
    const buf = this.buffer;
    buf[1] = ((buf[1] as number) & 0x80) | (pt & 0x7f);
    this.payloadType = pt & 0x7f;
  }

  /** Sets or clears the marker bit in place. */
  setMarker(marker: boolean): void {
    const buf = this.buffer;
    buf[1] = marker ? (buf[1] as number) | 0x80 : (buf[1] as number) & 0x7f;
    this.marker = marker;
  }

  /** Copies the parse result of `other` (same buffer semantics; used when cloning a PacketInfo). */
  copyFrom(other: RtpHeader, buffer: Buffer): void {
    this.buffer = buffer;
    this.length = other.length;
    this.headerLength = other.headerLength;
    this.payloadOffset = other.payloadOffset;
    this.payloadLength = other.payloadLength;
    this.paddingLength = other.paddingLength;
    this.extensionOffset = other.extensionOffset;
    this.extensionProfile = other.extensionProfile;
    this.extensionDataOffset = other.extensionDataOffset;
    this.extensionDataLength = other.extensionDataLength;
    this.csrcCount = other.csrcCount;
    this.marker = other.marker;
    this.payloadType = other.payloadType;
    this.sequenceNumber = other.sequenceNumber;
    this.timestamp = other.timestamp;
    this.ssrc = other.ssrc;
  }

  /** Resets to the empty state (for pooling). */
  reset(): void {
    this.buffer = EMPTY;
    this.length = 0;
    this.headerLength = 0;
    this.payloadOffset = 0;
    this.payloadLength = 0;
    this.paddingLength = 0;
    this.extensionOffset = -1;
    this.extensionProfile = 0;
    this.extensionDataOffset = -1;
    this.extensionDataLength = 0;
    this.csrcCount = 0;
    this.marker = false;
    this.payloadType = 0;
    this.sequenceNumber = 0;
    this.timestamp = 0;
    this.ssrc = 0;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Length of the RTP header (fixed part + CSRCs + extension) of the packet in `buf[0, length)`, or
 * -1 when the header is malformed. Padding is not looked at (for SRTP it is still encrypted).
 */
export function rtpHeaderLength(buf: Buffer, length: number): number {
  if (length < RTP_HEADER_SIZE) return -1;
  const b0 = buf[0] as number;
  if (b0 >> 6 !== 2) return -1;
  let off = RTP_HEADER_SIZE + 4 * (b0 & 0x0f);
  if (b0 & 0x10) {
    if (off + RTP_EXTENSION_HEADER_SIZE > length) return -1;
    off += RTP_EXTENSION_HEADER_SIZE + buf.readUInt16BE(off + 2) * 4;
  }
  return off > length ? -1 : off;
}

/** Payload type (7 bits) of the RTP packet in `buf`. */
export function rtpPayloadType(buf: Buffer): number {
  return (buf[1] as number) & 0x7f;
}

/** Marker bit of the RTP packet in `buf`. */
export function rtpMarker(buf: Buffer): boolean {
  return (buf[1] as number) >= 0x80;
}

/** Sequence number of the RTP packet in `buf`. */
export function rtpSequenceNumber(buf: Buffer): number {
  return buf.readUInt16BE(2);
}

/** Timestamp of the RTP packet in `buf`. */
export function rtpTimestamp(buf: Buffer): number {
  return buf.readUInt32BE(4);
}

/** SSRC of the RTP packet in `buf`. */
export function rtpSsrc(buf: Buffer): number {
  return buf.readUInt32BE(8);
}

/** Rewrites the SSRC of the RTP packet in `buf`. */
export function setRtpSsrc(buf: Buffer, ssrc: number): void {
  buf.writeUInt32BE(ssrc >>> 0, 8);
}

/** Rewrites the sequence number of the RTP packet in `buf` (modulo 2^16). */
export function setRtpSequenceNumber(buf: Buffer, seq: number): void {
  buf.writeUInt16BE(seq & 0xffff, 2);
}

/** Rewrites the timestamp of the RTP packet in `buf` (modulo 2^32). */
export function setRtpTimestamp(buf: Buffer, ts: number): void {
  buf.writeUInt32BE(ts >>> 0, 4);
}

/** Rewrites the payload type of the RTP packet in `buf`, keeping the marker bit. */
export function setRtpPayloadType(buf: Buffer, pt: number): void {
  buf[1] = ((buf[1] as number) & 0x80) | (pt & 0x7f);
}

/** Fields for {@link writeRtpHeader}. */
export interface RtpHeaderInit {
  /** Payload type (0–127). */
  payloadType: number;
  /** Sequence number (16-bit). */
  sequenceNumber: number;
  /** Timestamp (32-bit). */
  timestamp: number;
  /** SSRC (32-bit). */
  ssrc: number;
  /** Marker bit (default false). */
  marker?: boolean;
  /** CSRC list (default none, at most 15). */
  csrcs?: readonly number[];
}

/**
 * Writes a fixed RTP header (+ CSRCs, no extension, P bit clear) at `out[offset]` and returns its
 * length. For building packets (RTX, probes, tests), not for the forwarding path.
 */
export function writeRtpHeader(out: Buffer, init: RtpHeaderInit, offset = 0): number {
  const csrcs = init.csrcs ?? [];
  if (csrcs.length > 15) throw new RangeError('at most 15 CSRCs');
  const len = RTP_HEADER_SIZE + 4 * csrcs.length;
  if (offset + len > out.length) throw new RangeError('buffer too small for RTP header');
  out[offset] = 0x80 | csrcs.length;
  out[offset + 1] = (init.marker ? 0x80 : 0) | (init.payloadType & 0x7f);
  out.writeUInt16BE(init.sequenceNumber & 0xffff, offset + 2);
  out.writeUInt32BE(init.timestamp >>> 0, offset + 4);
  out.writeUInt32BE(init.ssrc >>> 0, offset + 8);
  for (let i = 0; i < csrcs.length; i++) out.writeUInt32BE((csrcs[i] as number) >>> 0, offset + 12 + 4 * i);
  return len;
}
