/**
 * Transport-wide congestion control bookkeeping, both legs:
 * - {@link TccRecorder} (towards a sender): remembers the arrival time of every transport-wide sequence number the
 *   sender stamped, and periodically turns them into a transport-cc feedback packet. Chrome's send-side bandwidth
 *   estimate depends on it when transport-cc is negotiated (PROTOCOL.md §7.6).
 * - {@link TccSendHistory} (towards a receiver): the bridge re-stamps forwarded packets with its own per-receiver
 *   transport-wide sequence numbers and remembers when it sent each; the receiver's feedback then feeds the
 *   receiver's {@link BandwidthEstimator}.
 *
 * References: draft-holmer-rmcat-transport-wide-cc-extensions-01 §2, §3.1; JVB `TccGeneratorNode`,
 * `TransportCcEngine`.
 */
import type { BandwidthEstimator } from '../cc/estimator.js';
import type { TransportCcFeedback } from '../rtp/rtcp.js';
import { ExtendedSeqTracker } from '../rtp/seq.js';

/** Receive side: arrival times by transport-wide sequence number, and feedback generation. */
export class TccRecorder {
  readonly #tracker = new ExtendedSeqTracker();
  readonly #arrivalUs: Float64Array;
  readonly #keys: Float64Array;
  readonly #mask: number;
  /** Next extended sequence number to report; -1 before any packet. */
  #next = -1;
  #fbCount = 0;

  /** `size` (rounded up to a power of two) bounds how many packets one feedback can cover. Default 2048. */
  constructor(size = 2048) {
    let n = 1;
    while (n < size) n *= 2;
    this.#arrivalUs = new Float64Array(n);
    this.#keys = new Float64Array(n).fill(-1);
    this.#mask = n - 1;
  }

  /** Records packet `seq` (16-bit) arriving at `arrivalUs`. Once per packet carrying the extension. */
  record(seq: number, arrivalUs: number): void {
    const ext = this.#tracker.update(seq);
    if (ext < 0) return;
    if (this.#next < 0) this.#next = ext;
    if (ext < this.#next) return; // already reported
    const i = ext & this.#mask;
    this.#keys[i] = ext;
    this.#arrivalUs[i] = arrivalUs;
  }

  /** True when something is waiting to be reported. */
  get pending(): boolean {
    return this.#next >= 0 && this.#tracker.highest >= this.#next;
  }

  /**
   * Fills `fb` with the packets from the last reported one up to the highest received (at most the window, at
   * most what fits the 16-bit delta range) and advances. False when there is nothing to report.
   */
  buildFeedback(fb: TransportCcFeedback, senderSsrc: number, mediaSsrc: number): boolean {
    if (!this.pending) return false;
    const highest = this.#tracker.highest;
    const size = this.#mask + 1;
    if (highest - this.#next >= size) this.#next = highest - size + 1;
    // The first packet must have arrived: start at the first received one.
    let start = this.#next;
    while (start <= highest && this.#keys[start & this.#mask] !== start) start++;
    if (start > highest) {
      this.#next = highest + 1;
      return false;
    }
    const firstUs = this.#arrivalUs[start & this.#mask] ?? 0;
    fb.reset(senderSsrc, mediaSsrc, start & 0xffff, firstUs, this.#fbCount);
    let s = start;
    for (; s <= highest; s++) {
      const i = s & this.#mask;
      if (this.#keys[i] === s) {
        if (!fb.addReceived(this.#arrivalUs[i] ?? 0)) break;
      } else if (!fb.addNotReceived()) {
        break;
      }
    }
    this.#next = s;
    this.#fbCount = (this.#fbCount + 1) & 0xff;
    return fb.statusCount > 0;
  }
}

/** Send side: per-receiver transport-wide sequence numbers and what was sent with each. */
export class TccSendHistory {
  readonly #sendMs: Float64Array;
  readonly #size: Uint16Array;
  readonly #keys: Int32Array;
  readonly #mask: number;
  #nextSeq = 0;
  #feedbacks = 0;

  /** `size` is rounded up to a power of two (default 4096 packets). */
  constructor(size = 4096) {
    let n = 1;
    while (n < size) n *= 2;
    this.#sendMs = new Float64Array(n);
    this.#size = new Uint16Array(n);
    this.#keys = new Int32Array(n).fill(-1);
    this.#mask = n - 1;
  }

  /** The sequence number the next packet gets (16-bit). */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Feedback packets applied. */
  get feedbacks(): number {
    return this.#feedbacks;
  }

  /** Allocates the next sequence number for a packet of `bytes` sent at `nowMs`. */
  onSent(nowMs: number, bytes: number): number {
    const seq = this.#nextSeq;
    this.#nextSeq = (seq + 1) & 0xffff;
    const i = seq & this.#mask;
    this.#keys[i] = seq;
    this.#sendMs[i] = nowMs;
    this.#size[i] = Math.min(0xffff, bytes);
    return seq;
  }

  /**
   * Feeds a parsed transport-cc feedback (from the receiver) into `estimator`: one result per packet we still
   * know, in sequence order, then `onFeedback(nowMs)`. Returns the new estimate.
   */
  applyFeedback(fb: TransportCcFeedback, estimator: BandwidthEstimator, nowMs: number): number {
    this.#feedbacks++;
    for (let k = 0; k < fb.statusCount; k++) {
      const seq = (fb.baseSeq + k) & 0xffff;
      const i = seq & this.#mask;
      if (this.#keys[i] !== seq) continue;
      const arrivalUs = fb.arrivalTimeUs[k] ?? Number.NaN;
      estimator.onPacketResult(this.#sendMs[i] ?? 0, Number.isNaN(arrivalUs) ? Number.NaN : arrivalUs / 1000, this.#size[i] ?? 0);
    }
    return estimator.onFeedback(nowMs);
  }
}

