/**
 * RTP header extensions in the RFC 8285 one-byte and two-byte forms: lookup by id without
 * allocation, readers/writers for the extensions the bridge uses, and an in-place stripper for
 * the forwarding path.
 *
 * All functions take the {@link RtpHeader} filled by `parse()` (for the extension offsets) and run
 * per packet: no allocation except {@link readMid}, which returns a string and is meant for the
 * first packets of a stream only.
 *
 * References:
 * - RFC 8285 §4.2 (one-byte form, profile 0xBEDE: ID 1–14, L = length − 1, ID 0 = padding byte,
 *   ID 15 = stop parsing), §4.3 (two-byte form, profile 0x100x: ID 1–255, L = length, may be 0):
 *   https://www.rfc-editor.org/rfc/rfc8285#section-4
 * - RFC 6464 §3 (ssrc-audio-level: V bit + 7-bit level in −dBov):
 *   https://www.rfc-editor.org/rfc/rfc6464#section-3
 * - abs-send-time (24-bit 6.18 fixed-point seconds):
 *   https://webrtc.googlesource.com/src/+/refs/heads/main/docs/native-code/rtp-hdrext/abs-send-time
 * - draft-holmer-rmcat-transport-wide-cc-extensions-01 §2 (16-bit transport-wide sequence number):
 *   https://datatracker.ietf.org/doc/html/draft-holmer-rmcat-transport-wide-cc-extensions-01#section-2
 * - RFC 9143 §15 / RFC 8843 (sdes:mid as an RTP header extension):
 *   https://www.rfc-editor.org/rfc/rfc8843#section-15.1
 * - 3GPP TS 26.114 §7.4.5 (urn:3gpp:video-orientation, 1 byte: C/F/R1/R0 bits).
 * - PROTOCOL.md §7.4, §4.3.2: forwarded packets keep only ssrc-audio-level and video-orientation.
 */
import type { RtpHeader } from './rtp-packet.js';

/** "Defined by profile" value of the one-byte form (RFC 8285 §4.2). */
export const ONE_BYTE_EXTENSION_PROFILE = 0xbede;
/** "Defined by profile" value of the two-byte form, low 4 bits being "appbits" (RFC 8285 §4.3). */
export const TWO_BYTE_EXTENSION_PROFILE = 0x1000;

/** Header extension URIs the bridge knows (negotiated ids come from signaling). */
export const HeaderExtensionUri = {
  SsrcAudioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  AbsSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  TransportCc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  SdesMid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  VideoOrientation: 'urn:3gpp:video-orientation',
} as const;

/** True when `profile` is the one-byte form. */
export function isOneByteExtensionProfile(profile: number): boolean {
  return profile === ONE_BYTE_EXTENSION_PROFILE;
}

/** True when `profile` is the two-byte form (0x1000–0x100F). */
export function isTwoByteExtensionProfile(profile: number): boolean {
  return (profile & 0xfff0) === TWO_BYTE_EXTENSION_PROFILE;
}

/**
 * Offset of the data of extension element `id` in the packet, or -1 when the packet has no
 * RFC 8285 extension block, no element with that id, or a malformed block before it.
 * Use {@link headerExtensionLength} for the element's data length.
 */
export function findHeaderExtension(header: RtpHeader, id: number): number {
  const start = header.extensionDataOffset;
  if (start < 0 || id <= 0) return -1;
  const buf = header.buffer;
  const end = start + header.extensionDataLength;
  const profile = header.extensionProfile;
  let p = start;
  if (profile === ONE_BYTE_EXTENSION_PROFILE) {
    if (id > 14) return -1;
    while (p < end) {
      const b = buf[p] as number;
      if (b === 0) {
        p++;
        continue;
      }
      const elId = b >> 4;
      if (elId === 15) return -1;
      const len = (b & 0x0f) + 1;
      if (p + 1 + len > end) return -1;
      if (elId === id) return p + 1;
      p += 1 + len;
    }
    return -1;
  }
  if ((profile & 0xfff0) === TWO_BYTE_EXTENSION_PROFILE) {
    if (id > 255) return -1;
    while (p < end) {
      const elId = buf[p] as number;
      if (elId === 0) {
        p++;
        continue;
      }
      if (p + 2 > end) return -1;
      const len = buf[p + 1] as number;
      if (p + 2 + len > end) return -1;
      if (elId === id) return p + 2;
      p += 2 + len;
    }
  }
  return -1;
}

/** Data length of the element whose data starts at `dataOffset` (from {@link findHeaderExtension}). */
export function headerExtensionLength(header: RtpHeader, dataOffset: number): number {
  const b = header.buffer[dataOffset - 1] as number;
  return header.extensionProfile === ONE_BYTE_EXTENSION_PROFILE ? (b & 0x0f) + 1 : b;
}

/**
 * ssrc-audio-level (RFC 6464): the raw byte `V << 7 | level`, or -1 when absent.
 * Decode with {@link audioLevelIsVoice} and {@link audioLevelDbov}.
 */
export function readAudioLevel(header: RtpHeader, id: number): number {
  const off = findHeaderExtension(header, id);
  if (off < 0 || headerExtensionLength(header, off) < 1) return -1;
  return header.buffer[off] as number;
}

/** V bit of a raw audio-level byte (the sender's voice activity decision). */
export function audioLevelIsVoice(raw: number): boolean {
  return (raw & 0x80) !== 0;
}

/** Level of a raw audio-level byte in −dBov: 0 (loudest) … 127 (silence). */
export function audioLevelDbov(raw: number): number {
  return raw & 0x7f;
}

/** abs-send-time: 24-bit 6.18 fixed-point seconds, or -1 when absent. */
export function readAbsSendTime(header: RtpHeader, id: number): number {
  const off = findHeaderExtension(header, id);
  if (off < 0 || headerExtensionLength(header, off) < 3) return -1;
  const buf = header.buffer;
  return ((buf[off] as number) << 16) | ((buf[off + 1] as number) << 8) | (buf[off + 2] as number);
}

/** Overwrites abs-send-time in place; false when the packet has no such 3-byte element. */
export function writeAbsSendTime(header: RtpHeader, id: number, value: number): boolean {
  const off = findHeaderExtension(header, id);
  if (off < 0 || headerExtensionLength(header, off) < 3) return false;
  const buf = header.buffer;
  buf[off] = (value >> 16) & 0xff;
  buf[off + 1] = (value >> 8) & 0xff;
  buf[off + 2] = value & 0xff;
  return true;
}

/** abs-send-time value (6.18 fixed point, modulo 64 s) for a time in microseconds. */
export function absSendTimeFromMicros(us: number): number {
  // 2^18 units per second; keep 24 bits (64 s wrap).
  return Math.floor((us * 262_144) / 1_000_000) & 0xffffff;
}

/** Transport-wide sequence number (16-bit), or -1 when absent. */
export function readTransportCcSeq(header: RtpHeader, id: number): number {
  const off = findHeaderExtension(header, id);
  if (off < 0 || headerExtensionLength(header, off) < 2) return -1;
  return header.buffer.readUInt16BE(off);
}

/** Overwrites the transport-wide sequence number in place; false when absent. */
export function writeTransportCcSeq(header: RtpHeader, id: number, seq: number): boolean {
  const off = findHeaderExtension(header, id);
  if (off < 0 || headerExtensionLength(header, off) < 2) return false;
  header.buffer.writeUInt16BE(seq & 0xffff, off);
  return true;
}

/** urn:3gpp:video-orientation byte (C, F, R1, R0 in the low 4 bits), or -1 when absent. */
export function readVideoOrientation(header: RtpHeader, id: number): number {
  const off = findHeaderExtension(header, id);
  if (off < 0 || headerExtensionLength(header, off) < 1) return -1;
  return header.buffer[off] as number;
}

/** sdes:mid as a string, or undefined when absent. Allocates: not for every packet. */
export function readMid(header: RtpHeader, id: number): string | undefined {
  const off = findHeaderExtension(header, id);
  if (off < 0) return undefined;
  return header.buffer.toString('utf8', off, off + headerExtensionLength(header, off));
}

/** True when element `id` exists and its data equals `value` byte for byte (no allocation). */
export function headerExtensionEquals(header: RtpHeader, id: number, value: Uint8Array): boolean {
  const off = findHeaderExtension(header, id);
  if (off < 0 || headerExtensionLength(header, off) !== value.length) return false;
  const buf = header.buffer;
  for (let i = 0; i < value.length; i++) if (buf[off + i] !== value[i]) return false;
  return true;
}

/** Set of extension ids (0–255) to keep, as a flag table; build once per stream/config. */
export type HeaderExtensionIdSet = Uint8Array;

/** Builds a {@link HeaderExtensionIdSet}; ids outside 1–255 are ignored. */
export function createHeaderExtensionIdSet(ids: Iterable<number>): HeaderExtensionIdSet {
  const set = new Uint8Array(256);
  for (const id of ids) if (id >= 1 && id <= 255) set[id] = 1;
  return set;
}

/**
 * Removes, in place, every header extension element whose id is not in `keep`, then re-pads the
 * block to 32 bits, fixes its length field, and moves the payload back when the block shrank. When
 * nothing is kept (or the block isn't RFC 8285), the whole extension goes and the X bit is cleared.
 * Updates `header` (offsets, length) and returns the new packet length. Once per forwarded packet.
 *
 * Elements after a malformed element, or after a one-byte ID 15, are dropped (RFC 8285 §4.2: the
 * receiver stops parsing there).
 */
export function stripHeaderExtensions(header: RtpHeader, keep: HeaderExtensionIdSet): number {
  const extOff = header.extensionOffset;
  if (extOff < 0) return header.length;
  const buf = header.buffer;
  const start = header.extensionDataOffset;
  const oldDataLen = header.extensionDataLength;
  const end = start + oldDataLen;
  const profile = header.extensionProfile;
  let w = start;
  let p = start;
  if (profile === ONE_BYTE_EXTENSION_PROFILE) {
    while (p < end) {
      const b = buf[p] as number;
      if (b === 0) {
        p++;
        continue;
      }
      const id = b >> 4;
      if (id === 15) break;
      const size = 2 + (b & 0x0f);
      if (p + size > end) break;
      if (keep[id] === 1) {
        if (w !== p) buf.copyWithin(w, p, p + size);
        w += size;
      }
      p += size;
    }
  } else if ((profile & 0xfff0) === TWO_BYTE_EXTENSION_PROFILE) {
    while (p < end) {
      const id = buf[p] as number;
      if (id === 0) {
        p++;
        continue;
      }
      if (p + 2 > end) break;
      const size = 2 + (buf[p + 1] as number);
      if (p + size > end) break;
      if (keep[id] === 1) {
        if (w !== p) buf.copyWithin(w, p, p + size);
        w += size;
      }
      p += size;
    }
  }
  const keptLen = w - start;
  let newHeaderEnd: number;
  if (keptLen === 0) {
    // Drop the block, its 4-byte header included, and clear X (RFC 3550 §5.3.1).
    buf[0] = (buf[0] as number) & ~0x10;
    newHeaderEnd = extOff;
    header.extensionOffset = -1;
    header.extensionProfile = 0;
    header.extensionDataOffset = -1;
    header.extensionDataLength = 0;
  } else {
    const padded = (keptLen + 3) & ~3;
    buf.fill(0, w, start + padded);
    buf.writeUInt16BE(padded >> 2, extOff + 2);
    newHeaderEnd = start + padded;
    header.extensionDataLength = padded;
  }
  const shrink = end - newHeaderEnd;
  if (shrink > 0) {
    buf.copyWithin(newHeaderEnd, end, header.length);
    header.length -= shrink;
    header.headerLength -= shrink;
    header.payloadOffset -= shrink;
  }
  return header.length;
}
