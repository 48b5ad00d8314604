/**
 * Retransmission requests towards a sender: the sequence numbers missing in one incoming video stream, to ask for
 * with generic NACK (RFC 4585 §6.2.1) so the sender repairs them with RTX (RFC 4588) before they reach receivers.
 * Without it, loss between a sender and the bridge reaches every receiver and can only end in a key frame request:
 * the bridge's NACK cache holds only what it forwarded.
 *
 * One instance per incoming video media SSRC (JVB `RetransmissionRequester`, libwebrtc `NackRequester`):
 * - {@link NackRequester.onPacket} once per packet that got past duplicate termination (originals and unwrapped RTX):
 *   a jump over the next expected number marks the skipped ones missing; a packet at or below the highest (late,
 *   reordered, or the retransmission) clears its number;
 * - {@link NackRequester.collect} returns the numbers due for a request: new ones at once, then again every
 *   `retryMs` (the caller passes about one RTT), at most {@link NACK_MAX_TRIES} times and for at most
 *   {@link NACK_MAX_AGE_MS}; after that the receivers need a key frame anyway.
 *
 * A jump of more than {@link NACK_MAX_GAP} numbers is a sender restart or a resumed layer, not loss: nothing is
 * requested. Fixed typed arrays, nothing allocated per packet.
 */
import { seqDelta } from '../rtp/seq.js';

/** Most sequence numbers waiting for a retransmission per stream; the oldest give way. */
export const NACK_PENDING_MAX = 128;
/** A forward jump skipping more numbers than this is not loss (restart, resumed layer). */
export const NACK_MAX_GAP = 100;
/** Requests per missing packet. */
export const NACK_MAX_TRIES = 10;
/** A packet missing for longer than this is given up (ms; the bridge's own NACK cache answers for 1 s too). */
export const NACK_MAX_AGE_MS = 1000;

/** Missing sequence numbers of one incoming stream. See the module comment. */
export class NackRequester {
  readonly #seqs = new Uint16Array(NACK_PENDING_MAX);
  readonly #missingSince = new Float64Array(NACK_PENDING_MAX);
  readonly #lastRequest = new Float64Array(NACK_PENDING_MAX);
  readonly #tries = new Uint8Array(NACK_PENDING_MAX);
  #count = 0;
  #highest = -1;
  /** Sequence numbers found missing. */
  missing = 0;
  /** Of those, how many arrived afterwards (late or retransmitted) while still pending. */
  recovered = 0;
  /** Requests sent (a number requested twice counts twice). */
  requests = 0;

  /** Sequence numbers currently waiting. */
  get pending(): number {
    return this.#count;
  }

  /** Records a packet's sequence number; returns how many numbers it showed missing (0 normally). */
  onPacket(seq: number, nowMs: number): number {
    const highest = this.#highest;
    if (highest < 0) {
      this.#highest = seq & 0xffff;
      return 0;
    }
    const d = seqDelta(seq, highest);
    if (d === 1) {
      this.#highest = seq & 0xffff;
      return 0;
    }
    if (d <= 0) {
      if (this.#count > 0 && this.#remove(seq & 0xffff)) this.recovered++;
      return 0;
    }
    this.#highest = seq & 0xffff;
    const skipped = d - 1;
    if (skipped > NACK_MAX_GAP) {
      this.#count = 0;
      return 0;
    }
    for (let k = 1; k <= skipped; k++) this.#add((highest + k) & 0xffff, nowMs);
    this.missing += skipped;
    return skipped;
  }

  /**
   * Writes the sequence numbers due for a request now into `out` (increasing, wrap-aware order) and records the
   * request; drops the ones that are too old or were asked for often enough. Returns how many were written.
   */
  collect(nowMs: number, retryMs: number, out: Uint16Array): number {
    let n = 0;
    let w = 0;
    for (let r = 0; r < this.#count; r++) {
      const tries = this.#tries[r] as number;
      const since = this.#missingSince[r] as number;
      if (tries >= NACK_MAX_TRIES || nowMs - since > NACK_MAX_AGE_MS) continue; // given up: not kept
      const seq = this.#seqs[r] as number;
      let last = this.#lastRequest[r] as number;
      let t = tries;
      if (n < out.length && nowMs - last >= retryMs) {
        out[n++] = seq;
        last = nowMs;
        t++;
        this.requests++;
      }
      this.#seqs[w] = seq;
      this.#missingSince[w] = since;
      this.#lastRequest[w] = last;
      this.#tries[w] = t;
      w++;
    }
    this.#count = w;
    return n;
  }

  /** Forgets the stream. */
  reset(): void {
    this.#count = 0;
    this.#highest = -1;
  }

  #add(seq: number, nowMs: number): void {
    if (this.#count === NACK_PENDING_MAX) {
      this.#seqs.copyWithin(0, 1);
      this.#missingSince.copyWithin(0, 1);
      this.#lastRequest.copyWithin(0, 1);
      this.#tries.copyWithin(0, 1);
      this.#count--;
    }
    const i = this.#count++;
    this.#seqs[i] = seq;
    this.#missingSince[i] = nowMs;
    this.#lastRequest[i] = -Infinity;
    this.#tries[i] = 0;
  }

  #remove(seq: number): boolean {
    const n = this.#count;
    for (let i = 0; i < n; i++) {
      if (this.#seqs[i] !== seq) continue;
      this.#seqs.copyWithin(i, i + 1, n);
      this.#missingSince.copyWithin(i, i + 1, n);
      this.#lastRequest.copyWithin(i, i + 1, n);
      this.#tries.copyWithin(i, i + 1, n);
      this.#count--;
      return true;
    }
    return false;
  }
}
