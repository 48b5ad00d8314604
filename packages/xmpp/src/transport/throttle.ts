/**
 * Token-bucket byte rate limiter for one connection. A transport asks `consume(bytes)` for every chunk it reads;
 * a non-zero answer is how long to stop reading (the peer is throttled, as Prosody's limits module does, not cut).
 */
export class ByteRateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  /** How many times this connection had to be paused. */
  throttled = 0;

  /** `now` must be monotonic (performance.now by default: a wall clock stepping back would drain the bucket). */
  constructor(bytesPerSecond: number, burstBytes: number, now: () => number = () => performance.now()) {
    this.#rate = bytesPerSecond;
    this.#burst = burstBytes;
    this.#now = now;
    this.#tokens = burstBytes;
    this.#last = now();
  }

  /** Take `bytes` from the bucket; returns 0, or the milliseconds to pause before reading more. */
  consume(bytes: number): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (Math.max(0, now - this.#last) * this.#rate) / 1000);
    this.#last = now;
    this.#tokens -= bytes;
    if (this.#tokens >= 0) return 0;
    this.throttled++;
    return Math.ceil((-this.#tokens * 1000) / this.#rate);
  }
}
