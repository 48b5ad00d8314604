/**
 * Retransmission cache of one outgoing stream: a ring of the last N forwarded packets indexed by their (munged)
 * sequence number, to answer the receiver's NACKs (RFC 4585 §6.2.1) without asking the sender.
 *
 * The cache takes ownership of the forwarded PacketInfo instead of copying it (the transport copies what it
 * encrypts), and releases the packet it evicts: one pool object per slot, no allocation per packet.
 *
 * References: PROTOCOL.md §7.4 (RTX towards receivers from the bridge's own cache); JVB `PacketCache` /
 * `RetransmissionSender`.
 */
import type { PacketInfo } from '../rtp/packet-info.js';
import type { PacketSink } from './node.js';

/** Ring buffer of recently sent packets by sequence number. */
export class PacketCache {
  readonly #slots: (PacketInfo | undefined)[];
  readonly #seqs: Int32Array;
  readonly #sentMs: Float64Array;
  readonly #resentMs: Float64Array;
  readonly #mask: number;
  readonly #release: PacketSink;
  #count = 0;

  /** `size` is rounded up to a power of two. `release` gets evicted packets. */
  constructor(size: number, release: PacketSink) {
    let n = 1;
    while (n < size) n *= 2;
    this.#slots = new Array<PacketInfo | undefined>(n).fill(undefined);
    this.#seqs = new Int32Array(n).fill(-1);
    this.#sentMs = new Float64Array(n);
    this.#resentMs = new Float64Array(n).fill(-Infinity);
    this.#mask = n - 1;
    this.#release = release;
  }

  /** Capacity. */
  get capacity(): number {
    return this.#mask + 1;
  }

  /** Packets currently held. */
  get size(): number {
    return this.#count;
  }

  /** Stores `p` (sent at `nowMs`) under its RTP sequence number; takes ownership. */
  insert(p: PacketInfo, nowMs: number): void {
    const seq = p.rtp.sequenceNumber;
    const i = seq & this.#mask;
    const old = this.#slots[i];
    if (old !== undefined) {
      if (old === p) return;
      this.#release(old);
    } else {
      this.#count++;
    }
    this.#slots[i] = p;
    this.#seqs[i] = seq;
    this.#sentMs[i] = nowMs;
    this.#resentMs[i] = -Infinity;
  }

  /** The packet sent with `seq`, if still cached. The cache keeps ownership. */
  get(seq: number): PacketInfo | undefined {
    const i = seq & this.#mask;
    return this.#seqs[i] === (seq & 0xffff) ? this.#slots[i] : undefined;
  }

  /**
   * Marks `seq` as retransmitted at `nowMs`, unless it was retransmitted less than `minIntervalMs` ago (the
   * receiver NACKed again before our answer could arrive). Returns false then, or when it isn't cached.
   */
  markRetransmitted(seq: number, nowMs: number, minIntervalMs: number): boolean {
    const i = seq & this.#mask;
    if (this.#seqs[i] !== (seq & 0xffff)) return false;
    if (nowMs - (this.#resentMs[i] ?? -Infinity) < minIntervalMs) return false;
    this.#resentMs[i] = nowMs;
    return true;
  }

  /** When `seq` was first sent, or NaN. */
  sentAt(seq: number): number {
    const i = seq & this.#mask;
    return this.#seqs[i] === (seq & 0xffff) ? (this.#sentMs[i] ?? Number.NaN) : Number.NaN;
  }

  /** Releases every packet. */
  clear(): void {
    for (let i = 0; i < this.#slots.length; i++) {
      const p = this.#slots[i];
      if (p !== undefined) this.#release(p);
      this.#slots[i] = undefined;
    }
    this.#seqs.fill(-1);
    this.#count = 0;
  }
}
