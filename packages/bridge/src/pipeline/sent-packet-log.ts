/**
 * What one outgoing video stream sent, by the sequence number the receiver saw: for each forwarded packet, where its
 * original is (a {@link SourcePacketCache} and the packet's id there) and what the munger made of it (timestamp,
 * VP8 PictureID and TL0PICIDX; the SSRC is the stream's). A receiver's NACK names the numbers it saw; this log maps
 * them back to the source's packets, and {@link SentPacketLog.restore} rebuilds the packet exactly as it was sent.
 *
 * Why a per-number log and not the munger's offsets: the munger's sequence offset changes at every layer switch
 * (a new epoch) and also at every packet it drops inside an epoch (temporal layers, frames of a paused encoding), and
 * PictureIDs shift at every dropped frame, so "output − offset" is only right for a stretch that no drop or switch
 * crossed. Recording the mapping per packet is exact across switches and drops, and it is what the per-stream cache
 * held anyway — minus the packet bytes, which live once per source.
 *
 * One entry per sequence number, in a ring indexed by `seq & mask` (40 bytes per entry). It starts at 64 entries and
 * doubles when it would overwrite an entry younger than `maxAgeMs`, up to `maxSize`: a thumbnail stream needs a few
 * KB, a 720p stream about 20 KB. Nothing is allocated per packet.
 *
 * References: RFC 4585 §6.2.1 (generic NACK), RFC 4588 (RTX); PROTOCOL.md §7.4 (RTX with OSN = the rewritten
 * sequence number); JVB `RetransmissionSender` + the projection contexts' `rewriteRtp`.
 */
import { rewriteVp8PictureId, rewriteVp8Tl0PicIdx } from '../codecs/vp8.js';
import type { PacketInfo } from '../rtp/packet-info.js';
import { RtpParseStatus } from '../rtp/rtp-packet.js';
import type { SourcePacketCache } from './packet-cache.js';

const INITIAL_SIZE = 64;

function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Sent packets of one outgoing stream by sequence number. See the module comment. */
export class SentPacketLog {
  readonly #maxSize: number;
  readonly #maxAgeMs: number;
  readonly #initialSize: number;
  #mask: number;
  /** Sequence number held by a slot, -1 when empty. */
  #seqs: Int32Array;
  #caches: (SourcePacketCache | null)[];
  #ids: Uint32Array;
  #timestamps: Uint32Array;
  /** Output PictureID (-1: none) and TL0PICIDX (-1: none). */
  #pictureIds: Int16Array;
  #tl0PicIdxs: Int16Array;
  #sentMs: Float64Array;
  #resentMs: Float64Array;
  #count = 0;

  /** `maxSize`: most sequence numbers remembered (rounded up to a power of two); older ones can't be resent. */
  constructor(maxSize: number, maxAgeMs: number, initialSize: number = INITIAL_SIZE) {
    this.#maxSize = pow2(Math.max(1, maxSize));
    this.#maxAgeMs = maxAgeMs;
    this.#initialSize = Math.min(this.#maxSize, pow2(Math.max(1, initialSize)));
    this.#mask = this.#initialSize - 1;
    this.#seqs = new Int32Array(this.#initialSize).fill(-1);
    this.#caches = new Array<SourcePacketCache | null>(this.#initialSize).fill(null);
    this.#ids = new Uint32Array(this.#initialSize);
    this.#timestamps = new Uint32Array(this.#initialSize);
    this.#pictureIds = new Int16Array(this.#initialSize);
    this.#tl0PicIdxs = new Int16Array(this.#initialSize);
    this.#sentMs = new Float64Array(this.#initialSize);
    this.#resentMs = new Float64Array(this.#initialSize);
  }

  /** Sequence numbers remembered. */
  get size(): number {
    return this.#count;
  }

  /** Current capacity. */
  get capacity(): number {
    return this.#mask + 1;
  }

  /**
   * Records the packet sent with sequence number `seq`: its original is `id` in `cache`; it went out with timestamp
   * `timestamp`, PictureID `pictureId` and TL0PICIDX `tl0PicIdx` (-1: the packet has none). Once per sent packet.
   */
  record(seq: number, cache: SourcePacketCache, id: number, timestamp: number, pictureId: number, tl0PicIdx: number, nowMs: number): void {
    let slot = seq & this.#mask;
    const held = this.#seqs[slot] as number;
    if (held < 0) {
      this.#count++;
    } else if (held !== seq && nowMs - (this.#sentMs[slot] as number) < this.#maxAgeMs && this.#mask + 1 < this.#maxSize) {
      this.#grow();
      slot = seq & this.#mask;
      if ((this.#seqs[slot] as number) < 0) this.#count++;
    }
    this.#seqs[slot] = seq;
    this.#caches[slot] = cache;
    this.#ids[slot] = id;
    this.#timestamps[slot] = timestamp;
    this.#pictureIds[slot] = pictureId;
    this.#tl0PicIdxs[slot] = tl0PicIdx;
    this.#sentMs[slot] = nowMs;
    this.#resentMs[slot] = -Infinity;
  }

  /** The slot of `seq`, or -1 when it is not (or no longer) remembered. */
  find(seq: number): number {
    const slot = seq & this.#mask;
    return this.#seqs[slot] === (seq & 0xffff) ? slot : -1;
  }

  /** When the packet in `slot` was first sent. */
  sentAt(slot: number): number {
    return this.#sentMs[slot] ?? Number.NaN;
  }

  /**
   * Marks the packet in `slot` as retransmitted at `nowMs`, unless it was less than `minIntervalMs` ago (the
   * receiver NACKed again before our answer could arrive): false then.
   */
  markRetransmitted(slot: number, nowMs: number, minIntervalMs: number): boolean {
    if (nowMs - (this.#resentMs[slot] ?? -Infinity) < minIntervalMs) return false;
    this.#resentMs[slot] = nowMs;
    return true;
  }

  /**
   * Rebuilds in `into` the packet of `slot` as it was sent, before header-extension stripping: the original from the
   * source's cache with SSRC `ssrc` and the recorded sequence number, timestamp, PictureID and TL0PICIDX; the header
   * is parsed. False when the source no longer holds the original.
   */
  restore(slot: number, ssrc: number, into: PacketInfo): boolean {
    const cache = this.#caches[slot];
    if (cache === null || cache === undefined) return false;
    const len = cache.copy(this.#ids[slot] as number, into.buffer);
    if (len < 0) return false;
    into.length = len;
    if (into.parseRtp() !== RtpParseStatus.Ok) return false;
    const buf = into.buffer;
    const h = into.rtp;
    h.sequenceNumber = this.#seqs[slot] as number;
    h.timestamp = this.#timestamps[slot] as number;
    h.ssrc = ssrc >>> 0;
    buf.writeUInt16BE(h.sequenceNumber, 2);
    buf.writeUInt32BE(h.timestamp, 4);
    buf.writeUInt32BE(h.ssrc, 8);
    const pic = this.#pictureIds[slot] as number;
    if (pic >= 0) rewriteVp8PictureId(buf, h.payloadOffset, h.payloadLength, pic);
    const tl0 = this.#tl0PicIdxs[slot] as number;
    if (tl0 >= 0) rewriteVp8Tl0PicIdx(buf, h.payloadOffset, h.payloadLength, tl0);
    return true;
  }

  /** Forgets everything and goes back to the initial size (a paused or re-bound stream). */
  clear(): void {
    if (this.#mask + 1 !== this.#initialSize) {
      this.#resize(this.#initialSize);
    } else {
      this.#seqs.fill(-1);
      this.#caches.fill(null);
    }
    this.#count = 0;
  }

  #grow(): void {
    const oldSeqs = this.#seqs;
    const oldCaches = this.#caches;
    const oldIds = this.#ids;
    const oldTs = this.#timestamps;
    const oldPics = this.#pictureIds;
    const oldTl0 = this.#tl0PicIdxs;
    const oldSent = this.#sentMs;
    const oldResent = this.#resentMs;
    this.#resize((this.#mask + 1) * 2);
    const mask = this.#mask;
    // Distinct slots stay distinct: the new index keeps the old one's low bits.
    for (let i = 0; i < oldSeqs.length; i++) {
      const seq = oldSeqs[i] as number;
      if (seq < 0) continue;
      const s = seq & mask;
      this.#seqs[s] = seq;
      this.#caches[s] = oldCaches[i] ?? null;
      this.#ids[s] = oldIds[i] as number;
      this.#timestamps[s] = oldTs[i] as number;
      this.#pictureIds[s] = oldPics[i] as number;
      this.#tl0PicIdxs[s] = oldTl0[i] as number;
      this.#sentMs[s] = oldSent[i] as number;
      this.#resentMs[s] = oldResent[i] as number;
    }
  }

  #resize(size: number): void {
    this.#mask = size - 1;
    this.#seqs = new Int32Array(size).fill(-1);
    this.#caches = new Array<SourcePacketCache | null>(size).fill(null);
    this.#ids = new Uint32Array(size);
    this.#timestamps = new Uint32Array(size);
    this.#pictureIds = new Int16Array(size);
    this.#tl0PicIdxs = new Int16Array(size);
    this.#sentMs = new Float64Array(size);
    this.#resentMs = new Float64Array(size);
  }
}
