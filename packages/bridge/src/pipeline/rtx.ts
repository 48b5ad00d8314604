/**
 * RTX (RFC 4588) in both directions: unwrapping a sender's retransmission into the original packet, and wrapping a
 * cached packet into an RTX packet for a receiver.
 *
 * RTX payload format (RFC 4588 §4): the RTP header of the RTX stream (its own SSRC, sequence number and payload
 * type; the original timestamp and marker), then the 2-byte original sequence number (OSN), then the original
 * payload.
 *
 * References: RFC 4588 §4 (https://www.rfc-editor.org/rfc/rfc4588#section-4); PROTOCOL.md §7.4 (unwrap incoming
 * RTX; build outgoing RTX with OSN = the rewritten sequence number).
 */
import type { PacketInfo } from '../rtp/packet-info.js';
import { RtpParseStatus } from '../rtp/rtp-packet.js';

/** Size of the original sequence number in an RTX payload. */
export const RTX_OSN_SIZE = 2;

/** Why {@link unwrapRtx} refused a packet. */
export type RtxUnwrapResult = 'ok' | 'rtx-too-short' | 'rtx-malformed';

/**
 * Turns the parsed RTX packet `p` into the original packet in place: SSRC := `originalSsrc`, payload type :=
 * `originalPt` (-1 keeps it), sequence number := OSN, payload shifted over the OSN; re-parses the header.
 * A packet with only the OSN (or less) is refused: it carries nothing (an RTX probe).
 */
export function unwrapRtx(p: PacketInfo, originalSsrc: number, originalPt: number): RtxUnwrapResult {
  const h = p.rtp;
  if (h.payloadLength <= RTX_OSN_SIZE) return 'rtx-too-short';
  const buf = p.buffer;
  const off = h.payloadOffset;
  const osn = buf.readUInt16BE(off);
  buf.copyWithin(off, off + RTX_OSN_SIZE, p.length);
  p.length -= RTX_OSN_SIZE;
  buf.writeUInt16BE(osn, 2);
  buf.writeUInt32BE(originalSsrc >>> 0, 8);
  if (originalPt >= 0) buf[1] = ((buf[1] as number) & 0x80) | (originalPt & 0x7f);
  if (p.parseRtp() !== RtpParseStatus.Ok) return 'rtx-malformed';
  p.isRetransmission = true;
  return 'ok';
}

/**
 * Writes an RTX packet for the (parsed) packet `p` into `out` at offset 0: `p`'s header (CSRCs and extensions
 * kept, P bit cleared), SSRC `rtxSsrc`, sequence number `rtxSeq`, payload type `rtxPt`, then the OSN (`p`'s
 * sequence number) and `p`'s payload without padding. Returns the length, or -1 when `out` is too small.
 */
export function writeRtx(out: Buffer, p: PacketInfo, rtxSsrc: number, rtxSeq: number, rtxPt: number): number {
  const h = p.rtp;
  const len = h.headerLength + RTX_OSN_SIZE + h.payloadLength;
  if (len > out.length) return -1;
  const src = p.buffer;
  src.copy(out, 0, 0, h.headerLength);
  out[0] = (out[0] as number) & ~0x20;
  out[1] = ((out[1] as number) & 0x80) | (rtxPt & 0x7f);
  out.writeUInt16BE(rtxSeq & 0xffff, 2);
  out.writeUInt32BE(rtxSsrc >>> 0, 8);
  out.writeUInt16BE(h.sequenceNumber, h.headerLength);
  src.copy(out, h.headerLength + RTX_OSN_SIZE, h.payloadOffset, h.payloadOffset + h.payloadLength);
  return len;
}

/** Copies `p` (header and payload, padding dropped) into `out` at offset 0 unchanged; returns the length or -1. */
export function writePlainCopy(out: Buffer, p: PacketInfo): number {
  const h = p.rtp;
  const len = h.headerLength + h.payloadLength;
  if (len > out.length) return -1;
  p.buffer.copy(out, 0, 0, len);
  out[0] = (out[0] as number) & ~0x20;
  return len;
}

/**
 * In-place form of {@link writeRtx} for a packet the caller owns (a restored retransmission): turns the parsed `p`
 * into its RTX packet (payload moved up by the OSN, padding dropped, P bit cleared) and re-parses it. Returns the new
 * length, or -1 when the buffer has no room for the OSN.
 */
export function wrapRtxInPlace(p: PacketInfo, rtxSsrc: number, rtxSeq: number, rtxPt: number): number {
  const h = p.rtp;
  const off = h.payloadOffset;
  const payloadLen = h.payloadLength;
  const len = off + RTX_OSN_SIZE + payloadLen;
  const buf = p.buffer;
  if (len > buf.length) return -1;
  const osn = h.sequenceNumber;
  buf.copyWithin(off + RTX_OSN_SIZE, off, off + payloadLen);
  buf.writeUInt16BE(osn, off);
  buf[0] = (buf[0] as number) & ~0x20;
  buf[1] = ((buf[1] as number) & 0x80) | (rtxPt & 0x7f);
  buf.writeUInt16BE(rtxSeq & 0xffff, 2);
  buf.writeUInt32BE(rtxSsrc >>> 0, 8);
  p.length = len;
  return p.parseRtp() === RtpParseStatus.Ok ? len : -1;
}

/** In-place form of {@link writePlainCopy}: drops `p`'s padding (P bit cleared) and re-parses; returns the length. */
export function dropPaddingInPlace(p: PacketInfo): number {
  const h = p.rtp;
  if (h.paddingLength === 0) return p.length;
  p.buffer[0] = (p.buffer[0] as number) & ~0x20;
  p.length = h.payloadOffset + h.payloadLength;
  return p.parseRtp() === RtpParseStatus.Ok ? p.length : -1;
}
