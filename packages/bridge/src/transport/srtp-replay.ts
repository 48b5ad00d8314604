/**
 * SRTP/SRTCP replay protection and rollover-counter estimation.
 *
 * References:
 * - RFC 3711 §3.3.1 (packet index = 2^16 · ROC + SEQ; estimating ROC from the highest received
 *   s_l), Appendix A (the estimation pseudo-code): https://www.rfc-editor.org/rfc/rfc3711#section-3.3.1
 * - RFC 3711 §3.3.2 (replay list as a sliding window, at least 64 packets), §3.4 (SRTCP index):
 *   https://www.rfc-editor.org/rfc/rfc3711#section-3.3.2
 */

/** Default replay window in packets (libwebrtc uses 1024 for SRTP; RFC 3711 requires ≥ 64). */
export const DEFAULT_REPLAY_WINDOW_SIZE = 1024;
/** Largest replay window supported (must divide 2^16, see {@link ReplayWindow}). */
export const MAX_REPLAY_WINDOW_SIZE = 0x8000;

/** Result of {@link ReplayWindow.check}. */
export const ReplayCheck = {
  /** Not seen before and inside (or ahead of) the window. */
  Ok: 0,
  /** Seen before. */
  Replayed: 1,
  /** Older than the window: can't tell, so rejected (RFC 3711 §3.3.2). */
  TooOld: 2,
} as const;
/** One of the {@link ReplayCheck} values. */
export type ReplayCheck = (typeof ReplayCheck)[keyof typeof ReplayCheck];

/**
 * Sliding replay window over packet indices (48-bit SRTP or 31-bit SRTCP), as a ring of bits:
 * index i lives at bit `i mod size`. Because size is a power of two ≤ 2^15, `i & (size - 1)` is
 * that bit even for indices beyond 2^32 or below 0 (ToInt32 keeps the low 32 bits).
 * check() then accept() once per authenticated packet; no allocation.
 */
export class ReplayWindow {
  /** Window size in packets. */
  readonly size: number;
  readonly #mask: number;
  readonly #bits: Uint32Array;
  #highest = 0;
  #empty = true;

  constructor(size: number = DEFAULT_REPLAY_WINDOW_SIZE) {
    if (!Number.isInteger(size) || size < 64 || size > MAX_REPLAY_WINDOW_SIZE || (size & (size - 1)) !== 0) {
      throw new TypeError(`replay window size must be a power of two in [64, ${MAX_REPLAY_WINDOW_SIZE}]`);
    }
    this.size = size;
    this.#mask = size - 1;
    this.#bits = new Uint32Array(size >> 5);
  }

  /** Highest index accepted so far (meaningless while empty). */
  get highest(): number {
    return this.#highest;
  }

  /** Whether `index` may be accepted (does not record it). */
  check(index: number): ReplayCheck {
    if (this.#empty || index > this.#highest) return ReplayCheck.Ok;
    if (this.#highest - index >= this.size) return ReplayCheck.TooOld;
    const bit = index & this.#mask;
    return (this.#bits[bit >> 5] as number) & (1 << (bit & 31)) ? ReplayCheck.Replayed : ReplayCheck.Ok;
  }

  /** Records `index` as received (call after authentication succeeded). */
  accept(index: number): void {
    const bits = this.#bits;
    if (this.#empty) {
      this.#empty = false;
      this.#highest = index;
    } else if (index > this.#highest) {
      const delta = index - this.#highest;
      if (delta >= this.size) {
        bits.fill(0);
      } else {
        // Clear the slots of the indices skipped over (they wrap onto old, now out-of-window bits).
        for (let i = this.#highest + 1; i < index; i++) {
          const b = i & this.#mask;
          bits[b >> 5] = (bits[b >> 5] as number) & ~(1 << (b & 31));
        }
      }
      this.#highest = index;
    } else if (this.#highest - index >= this.size) {
      return;
    }
    const bit = index & this.#mask;
    bits[bit >> 5] = (bits[bit >> 5] as number) | (1 << (bit & 31));
  }
}

/**
 * RFC 3711 Appendix A: the ROC guess `v` for sequence number `seq` given the stream's current
 * `roc` and highest sequence number `sl`. May return `roc - 1` (a late packet from before the last
 * wrap; -1 when roc is 0, which libsrtp turns into ROC 0xFFFFFFFF on the wire: use `v >>> 0`).
 */
export function estimateRoc(roc: number, sl: number, seq: number): number {
  if (sl < 0x8000) return seq - sl > 0x8000 ? roc - 1 : roc;
  return sl - 0x8000 > seq ? roc + 1 : roc;
}
