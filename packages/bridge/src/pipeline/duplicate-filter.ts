/**
 * Duplicate detection per incoming SSRC: a sliding window over extended sequence numbers. Chrome sends RTX
 * retransmissions of packets we already have as bandwidth probes; those (and network duplicates) must not reach
 * the VP8 parser or the receivers (PROTOCOL.md §7.4; JVB `RtpReceiverImpl`: padding termination → RTX → duplicate
 * termination → video parser).
 */
import { ExtendedSeqTracker } from '../rtp/seq.js';

/** Outcome of {@link SeqWindow.check}. */
export type SeqWindowResult = 'new' | 'duplicate' | 'too-old';

/** Seen-set of the last `size` sequence numbers of one stream (no allocation per packet). */
export class SeqWindow {
  readonly #tracker = new ExtendedSeqTracker();
  readonly #seen: Float64Array;
  readonly #mask: number;

  /** `size` is rounded up to a power of two (default 1024). */
  constructor(size = 1024) {
    let n = 1;
    while (n < size) n *= 2;
    this.#seen = new Float64Array(n).fill(-1);
    this.#mask = n - 1;
  }

  /** Records `seq` and says whether it is new, a duplicate, or older than the window (treated as unknown). */
  check(seq: number): SeqWindowResult {
    const highestBefore = this.#tracker.highest;
    const ext = this.#tracker.update(seq);
    if (highestBefore >= 0 && ext <= highestBefore - this.#seen.length) return 'too-old';
    const i = ext & this.#mask;
    if (this.#seen[i] === ext) return 'duplicate';
    this.#seen[i] = ext;
    return 'new';
  }

  /** Forgets the stream. */
  reset(): void {
    this.#tracker.reset();
    this.#seen.fill(-1);
  }
}
