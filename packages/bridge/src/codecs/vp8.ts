/**
 * VP8 RTP payload descriptor reader and in-place rewriters.
 *
 * References:
 * - RFC 7741 §4.2 (VP8 payload descriptor): https://www.rfc-editor.org/rfc/rfc7741#section-4.2
 * - RFC 7741 §4.3 (VP8 payload header, P bit): https://www.rfc-editor.org/rfc/rfc7741#section-4.3
 * - RFC 6386 §9.1 (key frame start code, width and height): https://www.rfc-editor.org/rfc/rfc6386#section-9.1
 *
 * Everything here works on `(buf, offset, length)` where `offset` is the first byte of the RTP *payload* (after the
 * RTP header, its extensions and before any padding) and `length` is the payload length without padding. Parsing
 * fills a caller-owned {@link Vp8PayloadDescriptor} (create one per pipeline node with
 * {@link createVp8PayloadDescriptor} and reuse it): nothing is allocated per packet.
 *
 * ```
 *       0 1 2 3 4 5 6 7
 *      +-+-+-+-+-+-+-+-+
 *      |X|R|N|S|R| PID | (REQUIRED)
 *      +-+-+-+-+-+-+-+-+
 * X:   |I|L|T|K| RSV   | (OPTIONAL)
 *      +-+-+-+-+-+-+-+-+
 * I:   |M| PictureID   | (OPTIONAL, 7 bits, or 15 bits when M = 1)
 *      +-+-+-+-+-+-+-+-+
 *      |   PictureID   |
 *      +-+-+-+-+-+-+-+-+
 * L:   |   TL0PICIDX   | (OPTIONAL)
 *      +-+-+-+-+-+-+-+-+
 * T/K: |TID|Y| KEYIDX  | (OPTIONAL)
 *      +-+-+-+-+-+-+-+-+
 * ```
 */

/** Largest 15-bit PictureID plus one: PictureIDs wrap at this value (RFC 7741 §4.2, M = 1). */
export const VP8_PICTURE_ID_MOD_15 = 0x8000;
/** Largest 7-bit PictureID plus one (RFC 7741 §4.2, M = 0). */
export const VP8_PICTURE_ID_MOD_7 = 0x80;
/** TL0PICIDX wraps at 256 (RFC 7741 §4.2). */
export const VP8_TL0PICIDX_MOD = 0x100;

/** Why a payload could not be read as VP8. The packet should be dropped and counted, never thrown on. */
export type Vp8ParseError =
  /** Zero-length payload. */
  | 'empty'
  /** X = 1 but the extension byte is missing. */
  | 'truncated-extension'
  /** I = 1 but the PictureID (one byte, or two with M = 1) is cut off. */
  | 'truncated-picture-id'
  /** L = 1 but the TL0PICIDX byte is missing. */
  | 'truncated-tl0picidx'
  /** T = 1 or K = 1 but the TID/Y/KEYIDX byte is missing. */
  | 'truncated-tid-keyidx'
  /** The descriptor is intact but no VP8 payload byte follows it. */
  | 'no-payload';

/** Result of {@link parseVp8PayloadDescriptor}: `'ok'` or the reason the payload is invalid. */
export type Vp8ParseResult = 'ok' | Vp8ParseError;

/**
 * The fields of one VP8 payload descriptor (RFC 7741 §4.2) plus what the payload header tells (§4.3).
 * Absent optional fields are -1. Offsets are absolute positions in the parsed buffer, so rewriters can patch the
 * same buffer in place.
 */
export interface Vp8PayloadDescriptor {
  /** Descriptor length in bytes; the VP8 payload (header) starts at `offset + size`. */
  size: number;
  /** X: the extension byte is present. */
  extended: boolean;
  /** N: non-reference frame (can be discarded without affecting other frames). */
  nonReference: boolean;
  /** S: this packet starts a VP8 partition. */
  startOfPartition: boolean;
  /** PID: partition index, 0..7. */
  partitionIndex: number;
  /** PictureID, or -1 when I = 0. */
  pictureId: number;
  /** Width of the PictureID field in bits: 0 (absent), 7 or 15. */
  pictureIdBits: 0 | 7 | 15;
  /** Absolute buffer offset of the first PictureID byte, or -1. */
  pictureIdOffset: number;
  /** TL0PICIDX, or -1 when L = 0. */
  tl0PicIdx: number;
  /** Absolute buffer offset of the TL0PICIDX byte, or -1. */
  tl0PicIdxOffset: number;
  /** Temporal layer id (0..3), or -1 when T = 0 (RFC 7741: TID and Y are then ignored). */
  tid: number;
  /** Y: layer sync, the frame depends only on TL0 frames. False when T = 0. */
  layerSync: boolean;
  /** KEYIDX (0..31), or -1 when K = 0. */
  keyIdx: number;
  /** First packet of a frame: S = 1 and PID = 0 (RFC 7741 §4.3: the payload header is present only here). */
  isStartOfFrame: boolean;
  /** Start of a key frame: {@link isStartOfFrame} and the payload header's P bit is 0. Only the frame's first packet says so. */
  isKeyframe: boolean;
  /** Key frame width in pixels (RFC 6386 §9.1), or -1 when not a key frame start or the header is cut short. */
  width: number;
  /** Key frame height in pixels (RFC 6386 §9.1), or -1 when not a key frame start or the header is cut short. */
  height: number;
}

/** A fresh descriptor with every optional field absent. Allocate one per node and reuse it for every packet. */
export function createVp8PayloadDescriptor(): Vp8PayloadDescriptor {
  const d: Vp8PayloadDescriptor = {
    size: 0,
    extended: false,
    nonReference: false,
    startOfPartition: false,
    partitionIndex: 0,
    pictureId: -1,
    pictureIdBits: 0,
    pictureIdOffset: -1,
    tl0PicIdx: -1,
    tl0PicIdxOffset: -1,
    tid: -1,
    layerSync: false,
    keyIdx: -1,
    isStartOfFrame: false,
    isKeyframe: false,
    width: -1,
    height: -1,
  };
  return d;
}

function reset(d: Vp8PayloadDescriptor): void {
  d.size = 0;
  d.extended = false;
  d.nonReference = false;
  d.startOfPartition = false;
  d.partitionIndex = 0;
  d.pictureId = -1;
  d.pictureIdBits = 0;
  d.pictureIdOffset = -1;
  d.tl0PicIdx = -1;
  d.tl0PicIdxOffset = -1;
  d.tid = -1;
  d.layerSync = false;
  d.keyIdx = -1;
  d.isStartOfFrame = false;
  d.isKeyframe = false;
  d.width = -1;
  d.height = -1;
}

/**
 * Reads the VP8 payload descriptor at `buf[offset .. offset + length)` into `out`. Called once per video packet.
 *
 * On an error `out` holds whatever was read before the problem and must not be used. Reserved bits are ignored
 * (RFC 7741 §4.2: "MUST be ignored by receivers"); L = 1 with T = 0 is tolerated although the RFC requires T
 * whenever L is set.
 */
export function parseVp8PayloadDescriptor(
  buf: Uint8Array,
  offset: number,
  length: number,
  out: Vp8PayloadDescriptor,
): Vp8ParseResult {
  reset(out);
  if (length <= 0) return 'empty';
  const end = offset + length;
  let p = offset;
  const b0 = buf[p++] ?? 0;
  out.extended = (b0 & 0x80) !== 0;
  out.nonReference = (b0 & 0x20) !== 0;
  out.startOfPartition = (b0 & 0x10) !== 0;
  out.partitionIndex = b0 & 0x07;
  if (out.extended) {
    if (p >= end) return 'truncated-extension';
    const x = buf[p++] ?? 0;
    const hasI = (x & 0x80) !== 0;
    const hasL = (x & 0x40) !== 0;
    const hasT = (x & 0x20) !== 0;
    const hasK = (x & 0x10) !== 0;
    if (hasI) {
      if (p >= end) return 'truncated-picture-id';
      const m = buf[p] ?? 0;
      if ((m & 0x80) !== 0) {
        if (p + 1 >= end) return 'truncated-picture-id';
        out.pictureIdOffset = p;
        out.pictureIdBits = 15;
        out.pictureId = ((m & 0x7f) << 8) | (buf[p + 1] ?? 0);
        p += 2;
      } else {
        out.pictureIdOffset = p;
        out.pictureIdBits = 7;
        out.pictureId = m & 0x7f;
        p += 1;
      }
    }
    if (hasL) {
      if (p >= end) return 'truncated-tl0picidx';
      out.tl0PicIdxOffset = p;
      out.tl0PicIdx = buf[p++] ?? 0;
    }
    if (hasT || hasK) {
      if (p >= end) return 'truncated-tid-keyidx';
      const tk = buf[p++] ?? 0;
      if (hasT) {
        out.tid = tk >> 6;
        out.layerSync = (tk & 0x20) !== 0;
      }
      if (hasK) out.keyIdx = tk & 0x1f;
    }
  }
  out.size = p - offset;
  if (p >= end) return 'no-payload';
  // RFC 7741 §4.3: the payload header (and its P bit) exists only at the start of partition 0.
  if (out.startOfPartition && out.partitionIndex === 0) {
    out.isStartOfFrame = true;
    const h0 = buf[p] ?? 0;
    if ((h0 & 0x01) === 0) {
      out.isKeyframe = true;
      // RFC 6386 §9.1: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height (+2 scale bits), LE.
      if (
        p + 10 <= end &&
        buf[p + 3] === 0x9d &&
        buf[p + 4] === 0x01 &&
        buf[p + 5] === 0x2a
      ) {
        out.width = ((buf[p + 6] ?? 0) | ((buf[p + 7] ?? 0) << 8)) & 0x3fff;
        out.height = ((buf[p + 8] ?? 0) | ((buf[p + 9] ?? 0) << 8)) & 0x3fff;
      }
    }
  }
  return 'ok';
}

/**
 * Overwrites the PictureID of a descriptor parsed from the same buffer, keeping its width: a 15-bit field gets
 * `pictureId mod 2^15` (M bit kept), a 7-bit field gets `pictureId mod 2^7`. Returns false when the packet has no
 * PictureID. Once per forwarded packet.
 */
export function writeVp8PictureId(buf: Uint8Array, d: Vp8PayloadDescriptor, pictureId: number): boolean {
  const at = d.pictureIdOffset;
  if (at < 0) return false;
  if (d.pictureIdBits === 15) {
    const v = pictureId & 0x7fff;
    buf[at] = 0x80 | (v >> 8);
    buf[at + 1] = v & 0xff;
    d.pictureId = v;
  } else {
    const v = pictureId & 0x7f;
    buf[at] = v; // M = 0
    d.pictureId = v;
  }
  return true;
}

/** Overwrites the TL0PICIDX (mod 256) of a descriptor parsed from the same buffer. False when L = 0. */
export function writeVp8Tl0PicIdx(buf: Uint8Array, d: Vp8PayloadDescriptor, tl0PicIdx: number): boolean {
  const at = d.tl0PicIdxOffset;
  if (at < 0) return false;
  const v = tl0PicIdx & 0xff;
  buf[at] = v;
  d.tl0PicIdx = v;
  return true;
}

/**
 * Standalone form of {@link writeVp8PictureId} for a payload that was not parsed into a descriptor: locates the
 * PictureID and rewrites it in place keeping its width. Returns false when there is no (complete) PictureID.
 */
export function rewriteVp8PictureId(buf: Uint8Array, offset: number, length: number, pictureId: number): boolean {
  const at = locatePictureId(buf, offset, length);
  if (at < 0) return false;
  const m = buf[at] ?? 0;
  if ((m & 0x80) !== 0) {
    if (at + 1 >= offset + length) return false;
    const v = pictureId & 0x7fff;
    buf[at] = 0x80 | (v >> 8);
    buf[at + 1] = v & 0xff;
  } else {
    buf[at] = pictureId & 0x7f;
  }
  return true;
}

/** Standalone form of {@link writeVp8Tl0PicIdx}. Returns false when there is no TL0PICIDX. */
export function rewriteVp8Tl0PicIdx(buf: Uint8Array, offset: number, length: number, tl0PicIdx: number): boolean {
  const end = offset + length;
  if (length < 2) return false;
  const b0 = buf[offset] ?? 0;
  if ((b0 & 0x80) === 0) return false;
  const x = buf[offset + 1] ?? 0;
  if ((x & 0x40) === 0) return false;
  let p = offset + 2;
  if ((x & 0x80) !== 0) {
    if (p >= end) return false;
    p += ((buf[p] ?? 0) & 0x80) !== 0 ? 2 : 1;
  }
  if (p >= end) return false;
  buf[p] = tl0PicIdx & 0xff;
  return true;
}

function locatePictureId(buf: Uint8Array, offset: number, length: number): number {
  if (length < 3) return -1;
  const b0 = buf[offset] ?? 0;
  if ((b0 & 0x80) === 0) return -1;
  const x = buf[offset + 1] ?? 0;
  if ((x & 0x80) === 0) return -1;
  return offset + 2;
}

/**
 * Signed distance `a - b` between two PictureIDs of the given width (7 or 15 bits), in (-2^(bits-1), 2^(bits-1)].
 * Used to order pictures across a wrap.
 */
export function vp8PictureIdDelta(a: number, b: number, bits: 7 | 15): number {
  const mod = bits === 15 ? VP8_PICTURE_ID_MOD_15 : VP8_PICTURE_ID_MOD_7;
  const half = mod >> 1;
  let d = (a - b) % mod;
  if (d < 0) d += mod;
  return d > half ? d - mod : d;
}
