/**
 * 16-bit RTP sequence number and 32-bit RTP timestamp arithmetic with wraparound, and trackers
 * that extend them to monotonically growing numbers (cycles × 2^16 + seq).
 *
 * Everything here runs per packet: plain number arithmetic, no allocation.
 *
 * References:
 * - RFC 3550 §5.1 (sequence number, timestamp), Appendix A.1 (extended highest sequence number:
 *   cycles counter, MAX_DROPOUT / MAX_MISORDER): https://www.rfc-editor.org/rfc/rfc3550#appendix-A.1
 * - RFC 1982 (serial number arithmetic, the "newer than" comparison used below):
 *   https://www.rfc-editor.org/rfc/rfc1982
 */

/** Number of distinct 16-bit sequence numbers. */
export const SEQ_MODULUS = 0x1_0000;
/** Number of distinct 32-bit timestamps. */
export const TIMESTAMP_MODULUS = 0x1_0000_0000;

/**
 * Signed distance `a - b` between two 16-bit sequence numbers, in [-32768, 32767]
 * (positive when `a` is newer).
 */
export function seqDelta(a: number, b: number): number {
  return ((a - b) << 16) >> 16;
}

/** True when 16-bit sequence number `a` is newer than `b` (RFC 1982 serial arithmetic). */
export function isNewerSeq(a: number, b: number): boolean {
  const d = (a - b) & 0xffff;
  return d !== 0 && d < 0x8000;
}

/** True when `a` is newer than or equal to `b` (16-bit, with wraparound). */
export function isNewerOrEqualSeq(a: number, b: number): boolean {
  return ((a - b) & 0xffff) < 0x8000;
}

/** `seq + n` modulo 2^16 (n may be negative). */
export function addSeq(seq: number, n: number): number {
  return (seq + n) & 0xffff;
}

/**
 * Signed distance `a - b` between two 32-bit RTP timestamps, in [-2^31, 2^31 - 1]
 * (positive when `a` is newer).
 */
export function timestampDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** True when 32-bit RTP timestamp `a` is newer than `b` (RFC 1982 serial arithmetic). */
export function isNewerTimestamp(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x8000_0000;
}

/** `ts + n` modulo 2^32 (n may be negative). */
export function addTimestamp(ts: number, n: number): number {
  return (ts + n) >>> 0;
}

/**
 * Extends 16-bit sequence numbers of one stream to 48-bit-safe numbers (cycles × 2^16 + seq), as
 * RFC 3550 Appendix A.1's `cycles`/`max_seq`. One instance per SSRC; `update()` once per packet.
 *
 * Packets older than the highest seen (reordered across a wrap) get an extended number in the
 * previous cycle without changing the state. Unlike A.1 there is no probation or resync on large
 * jumps: a jump forward by < 2^15 is taken as newer, anything else as older (serial arithmetic),
 * which is what SRTP's index estimation (RFC 3711 §3.3.1) also does.
 */
export class ExtendedSeqTracker {
  #started = false;
  #highest = 0;

  /** Highest extended sequence number seen, or -1 before the first packet. */
  get highest(): number {
    return this.#started ? this.#highest : -1;
  }

  /** Number of completed 2^16 cycles at the highest sequence number (RFC 3550 `cycles`). */
  get cycles(): number {
    return Math.floor(this.#highest / SEQ_MODULUS);
  }

  /**
   * Records `seq` and returns its extended value. Called once per packet.
   * Extended numbers can be negative for packets from before the first one across a wrap
   * (e.g. first 2, then 65535 → -1); the highest value never goes below the first packet's.
   */
  update(seq: number): number {
    if (!this.#started) {
      this.#started = true;
      this.#highest = seq & 0xffff;
      return this.#highest;
    }
    const highest = this.#highest;
    const ext = highest + seqDelta(seq, highest & 0xffff);
    if (ext > highest) this.#highest = ext;
    return ext;
  }

  /** Extended value `seq` would get, without recording it. */
  peek(seq: number): number {
    if (!this.#started) return seq & 0xffff;
    return this.#highest + seqDelta(seq, this.#highest & 0xffff);
  }

  /** Forgets the stream (next packet starts a new one). */
  reset(): void {
    this.#started = false;
    this.#highest = 0;
  }
}

/**
 * Extends 32-bit RTP timestamps of one stream to a monotonic number space (wraps × 2^32 + ts),
 * like libwebrtc's `TimestampUnwrapper`. One instance per SSRC; `update()` once per packet.
 */
export class TimestampUnwrapper {
  #last = Number.NaN;

  /** Last unwrapped value, or NaN before the first timestamp. */
  get last(): number {
    return this.#last;
  }

  /** Unwraps `ts` relative to the previous timestamp (both directions) and records it. */
  update(ts: number): number {
    const last = this.#last;
    const unwrapped = Number.isNaN(last) ? ts >>> 0 : last + timestampDelta(ts, last);
    this.#last = unwrapped;
    return unwrapped;
  }

  /** Forgets the stream. */
  reset(): void {
    this.#last = Number.NaN;
  }
}
