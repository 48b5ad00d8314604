/**
 * Demultiplexing of datagrams arriving on one UDP 5-tuple (ICE + DTLS + SRTP + SRTCP, rtcp-mux),
 * by the first byte, and RTP vs RTCP by the second byte. Runs once per datagram; reads two bytes.
 *
 * References:
 * - RFC 7983 §7 (first-byte ranges: 0–3 STUN, 16–19 ZRTP, 20–63 DTLS, 64–79 TURN channel,
 *   128–191 RTP/RTCP): https://www.rfc-editor.org/rfc/rfc7983#section-7
 * - RFC 5761 §4 (RTP vs RTCP on one port: the second octet is an RTCP packet type 192–223 for
 *   RTCP; RTP payload types 64–95, which would collide when the marker bit is set, are not used):
 *   https://www.rfc-editor.org/rfc/rfc5761#section-4
 * - RFC 3550 §5.1 (version field is 2): https://www.rfc-editor.org/rfc/rfc3550#section-5.1
 */

/** What a datagram on a muxed media port is (RFC 7983). Numeric for cheap comparisons. */
export const DatagramKind = {
  /** First byte outside every known range, or an empty datagram. */
  Unknown: 0,
  /** STUN (ICE connectivity checks, consent): first byte 0–3. */
  Stun: 1,
  /** DTLS record: first byte 20–63. */
  Dtls: 2,
  /** RTP (SRTP): first byte 128–191 and second byte not an RTCP packet type. */
  Rtp: 3,
  /** RTCP (SRTCP): first byte 128–191 and second byte 192–223. */
  Rtcp: 4,
  /** ZRTP: first byte 16–19 (not used by WebRTC). */
  Zrtp: 5,
  /** TURN ChannelData: first byte 64–79. */
  TurnChannel: 6,
} as const;
/** One of the {@link DatagramKind} values. */
export type DatagramKind = (typeof DatagramKind)[keyof typeof DatagramKind];

/** Minimum length of anything we'd treat as RTP (fixed header, RFC 3550 §5.1). */
export const RTP_MIN_HEADER_SIZE = 12;
/** Minimum length of an RTCP packet (common header + SSRC, RFC 3550 §6.4). */
export const RTCP_MIN_SIZE = 8;

/** Classifies a datagram of `length` bytes by its first (and for RTP/RTCP second) byte. */
export function classifyDatagram(buf: Uint8Array, length: number = buf.length): DatagramKind {
  if (length < 1) return DatagramKind.Unknown;
  const b0 = buf[0] as number;
  if (b0 <= 3) return DatagramKind.Stun;
  if (b0 >= 128 && b0 <= 191) {
    if (length < 2) return DatagramKind.Unknown;
    return isRtcpPacketType(buf[1] as number) ? DatagramKind.Rtcp : DatagramKind.Rtp;
  }
  if (b0 >= 20 && b0 <= 63) return DatagramKind.Dtls;
  if (b0 >= 16 && b0 <= 19) return DatagramKind.Zrtp;
  if (b0 >= 64 && b0 <= 79) return DatagramKind.TurnChannel;
  return DatagramKind.Unknown;
}

/**
 * True when the second octet of an RTP/RTCP packet is an RTCP packet type (192–223, RFC 5761 §4).
 * Equivalently: marker bit set and payload type 64–95 after masking, a range RTP must not use.
 */
export function isRtcpPacketType(secondByte: number): boolean {
  return secondByte >= 192 && secondByte <= 223;
}

/** STUN message (first byte 0–3, at least a 20-byte header; RFC 5389 §6). */
export function looksLikeStun(buf: Uint8Array, length: number = buf.length): boolean {
  return length >= 20 && (buf[0] as number) <= 3;
}

/** DTLS record (first byte 20–63, at least a 13-byte record header; RFC 6347 §4.1). */
export function looksLikeDtls(buf: Uint8Array, length: number = buf.length): boolean {
  const b0 = buf[0] as number;
  return length >= 13 && b0 >= 20 && b0 <= 63;
}

/** RTP packet: version 2, at least 12 bytes, second byte not an RTCP packet type. */
export function looksLikeRtp(buf: Uint8Array, length: number = buf.length): boolean {
  if (length < RTP_MIN_HEADER_SIZE) return false;
  const b0 = buf[0] as number;
  return b0 >= 128 && b0 <= 191 && !isRtcpPacketType(buf[1] as number);
}

/** RTCP packet: version 2, at least 8 bytes, second byte an RTCP packet type (192–223). */
export function looksLikeRtcp(buf: Uint8Array, length: number = buf.length): boolean {
  if (length < RTCP_MIN_SIZE) return false;
  const b0 = buf[0] as number;
  return b0 >= 128 && b0 <= 191 && isRtcpPacketType(buf[1] as number);
}
