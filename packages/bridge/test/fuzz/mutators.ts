/**
 * Mutators for the fuzzers: generic byte-level ones (bit flips, byte sets, interesting values, truncation, extension,
 * insertion, deletion, splicing two valid packets) and structure-aware "lies" per protocol (CSRC count, header
 * extension length and element headers, RTP padding; RTCP length/count/type/padding, transport-cc status count and
 * chunks, REMB SSRC count, SDES item length; STUN header and attribute lengths and types, broken or re-computed
 * MESSAGE-INTEGRITY/FINGERPRINT; DTLS record lengths/epochs/types; VP8 descriptor bits; SRTP tags and SRTCP index).
 *
 * A mutator never modifies its input: it returns a new Buffer. Structure-aware mutators locate fields with
 * best-effort arithmetic on the (possibly already mutated) bytes and fall back to a generic mutation when the
 * structure isn't there. Each case stacks 1–4 mutations; their names go into failure reports.
 */
import { createHmac } from 'node:crypto';
import { StunAttr, crc32, STUN_FINGERPRINT_XOR } from '../../src/transport/stun.js';
import type { Prng } from './prng.js';

/** A mutation: returns a new buffer (may be the same length, shorter or longer). */
export type Mutator = (rng: Prng, input: Buffer, ctx: MutationContext) => Buffer;

/** What mutators may draw on besides the input. */
export interface MutationContext {
  /** Other valid inputs of the family (for splicing). */
  donors: readonly Buffer[];
  /** STUN: key to re-sign MESSAGE-INTEGRITY with after a mutation (the corpus key; never a real peer's). */
  stunKey?: Buffer;
}

const INTERESTING_8 = [0x00, 0x01, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xbe, 0xc0, 0xc8, 0xcf, 0xdf, 0xe0, 0xfe, 0xff];
const INTERESTING_16 = [0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0008, 0x000f, 0x0010, 0x0014, 0x0100, 0x1000, 0x100f, 0x7fff, 0x8000, 0x8001, 0xbede, 0xfffe, 0xffff];

function copy(b: Buffer): Buffer {
  return Buffer.from(b);
}

// ------------------------------------------------------------------------------------------------ generic

const bitFlip: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length === 0) return out;
  for (let n = rng.range(1, 8); n > 0; n--) {
    const i = rng.int(out.length);
    out[i] = (out[i] as number) ^ (1 << rng.int(8));
  }
  return out;
};

const setBytes: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length === 0) return out;
  for (let n = rng.range(1, 4); n > 0; n--) {
    const i = rng.chance(0.5) ? rng.int(Math.min(out.length, 24)) : rng.int(out.length);
    const k = rng.int(5);
    out[i] = k === 0 ? 0 : k === 1 ? 0xff : k === 2 ? rng.pick(INTERESTING_8) : k === 3 ? ((out[i] as number) + rng.pick([1, -1])) & 0xff : rng.byte();
  }
  return out;
};

const interesting16: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 2) return out;
  const i = rng.chance(0.7) ? 2 * rng.int(Math.min(out.length, 40) >> 1) : rng.int(out.length - 1);
  if (i + 2 > out.length) return out;
  const choices = [...INTERESTING_16, out.length & 0xffff, (out.length >> 2) & 0xffff, ((out.length >> 2) - 1) & 0xffff, ((out.length >> 2) + 1) & 0xffff, (out.length - 20) & 0xffff];
  out.writeUInt16BE(rng.pick(choices), i);
  return out;
};

const interesting32: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 4) return out;
  const i = 4 * rng.int(out.length >> 2);
  out.writeUInt32BE(rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x2112a442, 0x52454d42, rng.u32()]) >>> 0, i);
  return out;
};

const truncate: Mutator = (rng, input) => {
  if (input.length === 0) return copy(input);
  const k = rng.int(4);
  let n: number;
  if (k === 0) n = rng.pick([0, 1, 2, 3, 4, 7, 8, 11, 12, 13, 15, 16, 19, 20, 23, 24, 27, 28]);
  else if (k === 1) n = input.length - rng.range(1, 4);
  else if (k === 2) n = input.length - rng.range(1, 24);
  else n = rng.int(input.length);
  return copy(input.subarray(0, Math.max(0, Math.min(n, input.length - 1))));
};

const extend: Mutator = (rng, input) => {
  const k = rng.int(4);
  const n = k === 3 ? rng.range(64, 1500) : rng.range(1, 64);
  const tail = k === 0 ? Buffer.alloc(n) : k === 1 ? Buffer.alloc(n, 0xff) : rng.bytes(n);
  return Buffer.concat([input, tail]);
};

const insertBytes: Mutator = (rng, input) => {
  const at = rng.int(input.length + 1);
  return Buffer.concat([input.subarray(0, at), rng.bytes(rng.range(1, 16)), input.subarray(at)]);
};

const deleteBytes: Mutator = (rng, input) => {
  if (input.length < 2) return copy(input);
  const at = rng.int(input.length);
  const n = rng.range(1, Math.min(16, input.length - at));
  return Buffer.concat([input.subarray(0, at), input.subarray(at + n)]);
};

const duplicateChunk: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 4) return out;
  const n = rng.range(1, Math.min(32, out.length >> 1));
  const from = rng.int(out.length - n + 1);
  const to = rng.int(out.length - n + 1);
  input.copy(out, to, from, from + n);
  return out;
};

/** Splicing two valid packets: head of this one + tail of another, or the other one appended, or overlaid. */
const splice: Mutator = (rng, input, ctx) => {
  if (ctx.donors.length === 0) return copy(input);
  const other = rng.pick(ctx.donors);
  const k = rng.int(3);
  if (k === 0) return Buffer.concat([input.subarray(0, rng.int(input.length + 1)), other.subarray(rng.int(other.length + 1))]);
  if (k === 1) return Buffer.concat([input, other]);
  const out = copy(input);
  if (out.length === 0) return out;
  const at = rng.int(out.length);
  other.copy(out, at, 0, Math.min(other.length, out.length - at));
  return out;
};

/** Moves the first byte into another RFC 7983 range (a valid X that now looks like a Y). */
const otherDemuxRange: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length === 0) return out;
  out[0] = rng.pick([0, 1, 2, 3, 16, 19, 20, 22, 23, 63, 64, 79, 80, 127, 128, 144, 191, 192, 255]);
  return out;
};

export const GENERIC_MUTATORS: Readonly<Record<string, Mutator>> = {
  bitFlip,
  setBytes,
  interesting16,
  interesting32,
  truncate,
  extend,
  insertBytes,
  deleteBytes,
  duplicateChunk,
  splice,
  otherDemuxRange,
};

// ------------------------------------------------------------------------------------------------ RTP

/** Best-effort RTP layout of `b` (fields may point past the end when the header lies). */
function rtpLayout(b: Buffer): { cc: number; extOff: number; payloadOff: number } {
  const b0 = b[0] ?? 0;
  const cc = b0 & 0x0f;
  const extOff = 12 + 4 * cc;
  let payloadOff = extOff;
  if (b0 & 0x10 && extOff + 4 <= b.length) payloadOff = extOff + 4 + 4 * b.readUInt16BE(extOff + 2);
  return { cc, extOff: b0 & 0x10 ? extOff : -1, payloadOff };
}

const rtpCsrcCountLie: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 1) return out;
  out[0] = ((out[0] as number) & 0xf0) | rng.int(16);
  return out;
};

const rtpToggleXP: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 1) return out;
  out[0] = (out[0] as number) ^ rng.pick([0x10, 0x20, 0x30]);
  return out;
};

const rtpVersionLie: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 1) return out;
  out[0] = ((out[0] as number) & 0x3f) | (rng.pick([0, 1, 3]) << 6);
  return out;
};

const rtpExtLengthLie: Mutator = (rng, input) => {
  const { extOff } = rtpLayout(input);
  if (extOff < 0 || extOff + 4 > input.length) return interesting16(rng, input, { donors: [] });
  const out = copy(input);
  const actual = out.readUInt16BE(extOff + 2);
  const words = (out.length - extOff - 4) >> 2;
  out.writeUInt16BE(rng.pick([0, 1, 0xffff, 0x8000, actual + 1, Math.max(0, actual - 1), words, words + 1, rng.int(0x10000)]) & 0xffff, extOff + 2);
  return out;
};

const rtpExtProfileLie: Mutator = (rng, input) => {
  const { extOff } = rtpLayout(input);
  if (extOff < 0 || extOff + 4 > input.length) return rtpToggleXP(rng, input, { donors: [] });
  const out = copy(input);
  out.writeUInt16BE(rng.pick([0xbede, 0x1000, 0x1001, 0x100f, 0x1010, 0xbedf, 0x0000, rng.int(0x10000)]), extOff);
  return out;
};

/** Rewrites one element header inside the extension block: wrong length nibble/byte, ID 15, ID 0, huge L. */
const rtpExtElementLie: Mutator = (rng, input) => {
  const { extOff, payloadOff } = rtpLayout(input);
  const start = extOff + 4;
  const end = Math.min(payloadOff, input.length);
  if (extOff < 0 || start >= end) return rtpExtLengthLie(rng, input, { donors: [] });
  const out = copy(input);
  const at = start + rng.int(end - start);
  const k = rng.int(5);
  if (k === 0) out[at] = 0xf0 | rng.int(16); // one-byte ID 15: stop
  else if (k === 1) out[at] = (rng.range(1, 14) << 4) | 0x0f; // 16-byte element
  else if (k === 2) out[at] = 0;
  else if (k === 3 && at + 1 < end) out[at + 1] = rng.pick([0, 1, 0xff, end - at, end - at - 1, end - at - 2]) & 0xff; // two-byte L
  else out[at] = rng.byte();
  return out;
};

const rtpPaddingLie: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 1) return out;
  out[0] = (out[0] as number) | 0x20;
  const { payloadOff } = rtpLayout(out);
  out[out.length - 1] = rng.pick([0, 1, 0xff, out.length & 0xff, Math.max(0, out.length - payloadOff) & 0xff, (out.length - payloadOff + 1) & 0xff, rng.byte()]);
  return out;
};

/** Second byte into the RTCP packet-type range (192–223): RFC 5761 says that is RTCP. */
const rtpMarkerIntoRtcpRange: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 2) return out;
  out[1] = rng.range(192, 223);
  return out;
};

/** VP8 payload descriptor: flip X/I/L/T/K/S bits, PID, M bit, or cut the payload inside the descriptor. */
const vp8DescriptorLie: Mutator = (rng, input) => {
  const { payloadOff } = rtpLayout(input);
  if (payloadOff >= input.length) return bitFlip(rng, input, { donors: [] });
  const out = copy(input);
  const k = rng.int(5);
  if (k === 0) out[payloadOff] = (out[payloadOff] as number) ^ rng.pick([0x80, 0x20, 0x10, 0x07, 0x97]);
  else if (k === 1 && payloadOff + 1 < out.length) out[payloadOff + 1] = (out[payloadOff + 1] as number) ^ rng.pick([0x80, 0x40, 0x20, 0x10, 0xf0]);
  else if (k === 2 && payloadOff + 2 < out.length) out[payloadOff + 2] = (out[payloadOff + 2] as number) ^ 0x80; // PictureID M bit
  else if (k === 3) return copy(out.subarray(0, payloadOff + rng.int(Math.min(6, out.length - payloadOff))));
  else out[payloadOff] = rng.byte();
  return out;
};

export const RTP_MUTATORS: Readonly<Record<string, Mutator>> = {
  rtpCsrcCountLie,
  rtpToggleXP,
  rtpVersionLie,
  rtpExtLengthLie,
  rtpExtProfileLie,
  rtpExtElementLie,
  rtpPaddingLie,
  rtpMarkerIntoRtcpRange,
};

export const VP8_MUTATORS: Readonly<Record<string, Mutator>> = { vp8DescriptorLie, vp8DescriptorLie2: vp8DescriptorLie, rtpExtLengthLie, rtpCsrcCountLie };

// ------------------------------------------------------------------------------------------------ RTCP

/** Offsets of the packets of a compound, as far as the length fields are consistent. */
function rtcpOffsets(b: Buffer): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + 4 <= b.length && out.length < 64) {
    out.push(off);
    off += (b.readUInt16BE(off + 2) + 1) * 4;
  }
  return out;
}

function pickRtcpPacket(rng: Prng, b: Buffer): number {
  const offs = rtcpOffsets(b);
  return offs.length === 0 ? -1 : rng.pick(offs);
}

const rtcpLengthLie: Mutator = (rng, input) => {
  const off = pickRtcpPacket(rng, input);
  if (off < 0) return interesting16(rng, input, { donors: [] });
  const out = copy(input);
  const actual = out.readUInt16BE(off + 2);
  const rest = ((out.length - off) >> 2) - 1;
  out.writeUInt16BE(rng.pick([0, 1, 2, 0xffff, actual + 1, Math.max(0, actual - 1), rest, rest + 1, rng.int(0x10000)]) & 0xffff, off + 2);
  return out;
};

const rtcpCountLie: Mutator = (rng, input) => {
  const off = pickRtcpPacket(rng, input);
  if (off < 0) return setBytes(rng, input, { donors: [] });
  const out = copy(input);
  out[off] = ((out[off] as number) & 0xe0) | rng.pick([0, 1, 2, 15, 31, rng.int(32)]);
  return out;
};

const rtcpTypeLie: Mutator = (rng, input) => {
  const off = pickRtcpPacket(rng, input);
  if (off < 0) return setBytes(rng, input, { donors: [] });
  const out = copy(input);
  out[off + 1] = rng.chance(0.7) ? rng.range(200, 207) : rng.range(192, 223);
  return out;
};

const rtcpPaddingLie: Mutator = (rng, input) => {
  const off = pickRtcpPacket(rng, input);
  if (off < 0) return setBytes(rng, input, { donors: [] });
  const out = copy(input);
  out[off] = (out[off] as number) | 0x20;
  const end = Math.min(out.length, off + (out.readUInt16BE(off + 2) + 1) * 4);
  if (end - 1 > off) out[end - 1] = rng.pick([0, 1, 4, 0xff, end - off, end - off - 4, rng.byte()]) & 0xff;
  return out;
};

const rtcpVersionLie: Mutator = (rng, input) => {
  const off = pickRtcpPacket(rng, input);
  if (off < 0) return setBytes(rng, input, { donors: [] });
  const out = copy(input);
  out[off] = ((out[off] as number) & 0x3f) | (rng.pick([0, 1, 3]) << 6);
  return out;
};

/** transport-cc: packet status count, base seq, chunk kinds (run length 0 / max, symbol 3), deltas cut. */
const rtcpTccLie: Mutator = (rng, input) => {
  const offs = rtcpOffsets(input).filter((o) => input[o + 1] === 205 && ((input[o] as number) & 0x1f) === 15 && o + 20 <= input.length);
  if (offs.length === 0) return rtcpLengthLie(rng, input, { donors: [] });
  const off = rng.pick(offs);
  const out = copy(input);
  const k = rng.int(5);
  if (k === 0) out.writeUInt16BE(rng.pick([0, 1, 2, 14, 0x1fff, 0x2000, 0x7fff, 0xffff, out.readUInt16BE(off + 14) + 1, rng.int(0x10000)]) & 0xffff, off + 14);
  else if (k === 1 && off + 22 <= out.length) out.writeUInt16BE(rng.pick([0x0000, 0x1fff, 0x3fff, 0x6001, 0x7fff, 0x8000, 0xbfff, 0xc000, 0xffff, 0xd555]), off + 20 + 2 * rng.int(Math.max(1, (Math.min(out.length, off + 40) - off - 20) >> 1)));
  else if (k === 2) out.writeUIntBE(rng.pick([0, 0x7fffff, 0x800000, 0xffffff]), off + 16, 3);
  else if (k === 3) return copy(out.subarray(0, off + 20 + rng.int(Math.max(1, out.length - off - 20))));
  else out.writeUInt16BE(rng.int(0x10000), off + 12);
  return out;
};

/** REMB: number of SSRCs, exponent/mantissa; SDES: item length; FIR/NACK: FCI cut. */
const rtcpFciLie: Mutator = (rng, input) => {
  const off = pickRtcpPacket(rng, input);
  if (off < 0) return setBytes(rng, input, { donors: [] });
  const out = copy(input);
  const type = out[off + 1];
  if (type === 206 && ((out[off] as number) & 0x1f) === 15 && off + 20 <= out.length) {
    if (rng.chance(0.5)) out[off + 16] = rng.pick([0, 1, 2, 64, 255]);
    else out[off + 17] = rng.pick([0xfc, 0xff, 0x00, rng.byte()]);
  } else if (type === 202 && off + 10 <= out.length) {
    out[off + 9] = rng.pick([0, 1, 0xff, out.length - off - 10, out.length - off - 9]) & 0xff;
  } else if (off + 12 < out.length) {
    out[off + 12 + rng.int(out.length - off - 12)] = rng.byte();
  }
  return out;
};

export const RTCP_MUTATORS: Readonly<Record<string, Mutator>> = {
  rtcpLengthLie,
  rtcpCountLie,
  rtcpTypeLie,
  rtcpPaddingLie,
  rtcpVersionLie,
  rtcpTccLie,
  rtcpTccLie2: rtcpTccLie,
  rtcpFciLie,
};

// ------------------------------------------------------------------------------------------------ STUN

/** Offsets of the attributes, as far as the lengths are consistent. */
function stunAttrOffsets(b: Buffer): number[] {
  const out: number[] = [];
  let off = 20;
  while (off + 4 <= b.length && out.length < 64) {
    out.push(off);
    off += 4 + ((b.readUInt16BE(off + 2) + 3) & ~3);
  }
  return out;
}

function findAttr(b: Buffer, type: number): number {
  for (const off of stunAttrOffsets(b)) if (b.readUInt16BE(off) === type) return off;
  return -1;
}

const stunHeaderLengthLie: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 4) return out;
  const actual = out.length - 20;
  out.writeUInt16BE(rng.pick([0, 1, 2, 4, 0xffff, actual + 4, actual - 4, actual + 1, actual - 8, rng.int(0x10000)]) & 0xffff, 2);
  return out;
};

const stunAttrLengthLie: Mutator = (rng, input) => {
  const offs = stunAttrOffsets(input);
  if (offs.length === 0) return stunHeaderLengthLie(rng, input, { donors: [] });
  const off = rng.pick(offs);
  const out = copy(input);
  const actual = out.readUInt16BE(off + 2);
  const rest = out.length - off - 4;
  out.writeUInt16BE(rng.pick([0, 1, 2, 3, 4, 8, 20, 0xffff, 0x8000, actual + 1, actual + 4, Math.max(0, actual - 1), rest, rest + 1, 514, 513]) & 0xffff, off + 2);
  return out;
};

const stunAttrTypeLie: Mutator = (rng, input) => {
  const offs = stunAttrOffsets(input);
  if (offs.length === 0) return stunHeaderLengthLie(rng, input, { donors: [] });
  const off = rng.pick(offs);
  const out = copy(input);
  const types = Object.values(StunAttr) as number[];
  out.writeUInt16BE(rng.chance(0.8) ? rng.pick(types) : rng.int(0x10000), off);
  return out;
};

/** Flips a byte of the MESSAGE-INTEGRITY value (HMAC no longer matches). */
const stunBadIntegrity: Mutator = (rng, input) => {
  const mi = findAttr(input, StunAttr.MessageIntegrity);
  if (mi < 0 || mi + 24 > input.length) return stunAttrLengthLie(rng, input, { donors: [] });
  const out = copy(input);
  const i = mi + 4 + rng.int(20);
  out[i] = (out[i] as number) ^ (1 + rng.int(255));
  return out;
};

/** Flips a byte of the FINGERPRINT value, or moves FINGERPRINT before another attribute. */
const stunBadFingerprint: Mutator = (rng, input) => {
  const fp = findAttr(input, StunAttr.Fingerprint);
  if (fp < 0 || fp + 8 > input.length) return stunAttrTypeLie(rng, input, { donors: [] });
  const out = copy(input);
  if (rng.chance(0.7)) {
    const i = fp + 4 + rng.int(4);
    out[i] = (out[i] as number) ^ (1 + rng.int(255));
    return out;
  }
  // FINGERPRINT not last: append a SOFTWARE attribute after it (and fix the header length).
  const extra = Buffer.from([0x80, 0x22, 0x00, 0x04, 0x66, 0x75, 0x7a, 0x7a]);
  const moved = Buffer.concat([out, extra]);
  moved.writeUInt16BE(moved.length - 20, 2);
  return moved;
};

const stunCookieLie: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 8) return out;
  if (rng.chance(0.5)) out.writeUInt32BE(rng.pick([0, 0x2112a443, 0x42a41221, rng.u32()]) >>> 0, 4);
  else out[0] = (out[0] as number) | rng.pick([0x40, 0x80, 0xc0]); // top bits must be 0
  return out;
};

/**
 * After the other mutations: re-computes MESSAGE-INTEGRITY (with the context key) and FINGERPRINT where they sit,
 * so the mutated content gets past the integrity checks and reaches the code behind them.
 */
export function stunResign(input: Buffer, key: Buffer | undefined): Buffer {
  const out = copy(input);
  if (out.length < 20) return out;
  const mi = findAttr(out, StunAttr.MessageIntegrity);
  if (key !== undefined && mi >= 0 && mi + 24 <= out.length) {
    const saved = out.readUInt16BE(2);
    out.writeUInt16BE(mi + 24 - 20, 2);
    createHmac('sha1', key).update(out.subarray(0, mi)).digest().copy(out, mi + 4);
    out.writeUInt16BE(saved, 2);
  }
  const fp = findAttr(out, StunAttr.Fingerprint);
  if (fp >= 0 && fp + 8 <= out.length) {
    const saved = out.readUInt16BE(2);
    out.writeUInt16BE(fp + 8 - 20, 2);
    const crc = (crc32(out, 0, fp) ^ STUN_FINGERPRINT_XOR) >>> 0;
    out.writeUInt16BE(saved, 2);
    out.writeUInt32BE(crc, fp + 4);
  }
  return out;
}

export const STUN_MUTATORS: Readonly<Record<string, Mutator>> = {
  stunHeaderLengthLie,
  stunAttrLengthLie,
  stunAttrLengthLie2: stunAttrLengthLie,
  stunAttrTypeLie,
  stunBadIntegrity,
  stunBadFingerprint,
  stunCookieLie,
};

// ------------------------------------------------------------------------------------------------ DTLS

function dtlsRecordOffsets(b: Buffer): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + 13 <= b.length && out.length < 32) {
    out.push(off);
    off += 13 + b.readUInt16BE(off + 11);
  }
  return out;
}

const dtlsRecordLie: Mutator = (rng, input) => {
  const offs = dtlsRecordOffsets(input);
  if (offs.length === 0) return dtlsGarbage(rng, input, { donors: [] });
  const off = rng.pick(offs);
  const out = copy(input);
  const k = rng.int(5);
  if (k === 0) out.writeUInt16BE(rng.pick([0, 1, 0xffff, out.length - off - 13 + 1, Math.max(0, out.readUInt16BE(off + 11) - 1), rng.int(0x10000)]) & 0xffff, off + 11);
  else if (k === 1) out.writeUInt16BE(rng.pick([0, 1, 2, 0xffff, rng.int(0x10000)]), off + 3); // epoch
  else if (k === 2) out[off] = rng.range(20, 63); // content type
  else if (k === 3) out.writeUInt16BE(rng.pick([0xfefd, 0xfeff, 0x0303, 0x0000, rng.int(0x10000)]), off + 1);
  else if (off + 13 + 12 <= out.length) {
    // handshake header: msg_type, length, message_seq, fragment_offset, fragment_length
    const h = off + 13;
    const f = rng.int(4);
    if (f === 0) out[h] = rng.pick([0, 1, 2, 3, 11, 12, 13, 14, 15, 16, 20, 255]);
    else if (f === 1) out.writeUIntBE(rng.pick([0, 1, 0xffffff, 0x4000, rng.int(0x1000000)]), h + 1, 3);
    else if (f === 2) out.writeUIntBE(rng.pick([0, 1, 0xffffff, rng.int(0x1000000)]), h + 6, 3);
    else out.writeUIntBE(rng.pick([0, 1, 0xffffff, rng.int(0x1000000)]), h + 9, 3);
  }
  return out;
};

/** Random bytes that look like DTLS to the demultiplexer (first byte 20–63). */
const dtlsGarbage: Mutator = (rng, input) => {
  const out = rng.chance(0.5) ? copy(input) : rng.bytes(rng.length(300));
  if (out.length > 0) out[0] = rng.range(20, 63);
  return out;
};

export const DTLS_MUTATORS: Readonly<Record<string, Mutator>> = { dtlsRecordLie, dtlsRecordLie2: dtlsRecordLie, dtlsGarbage };

// ------------------------------------------------------------------------------------------------ SRTP

/** Flips the authentication tag, the SRTCP E bit or index, or sequence number/SSRC (replay and ROC paths). */
const srtpTrailerLie: Mutator = (rng, input) => {
  const out = copy(input);
  if (out.length < 16) return out;
  const k = rng.int(4);
  if (k === 0) {
    const i = out.length - 1 - rng.int(Math.min(16, out.length));
    out[i] = (out[i] as number) ^ (1 + rng.int(255));
  } else if (k === 1) {
    const i = out.length - rng.pick([4, 14, 20]); // E‖index of AES-CM (len − 14) or GCM (len − 4), or GCM tag start
    if (i >= 0) out[i] = (out[i] as number) ^ rng.pick([0x80, 0x01, 0xff]);
  } else if (k === 2) out.writeUInt16BE(rng.int(0x10000), 2);
  else out.writeUInt32BE(rng.u32(), rng.chance(0.5) ? 4 : 8);
  return out;
};

export const SRTP_MUTATORS: Readonly<Record<string, Mutator>> = { srtpTrailerLie, srtpTrailerLie2: srtpTrailerLie, rtpCsrcCountLie, rtpExtLengthLie, rtpToggleXP };

// ------------------------------------------------------------------------------------------------ stacking

/** Picks and applies 1–4 mutations from `specific` (weighted 2:1 over generic ones). Names go into `applied`. */
export function mutate(rng: Prng, input: Buffer, specific: Readonly<Record<string, Mutator>>, ctx: MutationContext, applied: string[]): Buffer {
  const specificNames = Object.keys(specific);
  const genericNames = Object.keys(GENERIC_MUTATORS);
  let out = input;
  const n = rng.weighted([50, 30, 12, 8]) + 1;
  for (let i = 0; i < n; i++) {
    const useSpecific = specificNames.length > 0 && rng.chance(0.65);
    const name = useSpecific ? rng.pick(specificNames) : rng.pick(genericNames);
    const m = (useSpecific ? specific[name] : GENERIC_MUTATORS[name]) as Mutator;
    out = m(rng, out, ctx);
    applied.push(name);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ JSON text

const JSON_TOKENS = ['{', '}', '[', ']', '"', ':', ',', '\\', '\\u', '\\ud800', '\u0000', 'null', 'true', 'false', '-0', '1e999', '-1e999', '1e-400', '9007199254740993', '0.1', '""', '[]', '{}', '"colibriClass"', '"__proto__"', '"constructor"', '\ud83d\ude00', '\ud800', 'NaN', 'Infinity', ' ', '\n'];
const CLASSES = ['ReceiverVideoConstraints', 'LastNChangedEvent', 'SourceVideoTypeMessage', 'VideoTypeMessage', 'EndpointMessage', 'EndpointStats', 'ReceiverAudioSubscription', 'ClientHello', 'ServerHello', 'toString', '__proto__', 'hasOwnProperty', ''];
const JSON_VALUES = ['null', 'true', '0', '-1', '1e308', '1e999', '-0', '""', '"x"', '[]', '{}', '[null]', '{"a":1}', '[1,"a",{}]', '"\\u0000"', '"\\ud800"', '12345678901234567890'];

/** Mutates a JSON text: token insertions/deletions, value swaps, class swaps, key injection, nesting, truncation. */
export function mutateJson(rng: Prng, text: string, applied: string[]): string {
  let s = text;
  for (let n = rng.weighted([50, 30, 20]) + 1; n > 0; n--) {
    const k = rng.int(10);
    const at = rng.int(s.length + 1);
    switch (k) {
      case 0:
        applied.push('jsonInsertToken');
        s = s.slice(0, at) + rng.pick(JSON_TOKENS) + s.slice(at);
        break;
      case 1:
        applied.push('jsonDelete');
        s = s.slice(0, at) + s.slice(at + rng.range(1, 8));
        break;
      case 2:
        applied.push('jsonTruncate');
        s = s.slice(0, rng.int(s.length));
        break;
      case 3: {
        applied.push('jsonSwapValue');
        // Replace the value after a random ':' with another JSON value.
        const colon = s.indexOf(':', at);
        if (colon < 0) break;
        let end = colon + 1;
        let depth = 0;
        while (end < s.length) {
          const c = s[end];
          if (c === '{' || c === '[') depth++;
          else if (c === '}' || c === ']') {
            if (depth === 0) break;
            depth--;
          } else if (c === ',' && depth === 0) break;
          end++;
        }
        s = `${s.slice(0, colon + 1)}${rng.pick(JSON_VALUES)}${s.slice(end)}`;
        break;
      }
      case 4:
        applied.push('jsonSwapClass');
        s = s.replace(/"colibriClass":"[^"]*"/, `"colibriClass":"${rng.pick(CLASSES)}"`);
        break;
      case 5: {
        applied.push('jsonInjectKey');
        const brace = s.indexOf('{');
        if (brace < 0) break;
        const key = rng.pick(['__proto__', 'constructor', 'prototype', 'colibriClass', 'to', 'lastN', 'constraints', 'from', 'toString']);
        s = `${s.slice(0, brace + 1)}"${key}":${rng.pick(JSON_VALUES)},${s.slice(brace + 1)}`;
        break;
      }
      case 6: {
        applied.push('jsonNest');
        const depth = rng.pick([2, 100, 1000, 5000, 20000]);
        s = `{"colibriClass":"${rng.pick(CLASSES)}","to":"","msgPayload":${'['.repeat(depth)}${']'.repeat(depth)}}`;
        break;
      }
      case 7:
        applied.push('jsonLongString');
        s = `{"colibriClass":"${rng.pick(CLASSES)}","to":"${'x'.repeat(rng.pick([10, 1000, 65_000, 65_536]))}"}`;
        break;
      case 8:
        applied.push('jsonCharFlip');
        if (s.length > 0) {
          const i = rng.int(s.length);
          s = s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << rng.int(16))) + s.slice(i + 1);
        }
        break;
      default:
        applied.push('jsonDuplicate');
        s = s + s.slice(rng.int(s.length));
        break;
    }
  }
  return s;
}
