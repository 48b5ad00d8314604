/**
 * RTP munger for one (receiver, source): rewrites SSRC, sequence number, timestamp and the VP8 PictureID/TL0PICIDX
 * of forwarded packets in place, so the receiver sees one continuous stream whatever encoding is forwarded.
 *
 * Called once per packet of the source that the layer selector looked at: {@link RtpMunger.munge} for a packet
 * the selector forwards (it may still refuse, see {@link MungeResult}), {@link RtpMunger.drop} for one it drops.
 * Telling the munger about drops is what keeps the output free of gaps. Nothing is allocated per packet; the
 * histories are fixed typed arrays created with the munger.
 *
 * Behaviour (PROTOCOL.md §7.2, §7.4, §7.5; JVB `VP8AdaptiveSourceProjectionContext`; LiveKit `rtpmunger.go`):
 * - SSRC: every packet gets the munger's SSRC — the source's primary SSRC `s0` in plain mode (§7.2), or the
 *   receiver's slot SSRC in SSRC-rewriting mode (§7.5; hand a slot over with {@link RtpMungerOptions.initialState}).
 * - Epochs: the first packet of a newly forwarded encoding (a switch, or the very first packet) starts an epoch.
 *   Its sequence number becomes last output + 1 (+ 1 more if the last forwarded frame never saw its marker bit,
 *   so the receiver knows that frame is incomplete); its timestamp becomes last output timestamp + the arrival
 *   time elapsed since the last forwarded frame at the RTP clock (90 kHz), but at least
 *   {@link RtpMungerOptions.minSwitchGapTicks} (3000 = one frame at 30 fps, PROTOCOL.md §7.4); its PictureID
 *   last + 1 (mod 2^15, or 2^7 for 7-bit ids) and its TL0PICIDX last + 1 (mod 256). Later packets of the epoch
 *   keep their offsets. The very first epoch passes values through unchanged. A jump of more than
 *   `historySize` sequence numbers inside an epoch (sender restart, long unannounced pause) starts a new epoch.
 * - Drops: a dropped packet that is the next in sequence shifts later output down by one, so dropping frames
 *   leaves no gap; likewise a dropped frame shifts later PictureIDs down by one. A gap in the *input* (loss) is
 *   kept as a gap in the output, with those numbers reserved: if the missing packet (or picture) arrives late, or
 *   as the sender's retransmission, it gets exactly the reserved number. A gap longer than the history is closed
 *   up instead (those numbers could never be filled).
 * - History: per encoding, the last `historySize` input sequence numbers (and `pictureHistorySize` pictures) map
 *   to their output value or to "dropped". A packet that was already forwarded gets the same output sequence
 *   number again (retransmission); one that was dropped, is older than the history, or predates its encoding's
 *   current epoch is refused.
 *
 * References: RFC 3550 §5.1 (https://www.rfc-editor.org/rfc/rfc3550#section-5.1) for SSRC/sequence/timestamp;
 * RFC 7741 §4.2 for PictureID/TL0PICIDX.
 */

import { writeVp8PictureId, writeVp8Tl0PicIdx, type Vp8PayloadDescriptor } from '../codecs/vp8.js';

/** Outcome of {@link RtpMunger.munge}. Anything but `'forward'` means: do not send the packet. */
export type MungeResult =
  /** Rewritten in place; send it. */
  | 'forward'
  /** Shorter than an RTP header, or an unknown encoding index. */
  | 'drop-malformed'
  /** Older than the history: its output number is no longer known. */
  | 'drop-too-old'
  /** The packet (or its frame) was dropped before, so it has no output number. */
  | 'drop-not-forwarded'
  /** Older than the point where its encoding started being forwarded. */
  | 'drop-before-switch';

/** The output position of a munged stream, to continue it elsewhere (slot re-binding) or for debugging. */
export interface RtpMungerState {
  /** Output SSRC. */
  readonly ssrc: number;
  /** Highest output sequence number sent, or -1 if nothing was sent. */
  readonly sequenceNumber: number;
  /** RTP timestamp of that packet, or -1. */
  readonly timestamp: number;
  /** Highest output PictureID (15-bit), or -1. */
  readonly pictureId: number;
  /** Last output TL0PICIDX, or -1. */
  readonly tl0PicIdx: number;
  /** Arrival time of the first packet of the last forwarded frame, or -Infinity. */
  readonly frameArrivalMs: number;
  /** Whether the last forwarded packet carried the marker bit (frame complete). */
  readonly frameComplete: boolean;
  /** Encoding currently forwarded, or -1. */
  readonly encoding: number;
}

/** Options of an {@link RtpMunger}. */
export interface RtpMungerOptions {
  /** Output SSRC (primary `s0` of the source, or a slot SSRC). */
  ssrc: number;
  /** Number of encodings of the source. Default 3. */
  encodingCount?: number;
  /** Sequence numbers remembered per encoding (rounded up to a power of two). Default 512. */
  historySize?: number;
  /** Pictures remembered per encoding (rounded up to a power of two). Default 128. */
  pictureHistorySize?: number;
  /** RTP clock rate. Default 90 000 (video). */
  clockRateHz?: number;
  /** Minimum timestamp step at a switch. Default 3000 (PROTOCOL.md §7.4). */
  minSwitchGapTicks?: number;
  /** Continue from this output position (e.g. the previous state of an SSRC-rewriting slot). */
  initialState?: RtpMungerState;
}

const EMPTY = 0;
const HOLE = 1;
const FORWARDED = 2;
const DROPPED = 3;

/** Lookup outcomes for a picture (non-negative values are output picture ids). */
const PIC_DROPPED = -1;
const PIC_TOO_OLD = -2;
const PIC_BEFORE = -3;

function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Maps extended input numbers (sequence numbers or picture ids) to output numbers, in a ring. */
class NumberMap {
  readonly keys: Float64Array;
  readonly values: Float64Array;
  readonly states: Uint8Array;
  readonly mask: number;

  constructor(size: number) {
    const n = pow2(size);
    this.keys = new Float64Array(n).fill(-1);
    this.values = new Float64Array(n);
    this.states = new Uint8Array(n);
    this.mask = n - 1;
  }

  get size(): number {
    return this.mask + 1;
  }

  clear(): void {
    this.keys.fill(-1);
    this.states.fill(EMPTY);
  }

  set(key: number, state: number, value: number): void {
    const i = key & this.mask;
    this.keys[i] = key;
    this.states[i] = state;
    this.values[i] = value;
  }

  /** State of `key`, or EMPTY when unknown or overwritten. */
  state(key: number): number {
    const i = key & this.mask;
    return this.keys[i] === key ? (this.states[i] ?? EMPTY) : EMPTY;
  }

  value(key: number): number {
    return this.values[key & this.mask] ?? 0;
  }
}

/** Per-encoding epoch state. */
class EncodingContext {
  started = false;
  highestSeq = 0;
  baseSeq = 0;
  seqDelta = 0;
  tsDelta = 0;
  readonly seqs: NumberMap;

  picBits: 0 | 7 | 15 = 0;
  highestPic = 0;
  basePic = 0;
  picDelta = 0;
  readonly pics: NumberMap;

  tl0Init = false;
  tl0Delta = 0;

  constructor(historySize: number, pictureHistorySize: number) {
    this.seqs = new NumberMap(historySize);
    this.pics = new NumberMap(pictureHistorySize);
  }
}

/** Extends a `bits`-wide wrapping number `v` to the integer closest to `highest`. */
function extend(highest: number, v: number, mod: number): number {
  const half = mod / 2;
  let d = (v - (highest % mod)) % mod;
  if (d < 0) d += mod;
  if (d >= half) d -= mod;
  return highest + d;
}

const SEQ_MOD = 0x10000;

/** Per (receiver, source) RTP rewriting. See the module comment. */
export class RtpMunger {
  readonly #ssrc: number;
  readonly #ctx: EncodingContext[];
  readonly #clockRateHz: number;
  readonly #minGapTicks: number;
  readonly #maxJump: number;

  #encoding = -1;
  /** Highest output sequence number as an unbounded integer; NaN before any output. */
  #outSeq = Number.NaN;
  #outTs = -1;
  /** Highest output PictureID as an unbounded integer; NaN before any. */
  #outPic = Number.NaN;
  #outTl0 = -1;
  #frameArrivalMs = -Infinity;
  #frameComplete = true;

  constructor(options: RtpMungerOptions) {
    this.#ssrc = options.ssrc >>> 0;
    const n = options.encodingCount ?? 3;
    if (!(n >= 1)) throw new TypeError('RtpMunger: encodingCount >= 1');
    const history = options.historySize ?? 512;
    const pictures = options.pictureHistorySize ?? 128;
    this.#ctx = [];
    for (let i = 0; i < n; i++) this.#ctx.push(new EncodingContext(history, pictures));
    this.#maxJump = this.#ctx[0]?.seqs.size ?? 512;
    this.#clockRateHz = options.clockRateHz ?? 90_000;
    this.#minGapTicks = Math.max(1, options.minSwitchGapTicks ?? 3000);
    const s = options.initialState;
    if (s !== undefined && s.sequenceNumber >= 0) {
      this.#outSeq = s.sequenceNumber & 0xffff;
      this.#outTs = s.timestamp >>> 0;
      this.#outPic = s.pictureId >= 0 ? s.pictureId : Number.NaN;
      this.#outTl0 = s.tl0PicIdx;
      this.#frameArrivalMs = s.frameArrivalMs;
      this.#frameComplete = s.frameComplete;
    }
  }

  /** The output SSRC. */
  get ssrc(): number {
    return this.#ssrc;
  }

  /**
   * Rewrites a packet the selector forwards: `buf[offset .. offset + length)` is the whole RTP packet, `encoding`
   * its encoding index, `vp8` its parsed descriptor (from the same buffer) or null for other codecs, `nowMs` its
   * arrival time. Once per forwarded packet.
   */
  munge(
    buf: Uint8Array,
    offset: number,
    length: number,
    encoding: number,
    vp8: Vp8PayloadDescriptor | null,
    nowMs: number,
  ): MungeResult {
    const ctx = this.#ctx[encoding];
    if (ctx === undefined || length < 12) return 'drop-malformed';
    const seq = ((buf[offset + 2] ?? 0) << 8) | (buf[offset + 3] ?? 0);
    const ts = readU32(buf, offset + 4);
    const marker = ((buf[offset + 1] ?? 0) & 0x80) !== 0;

    if (encoding !== this.#encoding || !ctx.started) this.#startEpoch(ctx, encoding, seq, ts, nowMs);
    let ext = extend(ctx.highestSeq, seq, SEQ_MOD);
    if (ext - ctx.highestSeq > this.#maxJump) {
      this.#startEpoch(ctx, encoding, seq, ts, nowMs);
      ext = extend(ctx.highestSeq, seq, SEQ_MOD);
    }

    // Classify the sequence number without committing anything yet.
    const isNew = ext > ctx.highestSeq;
    if (!isNew) {
      if (ext < ctx.baseSeq) return 'drop-before-switch';
      const st = ctx.seqs.state(ext);
      if (st === EMPTY) return 'drop-too-old';
      if (st === DROPPED) return 'drop-not-forwarded';
    }

    // Picture id (VP8): its frame may have been dropped, in which case so is this packet.
    let outPic = -1;
    if (vp8 !== null && vp8.pictureIdBits !== 0) {
      outPic = this.#mapPicture(ctx, vp8.pictureId, vp8.pictureIdBits, true);
      if (outPic < 0) {
        this.#dropSeq(ctx, ext);
        return outPic === PIC_DROPPED ? 'drop-not-forwarded' : outPic === PIC_TOO_OLD ? 'drop-too-old' : 'drop-before-switch';
      }
    }

    let outSeq: number;
    if (isNew) {
      this.#reserveSeqHoles(ctx, ext);
      outSeq = ext + ctx.seqDelta;
      ctx.seqs.set(ext, FORWARDED, outSeq);
      ctx.highestSeq = ext;
    } else {
      outSeq = ctx.seqs.value(ext);
      ctx.seqs.set(ext, FORWARDED, outSeq);
    }

    const outTs = (ts + ctx.tsDelta) >>> 0;
    writeU32(buf, offset + 8, this.#ssrc);
    buf[offset + 2] = (outSeq >>> 8) & 0xff;
    buf[offset + 3] = outSeq & 0xff;
    writeU32(buf, offset + 4, outTs);
    if (outPic >= 0 && vp8 !== null) {
      writeVp8PictureId(buf, vp8, outPic);
      if (Number.isNaN(this.#outPic) || outPic > this.#outPic) this.#outPic = outPic;
    }
    let outTl0 = -1;
    if (vp8 !== null && vp8.tl0PicIdx >= 0) {
      if (!ctx.tl0Init) {
        ctx.tl0Init = true;
        ctx.tl0Delta = this.#outTl0 < 0 ? 0 : (this.#outTl0 + 1 - vp8.tl0PicIdx) & 0xff;
      }
      outTl0 = (vp8.tl0PicIdx + ctx.tl0Delta) & 0xff;
      writeVp8Tl0PicIdx(buf, vp8, outTl0);
    }

    if (Number.isNaN(this.#outSeq) || outSeq > this.#outSeq) {
      if (Number.isNaN(this.#outSeq) || outTs !== this.#outTs) this.#frameArrivalMs = nowMs;
      this.#outSeq = outSeq;
      this.#outTs = outTs;
      this.#frameComplete = marker;
      if (outTl0 >= 0) this.#outTl0 = outTl0;
    }
    return 'forward';
  }

  /**
   * Accounts for a packet of the source that the selector dropped (same arguments as {@link munge}; the buffer is
   * only read). Packets of encodings other than the one being forwarded are ignored. Once per dropped packet.
   */
  drop(
    buf: Uint8Array,
    offset: number,
    length: number,
    encoding: number,
    vp8: Vp8PayloadDescriptor | null,
    _nowMs: number,
  ): void {
    const ctx = this.#ctx[encoding];
    if (ctx === undefined || length < 12 || encoding !== this.#encoding || !ctx.started) return;
    const seq = ((buf[offset + 2] ?? 0) << 8) | (buf[offset + 3] ?? 0);
    const ext = extend(ctx.highestSeq, seq, SEQ_MOD);
    this.#dropSeq(ctx, ext);
    if (vp8 !== null && vp8.pictureIdBits !== 0) this.#mapPicture(ctx, vp8.pictureId, vp8.pictureIdBits, false);
  }

  /** The current output position. */
  state(): RtpMungerState {
    const none = Number.isNaN(this.#outSeq);
    return {
      ssrc: this.#ssrc,
      sequenceNumber: none ? -1 : this.#outSeq & 0xffff,
      timestamp: none ? -1 : this.#outTs,
      pictureId: Number.isNaN(this.#outPic) ? -1 : this.#outPic & 0x7fff,
      tl0PicIdx: this.#outTl0,
      frameArrivalMs: this.#frameArrivalMs,
      frameComplete: this.#frameComplete,
      encoding: this.#encoding,
    };
  }

  #startEpoch(ctx: EncodingContext, encoding: number, seq: number, ts: number, nowMs: number): void {
    ctx.seqs.clear();
    ctx.pics.clear();
    ctx.started = true;
    const ext = SEQ_MOD + seq;
    ctx.highestSeq = ext - 1;
    ctx.baseSeq = ext;
    if (Number.isNaN(this.#outSeq)) {
      ctx.seqDelta = 0;
      ctx.tsDelta = 0;
    } else {
      // One extra number when the last frame is incomplete: the receiver then sees it can't be completed.
      ctx.seqDelta = this.#outSeq + (this.#frameComplete ? 1 : 2) - ext;
      const elapsedMs = Math.max(0, nowMs - this.#frameArrivalMs);
      const elapsedTicks = Number.isFinite(elapsedMs) ? Math.round((elapsedMs * this.#clockRateHz) / 1000) : 0;
      const gap = Math.max(this.#minGapTicks, Math.min(elapsedTicks, 0x7fffffff));
      ctx.tsDelta = (this.#outTs + gap - ts) >>> 0;
    }
    ctx.picBits = 0;
    ctx.tl0Init = false;
    this.#encoding = encoding;
  }

  /** Marks input sequence numbers between the highest and `ext` as reserved holes (lost so far). */
  #reserveSeqHoles(ctx: EncodingContext, ext: number): void {
    const from = Math.max(ctx.highestSeq + 1, ext - ctx.seqs.size + 1);
    for (let s = from; s < ext; s++) ctx.seqs.set(s, HOLE, s + ctx.seqDelta);
  }

  #dropSeq(ctx: EncodingContext, ext: number): void {
    if (ext > ctx.highestSeq) {
      const gap = ext - ctx.highestSeq - 1;
      if (gap >= ctx.seqs.size) {
        // A long stretch never seen: close it up rather than leave a huge gap.
        ctx.seqDelta -= gap;
      } else {
        this.#reserveSeqHoles(ctx, ext);
      }
      ctx.seqs.set(ext, DROPPED, 0);
      ctx.seqDelta -= 1;
      ctx.highestSeq = ext;
    } else if (ctx.seqs.state(ext) === HOLE) {
      ctx.seqs.set(ext, DROPPED, 0);
    }
  }

  /**
   * Maps an input PictureID to its output value (forward) or records its frame as dropped. Returns the output
   * PictureID (unbounded integer), or PIC_DROPPED / PIC_TOO_OLD / PIC_BEFORE.
   */
  #mapPicture(ctx: EncodingContext, pictureId: number, bits: 7 | 15, forward: boolean): number {
    const mod = bits === 15 ? 0x8000 : 0x80;
    if (ctx.picBits !== bits) {
      // First picture of the epoch (or the sender changed the width): continue from the last output picture.
      ctx.picBits = bits;
      ctx.pics.clear();
      const ext = mod + pictureId;
      ctx.highestPic = ext - 1;
      ctx.basePic = ext;
      ctx.picDelta = Number.isNaN(this.#outPic) ? 0 : this.#outPic + 1 - ext;
    }
    const ext = extend(ctx.highestPic, pictureId, mod);
    if (ext > ctx.highestPic) {
      const gap = ext - ctx.highestPic - 1;
      if (gap >= ctx.pics.size) {
        // More pictures missing than we can remember: close the gap, they could never be filled anyway.
        ctx.picDelta -= gap;
      } else {
        for (let p = ctx.highestPic + 1; p < ext; p++) ctx.pics.set(p, HOLE, p + ctx.picDelta);
      }
      ctx.highestPic = ext;
      if (forward) {
        const out = ext + ctx.picDelta;
        ctx.pics.set(ext, FORWARDED, out);
        return out;
      }
      ctx.pics.set(ext, DROPPED, 0);
      ctx.picDelta -= 1;
      return PIC_DROPPED;
    }
    if (ext < ctx.basePic) return PIC_BEFORE;
    const st = ctx.pics.state(ext);
    if (st === EMPTY) return PIC_TOO_OLD;
    if (st === DROPPED) return PIC_DROPPED;
    if (!forward) {
      if (st === HOLE) ctx.pics.set(ext, DROPPED, 0);
      return PIC_DROPPED;
    }
    const out = ctx.pics.value(ext);
    if (st === HOLE) ctx.pics.set(ext, FORWARDED, out);
    return out;
  }
}

function readU32(buf: Uint8Array, at: number): number {
  return (((buf[at] ?? 0) << 24) | ((buf[at + 1] ?? 0) << 16) | ((buf[at + 2] ?? 0) << 8) | (buf[at + 3] ?? 0)) >>> 0;
}

function writeU32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = (v >>> 24) & 0xff;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}
