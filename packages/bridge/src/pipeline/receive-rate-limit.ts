/**
 * Per-endpoint cap on the media an endpoint sends to the bridge (`bridge.limits.maxReceiveBitrateBps`): a token
 * bucket in bytes, checked for every decrypted RTP packet before it enters the receive pipeline. What exceeds it is
 * dropped as if lost on the way, so one endpoint flooding the bridge (a broken or hostile client sending far more
 * than any encoder does) cannot make the bridge forward its flood to every receiver. A browser's camera and screen
 * share together stay well below the default; its short bursts (key frames, bandwidth probes) fit the bucket
 * (`bridge.limits.receiveBurstMs` of traffic at the full rate).
 *
 * Per packet: a few float operations, nothing allocated.
 */

/** Token bucket of one endpoint's incoming media. */
export class ReceiveRateLimiter {
  /** Bytes per millisecond; 0 = no limit. */
  readonly #rate: number;
  /** Bucket size, bytes. */
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;
  /** Packets dropped because the bucket was empty. */
  droppedPackets = 0;
  /** Their bytes. */
  droppedBytes = 0;

  /** `bitsPerSecond` 0 turns the limit off. */
  constructor(bitsPerSecond: number, burstMs: number, nowMs: number) {
    this.#rate = bitsPerSecond > 0 ? bitsPerSecond / 8 / 1000 : 0;
    this.#burst = this.#rate * Math.max(1, burstMs);
    this.#tokens = this.#burst;
    this.#lastMs = nowMs;
  }

  /** True when the limit is on. */
  get enabled(): boolean {
    return this.#rate > 0;
  }

  /** Takes `bytes` arriving at `nowMs` from the bucket; false (and counted) when they do not fit: drop the packet. */
  allow(bytes: number, nowMs: number): boolean {
    if (this.#rate === 0) return true;
    const elapsed = nowMs - this.#lastMs;
    this.#lastMs = nowMs;
    let t = this.#tokens;
    if (elapsed > 0) {
      t += elapsed * this.#rate;
      if (t > this.#burst) t = this.#burst;
    }
    if (t < bytes) {
      this.#tokens = t;
      this.droppedPackets++;
      this.droppedBytes += bytes;
      return false;
    }
    this.#tokens = t - bytes;
    return true;
  }
}
