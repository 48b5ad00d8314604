/**
 * The parser fuzz families (pure, no sockets): each builds a corpus of valid inputs with the package's builders,
 * mutates them (or draws random bytes), feeds the result to the parsers and checks invariants:
 *
 * - no exception ever (every parser here promises "malformed input never throws");
 * - every offset and length a parser reports lies inside `[0, length)` of the input, even when the input sits in a
 *   larger buffer (a canary tail after `length` must be neither read into results nor written);
 * - readers give the same answers on a packet in place and on an exact-size copy of it (a reader that looks past
 *   its packet throws RangeError on the copy);
 * - in-place rewriters (header-extension writers/stripper, VP8 rewriters) touch only the bytes they own and leave a
 *   packet that parses to the same payload;
 * - SRTP/SRTCP reject everything that is not byte-identical to a packet the sender protected, with a drop reason,
 *   leaving the buffer unchanged, and never return a length larger than the input; protect → unprotect round-trips;
 * - garbage never creates per-SSRC SRTP state.
 *
 * Loops are bounded by construction (the iterators here are capped and the hang detector reports a stuck case).
 */
import { isIP } from 'node:net';
import { DatagramKind, classifyDatagram, looksLikeDtls, looksLikeRtcp, looksLikeRtp, looksLikeStun } from '../../src/rtp/classify.js';
import {
  ONE_BYTE_EXTENSION_PROFILE,
  TWO_BYTE_EXTENSION_PROFILE,
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
} from '../../src/rtp/header-ext.js';
import {
  PsfbFormat,
  RtcpIterator,
  RtcpPacketType,
  RtcpParseStatus,
  RtpfbFormat,
  TransportCcFeedback,
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
  readRemb,
  readReportBlock,
  readSenderInfo,
  reportBlockOffset,
  type RtcpRemb,
} from '../../src/rtp/rtcp.js';
import { RtpHeader, RtpParseStatus, rtpHeaderLength } from '../../src/rtp/rtp-packet.js';
import {
  createVp8PayloadDescriptor,
  parseVp8PayloadDescriptor,
  rewriteVp8PictureId,
  rewriteVp8Tl0PicIdx,
  writeVp8PictureId,
  writeVp8Tl0PicIdx,
} from '../../src/codecs/vp8.js';
import { SrtpDropReason, SrtpProfile, SrtpSession, srtpProfileParams } from '../../src/transport/srtp.js';
import {
  StunClass,
  StunMessageBuilder,
  StunType,
  isStunMessage,
  parseStunMessage,
  verifyFingerprint,
  verifyMessageIntegrity,
  type StunMessage,
} from '../../src/transport/stun.js';
import { DEFAULT_MAX_MESSAGE_BYTES, parseInboundMessage } from '../../src/channel/messages.js';
import { EXT_IDS, KEPT_EXT_IDS, buildChannelJson, buildRtcpCompound, buildRtp, buildStun } from './corpus.js';
import { check, type CaseContext, type FuzzFamily } from './engine.js';
import {
  RTCP_MUTATORS,
  RTP_MUTATORS,
  SRTP_MUTATORS,
  STUN_MUTATORS,
  VP8_MUTATORS,
  mutate,
  mutateJson,
  stunResign,
  type Mutator,
} from './mutators.js';
import { Prng } from './prng.js';

const CANARY = 0xa5;

/** The input placed at offset 0 of either an exact-size buffer or a larger one with a canary tail. */
interface Hosted {
  buf: Buffer;
  len: number;
}

function host(rng: Prng, input: Uint8Array): Hosted {
  if (rng.chance(0.5)) return { buf: Buffer.from(input), len: input.length };
  const buf = Buffer.alloc(input.length + rng.range(1, 48), CANARY);
  buf.set(input);
  return { buf, len: input.length };
}

function canaryIntact(h: Hosted): boolean {
  for (let i = h.len; i < h.buf.length; i++) if (h.buf[i] !== CANARY) return false;
  return true;
}

/** Bytes of `a` and `b` differ only inside [from, to) (same length required). */
function diffOnlyWithin(a: Uint8Array, b: Uint8Array, from: number, to: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && (i < from || i >= to)) return false;
  return true;
}

function isUint(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

/** classifyDatagram agrees with the RFC 7983 ranges and the looksLike* helpers. */
export function checkClassify(buf: Uint8Array, len: number): number {
  const kind = classifyDatagram(buf, len);
  const b0 = len > 0 ? (buf[0] as number) : -1;
  if (len < 1) check(kind === DatagramKind.Unknown, 'empty datagram not Unknown');
  else if (b0 <= 3) check(kind === DatagramKind.Stun, `first byte ${b0}: expected STUN, got ${kind}`);
  else if (b0 >= 20 && b0 <= 63) check(kind === DatagramKind.Dtls, `first byte ${b0}: expected DTLS, got ${kind}`);
  else if (b0 >= 128 && b0 <= 191) {
    if (len < 2) check(kind === DatagramKind.Unknown, 'one-byte RTP-range datagram must be Unknown');
    else check(kind === ((buf[1] as number) >= 192 && (buf[1] as number) <= 223 ? DatagramKind.Rtcp : DatagramKind.Rtp), 'RTP/RTCP split by second byte');
  } else if (b0 >= 16 && b0 <= 19) check(kind === DatagramKind.Zrtp, 'ZRTP range');
  else if (b0 >= 64 && b0 <= 79) check(kind === DatagramKind.TurnChannel, 'TURN channel range');
  else check(kind === DatagramKind.Unknown, `first byte ${b0}: expected Unknown`);
  if (looksLikeRtp(buf, len)) check(kind === DatagramKind.Rtp, 'looksLikeRtp but not classified RTP');
  if (looksLikeRtcp(buf, len)) check(kind === DatagramKind.Rtcp, 'looksLikeRtcp but not classified RTCP');
  if (looksLikeStun(buf, len)) check(kind === DatagramKind.Stun, 'looksLikeStun but not classified STUN');
  if (looksLikeDtls(buf, len)) check(kind === DatagramKind.Dtls, 'looksLikeDtls but not classified DTLS');
  return kind;
}

/** Picks a valid corpus entry and mutates it (or not: ~3 %), or draws random bytes (~10 %). */
function generate(ctx: CaseContext, corpus: readonly Buffer[], mutators: Readonly<Record<string, Mutator>>, firstByte: (rng: Prng) => number, maxRandom = 1500): Buffer {
  const rng = ctx.rng;
  const r = rng.u32() / 0x1_0000_0000;
  let out: Buffer;
  if (r < 0.1) {
    out = rng.bytes(rng.length(maxRandom));
    if (out.length > 0 && rng.chance(0.8)) out[0] = firstByte(rng);
    ctx.mutations.push('random');
  } else if (r < 0.13) {
    out = rng.pick(corpus);
    ctx.mutations.push('valid');
  } else {
    out = mutate(rng, rng.pick(corpus), mutators, { donors: corpus }, ctx.mutations);
  }
  ctx.input(out);
  return out;
}

const RTP_STATUS = Object.fromEntries(Object.entries(RtpParseStatus).map(([k, v]) => [v, k])) as Record<number, string>;
const rtpFirstByte = (rng: Prng): number => 0x80 | rng.int(0x40);

// ----------------------------------------------------------------------------------------------------- RTP

/** Parsed-header invariants (offsets inside `[0, len)`, fields consistent with the bytes). */
function checkRtpHeader(h: RtpHeader, buf: Buffer, len: number): void {
  const b0 = buf[0] as number;
  check(h.length === len, 'length');
  check(h.headerLength === h.payloadOffset, 'headerLength !== payloadOffset');
  check(h.headerLength % 4 === 0 && h.headerLength >= 12 && h.headerLength <= len, `headerLength ${h.headerLength} out of [12, ${len}]`);
  check(h.payloadLength >= 0 && h.paddingLength >= 0 && h.paddingLength <= 255, 'payload/padding length');
  check(h.payloadOffset + h.payloadLength + h.paddingLength === len, 'payload + padding do not add up to the packet');
  check(h.csrcCount === (b0 & 0x0f), 'csrcCount');
  check(h.marker === (buf[1] as number) >= 0x80 && h.payloadType === ((buf[1] as number) & 0x7f), 'marker/PT');
  check(h.sequenceNumber === buf.readUInt16BE(2) && h.timestamp === buf.readUInt32BE(4) && h.ssrc === buf.readUInt32BE(8), 'seq/ts/ssrc');
  if (b0 & 0x10) {
    check(h.extensionOffset === 12 + 4 * h.csrcCount, 'extensionOffset');
    check(h.extensionDataOffset === h.extensionOffset + 4, 'extensionDataOffset');
    check(h.extensionDataLength % 4 === 0 && h.extensionDataOffset + h.extensionDataLength === h.headerLength, 'extension data runs to the header end');
    check(h.extensionProfile === buf.readUInt16BE(h.extensionOffset), 'extensionProfile');
  } else {
    check(h.extensionOffset === -1 && h.extensionDataOffset === -1 && h.extensionDataLength === 0, 'no-extension fields');
  }
  if (b0 & 0x20) check(h.paddingLength === buf[len - 1], 'padding count is the last octet');
  else check(h.paddingLength === 0, 'padding without P');
  for (let i = 0; i < h.csrcCount; i++) h.csrc(i);
}

const ALL_IDS: readonly number[] = Array.from({ length: 258 }, (_, i) => i - 1); // -1 … 256
const SOME_IDS: readonly number[] = [-1, 0, 1, 2, 3, 4, 5, 13, 14, 15, 16, 200, 255, 256];

/** findHeaderExtension for each id: data inside the extension block, element header names the id. Returns id → data. */
function checkFind(h: RtpHeader, ids: readonly number[]): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  const start = h.extensionDataOffset;
  const end = start + h.extensionDataLength;
  const one = h.extensionProfile === ONE_BYTE_EXTENSION_PROFILE;
  const two = (h.extensionProfile & 0xfff0) === TWO_BYTE_EXTENSION_PROFILE;
  for (const id of ids) {
    const off = findHeaderExtension(h, id);
    if (off < 0) {
      check(off === -1, 'find returned a negative other than -1');
      continue;
    }
    check(h.extensionOffset >= 0 && (one || two), 'found an element without an RFC 8285 block');
    check(id >= 1 && id <= (one ? 14 : 255), `found id ${id} outside the form's id range`);
    const l = headerExtensionLength(h, off);
    check(off >= start + (one ? 1 : 2) && off + l <= end, `element data [${off}, ${off + l}) outside the block [${start}, ${end})`);
    check(one ? (h.buffer[off - 1] as number) >> 4 === id : h.buffer[off - 2] === id, 'element header does not carry the id');
    found.set(id, Buffer.from(h.buffer.subarray(off, off + l)));
  }
  return found;
}

class RtpFamily implements FuzzFamily {
  readonly name = 'rtp';
  readonly #corpus: Buffer[] = [];
  readonly #h = new RtpHeader();
  readonly #h2 = new RtpHeader();
  readonly #h3 = new RtpHeader();
  readonly #keep = createHeaderExtensionIdSet(KEPT_EXT_IDS);

  constructor(seed: number) {
    const rng = new Prng(seed);
    for (let i = 0; i < 600; i++) this.#corpus.push(buildRtp(rng));
  }

  runCase(ctx: CaseContext): void {
    const rng = ctx.rng;
    const input = generate(ctx, this.#corpus, RTP_MUTATORS, rtpFirstByte);
    const hosted = host(rng, input);
    const { buf, len } = hosted;
    checkClassify(buf, len);
    const h = this.#h;
    const st = h.parse(buf, len);
    ctx.outcome(`parse:${RTP_STATUS[st] ?? st}`);
    const hl = rtpHeaderLength(buf, len);
    if (st !== RtpParseStatus.Ok) {
      check(st >= 1 && st <= 5, `unknown parse status ${st}`);
      if (st === RtpParseStatus.BadPadding) check(hl >= 12 && hl <= len, 'BadPadding but rtpHeaderLength disagrees');
      else check(hl === -1, `parse status ${RTP_STATUS[st]} but rtpHeaderLength ${hl}`);
      return;
    }
    check(hl === h.headerLength, `rtpHeaderLength ${hl} != headerLength ${h.headerLength}`);
    checkRtpHeader(h, buf, len);
    const ids = rng.chance(0.25) ? ALL_IDS : SOME_IDS;
    const found = checkFind(h, ids);
    if (h.extensionOffset >= 0) ctx.outcome(found.size > 0 ? 'ext:elements' : 'ext:none-found');

    // Readers: values in range, no throw.
    const al = readAudioLevel(h, EXT_IDS.audioLevel);
    check(al === -1 || isUint(al, 255), 'audio level');
    const ast = readAbsSendTime(h, EXT_IDS.absSendTime);
    check(ast === -1 || isUint(ast, 0xffffff), 'abs-send-time');
    const tcc = readTransportCcSeq(h, EXT_IDS.transportCc);
    check(tcc === -1 || isUint(tcc, 0xffff), 'tcc seq');
    const vo = readVideoOrientation(h, EXT_IDS.videoOrientation);
    check(vo === -1 || isUint(vo, 255), 'video orientation');
    const mid = readMid(h, EXT_IDS.mid);
    check(mid === undefined || mid.length <= 256, 'mid');
    headerExtensionEquals(h, EXT_IDS.mid, Buffer.from('1'));
    headerExtensionEquals(h, rng.range(0, 256), rng.bytes(rng.int(4)));

    // Writers touch only the extension block.
    const w = Buffer.from(buf);
    check(this.#h2.parse(w, len) === RtpParseStatus.Ok, 'copy does not parse');
    writeAbsSendTime(this.#h2, EXT_IDS.absSendTime, rng.int(0x1000000));
    writeTransportCcSeq(this.#h2, EXT_IDS.transportCc, rng.int(0x10000));
    const blockStart = h.extensionDataOffset < 0 ? 0 : h.extensionDataOffset;
    check(diffOnlyWithin(buf, w, blockStart, blockStart + h.extensionDataLength), 'extension writer wrote outside the extension block');

    // The stripper: payload and padding untouched, kept elements intact, others gone, re-parses, canary intact.
    const s = Buffer.from(buf);
    const h2 = this.#h2;
    check(h2.parse(s, len) === RtpParseStatus.Ok, 'copy does not parse');
    const newLen = stripHeaderExtensions(h2, this.#keep);
    check(newLen === h2.length && newLen <= len && newLen >= h.headerLength - (h.extensionOffset >= 0 ? 4 + h.extensionDataLength : 0) + h.payloadLength + h.paddingLength, `stripped length ${newLen} out of range`);
    check(canaryIntact({ buf: s, len }), 'stripper wrote past the packet');
    check(s.subarray(h2.payloadOffset, newLen).equals(buf.subarray(h.payloadOffset, len)), 'stripper changed payload or padding');
    check(s.subarray(1, 12 + 4 * h.csrcCount).equals(buf.subarray(1, 12 + 4 * h.csrcCount)) && ((s[0] as number) | 0x10) === ((buf[0] as number) | 0x10), 'stripper changed the fixed header');
    const h3 = this.#h3;
    const st3 = h3.parse(s, newLen);
    check(st3 === RtpParseStatus.Ok, `stripped packet does not parse: ${RTP_STATUS[st3]}`);
    check(h3.payloadLength === h.payloadLength && h3.paddingLength === h.paddingLength && h3.headerLength === h2.headerLength, 'stripped packet parses differently');
    const after = checkFind(h3, SOME_IDS);
    for (const id of SOME_IDS) {
      const before = found.get(id);
      const now = after.get(id);
      if (id >= 1 && this.#keep[id] === 1) check((before === undefined && now === undefined) || (before !== undefined && now !== undefined && before.equals(now)), `kept element ${id} changed by the stripper`);
      else check(now === undefined, `element ${id} survived the stripper`);
    }
    ctx.outcome(newLen < len ? 'strip:shrunk' : 'strip:same');
  }
}

// ----------------------------------------------------------------------------------------------------- VP8

class Vp8Family implements FuzzFamily {
  readonly name = 'vp8';
  readonly #corpus: Buffer[] = [];
  readonly #h = new RtpHeader();
  readonly #d = createVp8PayloadDescriptor();

  constructor(seed: number) {
    const rng = new Prng(seed);
    for (let i = 0; i < 400; i++) this.#corpus.push(buildRtp(rng, { vp8: true, maxPayload: 200 }));
  }

  runCase(ctx: CaseContext): void {
    const rng = ctx.rng;
    const input = generate(ctx, this.#corpus, VP8_MUTATORS, rtpFirstByte, 300);
    const hosted = host(rng, input);
    const { buf, len } = hosted;
    checkClassify(buf, len);
    let off: number;
    let plen: number;
    if (this.#h.parse(buf, len) === RtpParseStatus.Ok && rng.chance(0.9)) {
      off = this.#h.payloadOffset;
      plen = this.#h.payloadLength;
    } else {
      // Any region inside the packet.
      off = rng.int(len + 1);
      plen = rng.int(len - off + 1);
    }
    this.#checkDescriptor(ctx, buf, off, plen);
    check(canaryIntact(hosted), 'VP8 code wrote past the packet');
  }

  #checkDescriptor(ctx: CaseContext, buf: Buffer, off: number, plen: number): void {
    const rng = ctx.rng;
    const d = this.#d;
    const r = parseVp8PayloadDescriptor(buf, off, plen, d);
    ctx.outcome(`vp8:${r}`);
    const end = off + plen;
    if (r === 'ok') {
      check(d.size >= 1 && off + d.size < end, `descriptor size ${d.size} leaves no payload in ${plen}`);
      check(d.partitionIndex >= 0 && d.partitionIndex <= 7, 'PID');
      if (d.pictureIdOffset >= 0) {
        const w = d.pictureIdBits === 15 ? 2 : 1;
        check(d.pictureIdBits !== 0 && d.pictureIdOffset >= off + 2 && d.pictureIdOffset + w <= off + d.size, 'PictureID offset outside the descriptor');
        check(isUint(d.pictureId, d.pictureIdBits === 15 ? 0x7fff : 0x7f), 'PictureID range');
      } else check(d.pictureId === -1 && d.pictureIdBits === 0, 'PictureID absent');
      if (d.tl0PicIdxOffset >= 0) check(d.tl0PicIdxOffset >= off + 2 && d.tl0PicIdxOffset < off + d.size && isUint(d.tl0PicIdx, 255), 'TL0PICIDX offset');
      else check(d.tl0PicIdx === -1, 'TL0PICIDX absent');
      check(d.tid >= -1 && d.tid <= 3 && d.keyIdx >= -1 && d.keyIdx <= 31, 'TID/KEYIDX');
      check(d.width >= -1 && d.width <= 0x3fff && d.height >= -1 && d.height <= 0x3fff, 'width/height');
      check(!d.isKeyframe || d.isStartOfFrame, 'key frame that is not a frame start');
      if (d.width >= 0) check(d.isKeyframe, 'dimensions without a key frame');
      // In-place writers touch only their field.
      const w = Buffer.from(buf);
      writeVp8PictureId(w, d, rng.u32());
      writeVp8Tl0PicIdx(w, d, rng.u32());
      check(diffOnlyWithin(buf, w, off + 2, off + d.size), 'descriptor writers wrote outside the descriptor');
    } else {
      check(['empty', 'truncated-extension', 'truncated-picture-id', 'truncated-tl0picidx', 'truncated-tid-keyidx', 'no-payload'].includes(r), `unknown result ${String(r)}`);
    }
    // Standalone rewriters: at most the descriptor's bytes, inside the payload.
    const w2 = Buffer.from(buf);
    rewriteVp8PictureId(w2, off, plen, rng.u32());
    rewriteVp8Tl0PicIdx(w2, off, plen, rng.u32());
    check(diffOnlyWithin(buf, w2, off, Math.min(end, off + 5)), 'standalone rewriters wrote outside the descriptor');
  }
}

// ----------------------------------------------------------------------------------------------------- RTCP

const rtcpFirstByte = (rng: Prng): number => 0x80 | rng.int(0x40);

/** Everything the readers say about the packet at `off` (compared in place vs. on an exact-size copy). */
function readRtcpPacket(buf: Buffer, off: number, length: number, type: number, count: number, padding: boolean, tcc: TransportCcFeedback, remb: RtcpRemb, state: { tccOk: boolean }): unknown[] {
  const out: unknown[] = [];
  // Iterator-style getters, recomputed here for the isolated copy.
  if (padding) {
    const pad = buf[off + length - 1] as number;
    out.push(pad === 0 || pad > length - 4 ? -1 : length - pad);
  }
  out.push(length >= 8 ? buf.readUInt32BE(off + 4) : -1, length >= 12 ? buf.readUInt32BE(off + 8) : -1);
  if (type === RtcpPacketType.SR || type === RtcpPacketType.RR) {
    if (type === RtcpPacketType.SR) {
      const si = createSenderInfo();
      out.push(readSenderInfo(buf, off, length, si), si.ntpMsw, si.octetCount);
    }
    const rb = createReportBlock();
    for (let i = 0; i <= count + 1; i++) {
      const bo = reportBlockOffset(type, off, length, i);
      if (bo < 0) {
        out.push(-1);
        continue;
      }
      check(bo >= off + 8 && bo + 24 <= off + length, `report block ${i} outside the packet`);
      readReportBlock(buf, bo, rb);
      check(rb.cumulativeLost >= -0x800000 && rb.cumulativeLost <= 0x7fffff, 'cumulative lost is signed 24-bit');
      out.push(bo - off, rb.ssrc, rb.cumulativeLost, rb.delaySinceLastSr);
    }
  } else if (type === RtcpPacketType.SDES) {
    const chunks = parseSdes(buf, off, length, count);
    check(chunks.length <= count, 'more SDES chunks than SC');
    for (const c of chunks) check(c.cname === undefined || Buffer.byteLength(c.cname) <= 255 * 3, 'cname length');
    out.push(JSON.stringify(chunks));
  } else if (type === RtcpPacketType.BYE) {
    for (let i = 0; i <= count; i++) out.push(byeSsrc(buf, off, length, i));
  } else if (type === RtcpPacketType.RTPFB && count === RtpfbFormat.Nack) {
    const n = nackEntryCount(length);
    check(n === 0 || 12 + 4 * n <= length, 'NACK entries past the packet');
    let seqs = 0;
    let sum = 0;
    forEachNackedSeq(buf, off, length, (seq) => {
      check(isUint(seq, 0xffff), 'NACKed seq range');
      seqs++;
      sum = (sum + seq) | 0;
    });
    check(seqs <= 17 * n, 'NACK callbacks exceed 17 per entry');
    for (let i = 0; i < n; i++) out.push(nackPid(buf, off, i), nackBlp(buf, off, i));
    out.push(seqs, sum);
  } else if (type === RtcpPacketType.RTPFB && count === RtpfbFormat.TransportCc) {
    const ok = tcc.parse(buf, off, length);
    state.tccOk = ok;
    out.push(ok);
    if (ok) {
      check(isUint(tcc.statusCount, 0xffff) && isUint(tcc.baseSeq, 0xffff) && isUint(tcc.referenceTime, 0xffffff), 'tcc header fields');
      let received = 0;
      for (let i = 0; i < tcc.statusCount; i++) {
        const s = tcc.status[i] as number;
        check(s <= 2, `tcc status ${s}`);
        const a = tcc.arrivalTimeUs[i] as number;
        if (s === 0) check(Number.isNaN(a) && tcc.deltaTicks[i] === 0, 'not-received packet with an arrival');
        else {
          received++;
          check(Number.isFinite(a), 'received packet without an arrival time');
          const d = tcc.deltaTicks[i] as number;
          check(s === 1 ? isUint(d, 255) : d >= -0x8000 && d <= 0x7fff, 'delta range');
        }
      }
      out.push(tcc.statusCount, tcc.baseSeq, received, tcc.referenceTime);
    }
  } else if (type === RtcpPacketType.PSFB && count === PsfbFormat.Fir) {
    const n = firEntryCount(length);
    check(n === 0 || 12 + 8 * n <= length, 'FIR entries past the packet');
    for (let i = 0; i < n; i++) out.push(firSsrc(buf, off, i), firSeqNr(buf, off, i));
  } else if (type === RtcpPacketType.PSFB && count === PsfbFormat.Afb) {
    out.push(isRemb(buf, off, length));
    const ok = readRemb(buf, off, length, remb);
    out.push(ok);
    if (ok) {
      check(remb.ssrcs.length <= 255 && 20 + 4 * remb.ssrcs.length <= length, 'REMB SSRCs past the packet');
      check(Number.isFinite(remb.bitrateBps) && remb.bitrateBps >= 0, 'REMB bitrate');
      out.push(remb.bitrateBps, ...remb.ssrcs);
    }
  }
  return out;
}

function sameArray(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

class RtcpFamily implements FuzzFamily {
  readonly name = 'rtcp';
  readonly #corpus: Buffer[] = [];
  readonly #it = new RtcpIterator();
  readonly #tccA = new TransportCcFeedback();
  readonly #tccB = new TransportCcFeedback();
  readonly #tccC = new TransportCcFeedback();
  readonly #remb: RtcpRemb = { bitrateBps: 0, ssrcs: [] };

  constructor(seed: number) {
    const rng = new Prng(seed);
    for (let i = 0; i < 600; i++) this.#corpus.push(buildRtcpCompound(rng));
  }

  runCase(ctx: CaseContext): void {
    const rng = ctx.rng;
    const input = generate(ctx, this.#corpus, RTCP_MUTATORS, rtcpFirstByte, 1500);
    if (input.length >= 2 && ctx.mutations[0] === 'random' && rng.chance(0.8)) input[1] = rng.range(192, 223);
    const hosted = host(rng, input);
    const { buf, len } = hosted;
    checkClassify(buf, len);
    const it = this.#it;
    let expected = 0;
    let packets = 0;
    for (it.reset(buf, len); it.next(); ) {
      packets++;
      check(packets <= (len >> 2) + 1, 'iterator does not advance');
      check(it.offset === expected, `packet at ${it.offset}, expected ${expected}`);
      check(it.length >= 4 && it.length % 4 === 0 && it.offset + it.length <= len, `packet [${it.offset}, ${it.offset + it.length}) outside [0, ${len})`);
      expected = it.offset + it.length;
      const cl = it.contentLength;
      check(cl === -1 || (cl >= 4 && cl <= it.length), 'contentLength range');
      const sender = it.senderSsrc;
      const media = it.mediaSsrc;
      check(sender === -1 || isUint(sender, 0xffffffff), 'sender SSRC');
      check(media === -1 || isUint(media, 0xffffffff), 'media SSRC');
      ctx.outcome(`pt:${it.packetType}${it.packetType === 205 || it.packetType === 206 ? `/${it.count}` : ''}`);
      const state = { tccOk: false };
      const inPlace = readRtcpPacket(buf, it.offset, it.length, it.packetType, it.count, it.padding, this.#tccA, this.#remb, state);
      const alone = Buffer.from(buf.subarray(it.offset, it.offset + it.length));
      const isolated = readRtcpPacket(alone, 0, it.length, it.packetType, it.count, it.padding, this.#tccB, this.#remb, { tccOk: false });
      check(sameArray(inPlace, isolated), 'readers depend on bytes outside their packet');
      if (state.tccOk) this.#tccRoundTrip();
    }
    ctx.outcome(`iter:${['Ok', 'Truncated', 'BadVersion', 'BadLength'][it.status] ?? it.status}`);
    check(it.status >= RtcpParseStatus.Ok && it.status <= RtcpParseStatus.BadLength, 'status');
    if (it.status === RtcpParseStatus.Ok) check(expected === len, 'clean end before the end of the datagram');
    check(canaryIntact(hosted), 'RTCP readers wrote past the packet');
  }

  /** A parsed transport-cc packet written back and parsed again describes the same packets. */
  #tccRoundTrip(): void {
    const a = this.#tccA;
    const out = Buffer.alloc(a.serializedSize());
    const n = a.write(out, 0);
    check(n === out.length, 'tcc write length');
    const c = this.#tccC;
    check(c.parse(out, 0, n), 'tcc: re-serialized feedback does not parse');
    check(c.statusCount === a.statusCount && c.baseSeq === a.baseSeq && c.referenceTime === a.referenceTime, 'tcc round trip header');
    for (let i = 0; i < a.statusCount; i++) {
      check(c.status[i] === a.status[i] && c.deltaTicks[i] === a.deltaTicks[i], `tcc round trip differs at ${i}`);
    }
  }
}

// ----------------------------------------------------------------------------------------------------- STUN

/** Usernames and keys of the parser corpus (the port test builds its own with the real ufrags). */
const STUN_REQUEST_KEY = Buffer.from('fuzzfuzzfuzzfuzzfuzzfuzz');
const STUN_RESPONSE_KEY = Buffer.from('peerpeerpeerpeerpeerpeer');

function checkStunMessage(msg: StunMessage, len: number): void {
  check(msg.length === len, 'message length');
  check(msg.transactionId.length === 12, 'transaction id');
  check(msg.integrityOffset === -1 || (msg.integrityOffset >= 20 && msg.integrityOffset + 24 <= len), 'MESSAGE-INTEGRITY offset');
  check(msg.fingerprintOffset === -1 || msg.fingerprintOffset === len - 8, 'FINGERPRINT is not last');
  check(msg.username === undefined || msg.username.length <= 513, 'USERNAME length');
  check(msg.priority === undefined || isUint(msg.priority, 0xffffffff), 'PRIORITY');
  // class (3 bits) · 100 + number: the parser does not insist on number < 100 (RFC 5389 §15.6), so ≤ 955.
  check(msg.errorCode === undefined || isUint(msg.errorCode.code, 7 * 100 + 255), 'ERROR-CODE');
  if (msg.xorMappedAddress !== undefined) {
    const a = msg.xorMappedAddress;
    check(isIP(a.address) === a.family && isUint(a.port, 0xffff), `XOR-MAPPED-ADDRESS ${a.address}`);
  }
  check([StunClass.Request, StunClass.Indication, StunClass.SuccessResponse, StunClass.ErrorResponse].includes(msg.cls), 'class');
}

function sameStun(a: StunMessage | undefined, b: StunMessage | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.type === b.type &&
    a.length === b.length &&
    a.username === b.username &&
    a.priority === b.priority &&
    a.useCandidate === b.useCandidate &&
    a.iceControlling === b.iceControlling &&
    a.iceControlled === b.iceControlled &&
    a.integrityOffset === b.integrityOffset &&
    a.fingerprintOffset === b.fingerprintOffset &&
    a.unknownRequiredAttribute === b.unknownRequiredAttribute &&
    a.transactionId.equals(b.transactionId) &&
    JSON.stringify(a.xorMappedAddress) === JSON.stringify(b.xorMappedAddress) &&
    JSON.stringify(a.errorCode) === JSON.stringify(b.errorCode) &&
    a.software === b.software
  );
}

class StunFamily implements FuzzFamily {
  readonly name = 'stun';
  readonly #corpus: Buffer[] = [];
  readonly #valid = new Set<string>();

  constructor(seed: number) {
    const rng = new Prng(seed);
    const o = { usernames: ['bridgeufrag:peerufrag', 'b:p', 'x'.repeat(100) + ':y', 'nocolon', ':', 'bridgeufrag:'], requestKey: STUN_REQUEST_KEY, responseKey: STUN_RESPONSE_KEY };
    for (let i = 0; i < 500; i++) {
      const m = buildStun(rng, o);
      this.#corpus.push(m);
      this.#valid.add(m.toString('hex'));
    }
  }

  runCase(ctx: CaseContext): void {
    const rng = ctx.rng;
    let input = generate(ctx, this.#corpus, STUN_MUTATORS, (r) => r.int(4), 600);
    if (ctx.mutations[0] === 'random' && input.length >= 8 && rng.chance(0.7)) {
      input.writeUInt32BE(0x2112a442, 4);
      if (rng.chance(0.7)) input.writeUInt16BE(Math.max(0, input.length - 20) & 0xffff, 2);
    }
    // Re-sign a third of the mutated messages so the mutation gets past FINGERPRINT/MESSAGE-INTEGRITY.
    const resigned = ctx.mutations[0] !== 'valid' && rng.chance(0.33);
    if (resigned) {
      input = stunResign(input, rng.chance(0.5) ? STUN_REQUEST_KEY : STUN_RESPONSE_KEY);
      ctx.mutations.push('resign');
      ctx.input(input);
    }
    const hosted = host(rng, input);
    const { buf, len } = hosted;
    checkClassify(buf, len);
    const msg = parseStunMessage(buf, len);
    const exact = parseStunMessage(Buffer.from(input), input.length);
    check(sameStun(msg, exact), 'parse depends on bytes after the message');
    check(msg === undefined || isStunMessage(buf, len), 'parsed although isStunMessage() is false');
    if (msg === undefined) {
      ctx.outcome(isStunMessage(buf, len) ? 'stun:malformed-attributes' : 'stun:not-stun');
      return;
    }
    checkStunMessage(msg, len);
    const fp = verifyFingerprint(buf, msg);
    const miReq = verifyMessageIntegrity(buf, msg, STUN_REQUEST_KEY);
    const miResp = verifyMessageIntegrity(buf, msg, STUN_RESPONSE_KEY);
    verifyMessageIntegrity(buf, msg, Buffer.alloc(0));
    if (this.#valid.has(input.toString('hex'))) {
      check(msg.fingerprintOffset < 0 || fp, 'valid message fails FINGERPRINT');
      check(msg.integrityOffset < 0 || miReq || miResp, 'valid message fails MESSAGE-INTEGRITY');
    }
    ctx.outcome(`stun:${msg.cls === StunClass.Request ? 'request' : msg.cls === StunClass.Indication ? 'indication' : 'response'}:fp-${fp ? 'ok' : 'bad'}:mi-${miReq || miResp ? 'ok' : 'bad'}`);
    // What ICE does with an authenticated request: answer it (builder round trip).
    if (msg.cls === StunClass.Request && fp && miReq) {
      const resp = new StunMessageBuilder(StunType.BindingSuccess, msg.transactionId).addXorMappedAddress('127.0.0.1', rng.int(0x10000)).build({ integrityKey: STUN_REQUEST_KEY, fingerprint: true });
      const back = parseStunMessage(resp);
      check(back !== undefined && verifyFingerprint(resp, back) && verifyMessageIntegrity(resp, back, STUN_REQUEST_KEY), 'response to a fuzzed request does not verify');
    }
    check(canaryIntact(hosted), 'STUN code wrote past the message');
  }
}

// ----------------------------------------------------------------------------------------------------- SRTP

const DROP_REASONS = new Set<number>(Object.values(SrtpDropReason));
const DROP_NAME = Object.fromEntries(Object.entries(SrtpDropReason).map(([k, v]) => [v, k])) as Record<number, string>;
const PROFILES: readonly SrtpProfile[] = [SrtpProfile.AES128_CM_HMAC_SHA1_80, SrtpProfile.AEAD_AES_128_GCM, SrtpProfile.AES128_CM_HMAC_SHA1_32, SrtpProfile.AEAD_AES_256_GCM];
const SHORT_NAME: Record<number, string> = { 1: 'cm80', 2: 'cm32', 7: 'gcm128', 8: 'gcm256' };

interface SrtpSetup {
  profile: SrtpProfile;
  /** Receives the corpus (fuzz target). */
  rx: SrtpSession;
  /** Protects fuzzed plain packets; `rx2` unprotects them (round trip). */
  tx2: SrtpSession;
  rx2: SrtpSession;
  srtp: Buffer[];
  srtcp: Buffer[];
  plainRtp: Buffer[];
  plainRtcp: Buffer[];
  /** hex of every protected packet → its plain text. */
  plainOf: Map<string, Buffer>;
  ssrcs: Set<number>;
}

class SrtpFamily implements FuzzFamily {
  readonly name = 'srtp';
  readonly #setups: SrtpSetup[] = [];

  constructor(seed: number) {
    const rng = new Prng(seed);
    for (const profile of PROFILES) {
      const p = srtpProfileParams(profile);
      const keys = { masterKey: rng.bytes(p.keyLength), masterSalt: rng.bytes(p.saltLength) };
      const keys2 = { masterKey: rng.bytes(p.keyLength), masterSalt: rng.bytes(p.saltLength) };
      const tx = new SrtpSession(profile, keys);
      const setup: SrtpSetup = {
        profile,
        rx: new SrtpSession(profile, keys),
        tx2: new SrtpSession(profile, keys2),
        rx2: new SrtpSession(profile, { ...keys2, replayWindowSize: 32768 }),
        srtp: [],
        srtcp: [],
        plainRtp: [],
        plainRtcp: [],
        plainOf: new Map(),
        ssrcs: new Set(),
      };
      const ssrcs = [rng.u32(), rng.u32(), rng.u32()];
      for (const s of ssrcs) setup.ssrcs.add(s);
      const seqs = ssrcs.map((_, i) => (i === 0 ? 0xffc0 : rng.int(0x10000))); // the first SSRC wraps: ROC 0 → 1
      for (let i = 0; i < 150; i++) {
        const k = i % 3;
        const plain = buildRtp(rng, { ssrc: ssrcs[k] as number, sequenceNumber: (seqs[k] as number) & 0xffff, maxPayload: 300 });
        seqs[k] = (seqs[k] as number) + 1;
        const out = Buffer.alloc(plain.length + 16);
        const n = tx.protectRtp(plain, plain.length, out);
        if (n < 0) throw new Error(`corpus: protectRtp failed ${n}`);
        const prot = Buffer.from(out.subarray(0, n));
        setup.srtp.push(prot);
        setup.plainRtp.push(plain);
        setup.plainOf.set(prot.toString('hex'), plain);
      }
      for (let i = 0; i < 60; i++) {
        const plain = buildRtcpCompound(rng, ssrcs[i % 3] as number);
        const out = Buffer.alloc(plain.length + 20);
        const n = tx.protectRtcp(plain, plain.length, out);
        if (n < 0) throw new Error(`corpus: protectRtcp failed ${n}`);
        const prot = Buffer.from(out.subarray(0, n));
        setup.srtcp.push(prot);
        setup.plainRtcp.push(plain);
        setup.plainOf.set(prot.toString('hex'), plain);
      }
      this.#setups.push(setup);
    }
  }

  runCase(ctx: CaseContext): void {
    const rng = ctx.rng;
    const s = rng.pick(this.#setups);
    const rtcp = rng.chance(0.35);
    const name = SHORT_NAME[s.profile] ?? String(s.profile);
    if (rng.chance(0.15)) {
      this.#protectRoundTrip(ctx, s, rtcp, name);
      return;
    }
    const input = generate(ctx, rtcp ? s.srtcp : s.srtp, SRTP_MUTATORS, rtcp ? rtcpFirstByte : rtpFirstByte, 1500);
    if (rtcp && ctx.mutations[0] === 'random' && input.length >= 2) input[1] = rng.range(192, 223);
    const hosted = host(rng, input);
    const { buf, len } = hosted;
    checkClassify(buf, len);
    const before = Buffer.from(buf);
    const n = rtcp ? s.rx.unprotectRtcp(buf, len) : s.rx.unprotectRtp(buf, len);
    check(Number.isInteger(n), `unprotect returned ${n}`);
    check(canaryIntact(hosted), 'unprotect wrote past the packet');
    if (n < 0) {
      check(DROP_REASONS.has(n), `unknown drop reason ${n}`);
      check(buf.equals(before), 'a dropped packet was modified');
      ctx.outcome(`${name}:${rtcp ? 'srtcp' : 'srtp'}:${DROP_NAME[n]}`);
      return;
    }
    const plain = s.plainOf.get(input.toString('hex'));
    check(plain !== undefined, 'AUTHENTICATED A PACKET THE SENDER NEVER PROTECTED');
    const trailer = rtcp ? s.rx.rtcpTrailerLength : s.rx.rtpTagLength;
    check(n === len - trailer && n <= len, `unprotect length ${n} for ${len} bytes`);
    check(buf.subarray(0, n).equals(plain), 'decrypted packet differs from the plain text');
    ctx.outcome(`${name}:${rtcp ? 'srtcp' : 'srtp'}:ok`);
  }

  /** Protect a (mutated) plain packet: a drop reason, or len + trailer bytes that the peer session accepts. */
  #protectRoundTrip(ctx: CaseContext, s: SrtpSetup, rtcp: boolean, name: string): void {
    const rng = ctx.rng;
    const input = generate(ctx, rtcp ? s.plainRtcp : s.plainRtp, rtcp ? RTCP_MUTATORS : RTP_MUTATORS, rtcp ? rtcpFirstByte : rtpFirstByte, 1500);
    const trailer = rtcp ? s.tx2.rtcpTrailerLength : s.tx2.rtpTagLength;
    const out = Buffer.alloc(input.length + trailer + rng.int(8), CANARY);
    const n = rtcp ? s.tx2.protectRtcp(input, input.length, out) : s.tx2.protectRtp(input, input.length, out);
    if (n < 0) {
      check(DROP_REASONS.has(n), `unknown drop reason ${n}`);
      ctx.outcome(`${name}:protect:${DROP_NAME[n]}`);
      return;
    }
    check(n === input.length + trailer, `protect length ${n} for ${input.length}`);
    for (let i = n; i < out.length; i++) check(out[i] === CANARY, 'protect wrote past its output');
    const m = rtcp ? s.rx2.unprotectRtcp(out, n) : s.rx2.unprotectRtp(out, n);
    if (m === SrtpDropReason.Replayed || m === SrtpDropReason.TooOld) {
      ctx.outcome(`${name}:roundtrip:${DROP_NAME[m]}`);
      return;
    }
    check(m === input.length, `round trip: unprotect gave ${m < 0 ? DROP_NAME[m] : m} for a packet protect accepted`);
    check(out.subarray(0, m).equals(input), 'round trip changed the packet');
    ctx.outcome(`${name}:roundtrip:ok`);
  }

  finish(): void {
    // Garbage never creates per-SSRC state: only the corpus's SSRCs (which authenticated) may have some.
    for (const s of this.#setups) {
      const st = s.rx.stats();
      check(st.rtpIn <= s.ssrcs.size && st.rtcpIn <= s.ssrcs.size, `SRTP state for ${st.rtpIn} RTP / ${st.rtcpIn} RTCP SSRCs, only ${s.ssrcs.size} ever authenticated`);
      check(st.rtpOut === 0 && st.rtcpOut === 0, 'receive session has send state');
    }
  }
}

// ----------------------------------------------------------------------------------------------------- channel

const INBOUND_CLASSES = new Set(['ReceiverVideoConstraints', 'LastNChangedEvent', 'SourceVideoTypeMessage', 'VideoTypeMessage', 'EndpointMessage', 'EndpointStats', 'ReceiverAudioSubscription', 'ClientHello']);
const DROP_REASONS_CHANNEL = new Set(['tooLarge', 'tooDeep', 'binary', 'invalidJson', 'notAMessage', 'unknownClass', 'invalidFields']);

class ChannelFamily implements FuzzFamily {
  readonly name = 'channel';
  readonly #corpus: string[] = [];

  constructor(seed: number) {
    const rng = new Prng(seed);
    for (let i = 0; i < 300; i++) this.#corpus.push(buildChannelJson(rng));
  }

  runCase(ctx: CaseContext): void {
    const rng = ctx.rng;
    let text = rng.pick(this.#corpus);
    if (rng.chance(0.95)) text = mutateJson(rng, text, ctx.mutations);
    else ctx.mutations.push('valid');
    let data: string | Buffer = text;
    const form = rng.int(10);
    if (form < 3) data = Buffer.from(text, 'utf8');
    else if (form === 3) {
      // Invalid UTF-8 inside otherwise valid JSON.
      const b = Buffer.from(text, 'utf8');
      data = Buffer.concat([b.subarray(0, b.length >> 1), Buffer.from([rng.pick([0x80, 0xc0, 0xed, 0xf8, 0xff]), rng.byte()]), b.subarray(b.length >> 1)]);
      ctx.mutations.push('badUtf8');
    }
    ctx.input(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    const isBinary = rng.chance(0.02);
    const maxBytes = rng.chance(0.1) ? rng.pick([0, 1, 64, 1024]) : DEFAULT_MAX_MESSAGE_BYTES;
    const r = parseInboundMessage(data, { isBinary, maxBytes });
    if (!r.ok) {
      check(DROP_REASONS_CHANNEL.has(r.reason), `unknown drop reason ${r.reason}`);
      check(r.colibriClass === undefined || typeof r.colibriClass === 'string', 'colibriClass type');
      ctx.outcome(`drop:${r.reason}`);
      return;
    }
    check(!isBinary, 'accepted a binary frame');
    check(INBOUND_CLASSES.has(r.message.colibriClass), `accepted class ${r.message.colibriClass}`);
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    check(size <= maxBytes, 'accepted a frame over maxBytes');
    ctx.outcome(`ok:${r.message.colibriClass}`);
    // Relaying serializes the message again; deep nesting that JSON.parse accepts may not serialize (finding, counted).
    try {
      JSON.stringify(r.message);
    } catch {
      ctx.outcome('ok-but-unserializable');
    }
    check((Object.prototype as Record<string, unknown>).polluted === undefined, 'prototype polluted');
  }
}

// ----------------------------------------------------------------------------------------------------- registry

/** The pure families by name (stable order: the index goes into the case seeds). */
export const PARSER_FAMILIES = ['rtp', 'vp8', 'rtcp', 'stun', 'srtp', 'channel'] as const;
export type ParserFamilyName = (typeof PARSER_FAMILIES)[number];

/** Creates a family; the corpus is derived from `seed`. */
export function createParserFamily(name: ParserFamilyName, seed: number): FuzzFamily {
  switch (name) {
    case 'rtp':
      return new RtpFamily(seed);
    case 'vp8':
      return new Vp8Family(seed);
    case 'rtcp':
      return new RtcpFamily(seed);
    case 'stun':
      return new StunFamily(seed);
    case 'srtp':
      return new SrtpFamily(seed);
    case 'channel':
      return new ChannelFamily(seed);
  }
}
