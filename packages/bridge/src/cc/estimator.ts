/**
 * Bandwidth estimate of the bridge → receiver path, from the receiver's feedback. A pure class: it is fed what
 * the feedback says, with times passed in, and never looks at a clock.
 *
 * How it behaves (this text is the specification; the README quotes it):
 *
 * Inputs.
 * - Transport-cc feedback: for each packet the bridge sent, in send order, {@link BandwidthEstimator.onPacketResult}
 *   with its send time (bridge clock, ms), its arrival time (receiver clock, ms; any offset; negative or NaN =
 *   reported lost) and its size; then {@link BandwidthEstimator.onFeedback} once per feedback message.
 * - Loss fractions from RTCP receiver reports (0..1): {@link BandwidthEstimator.onLossReport}.
 * - REMB: {@link BandwidthEstimator.fromRemb} makes the estimate exactly the REMB value (clamped to the
 *   min/max), lifting the loss-based bound; later reports continue from there.
 *
 * Delay-based part (draft-ietf-rmcat-gcc-02 §5, with libwebrtc's trendline filter in place of the draft's Kalman
 * filter):
 * 1. Packets sent within 5 ms of the first packet of a group form one group (a pacer burst). When a group is
 *    complete, the inter-group delay variation is d = (arrival delta) − (send delta) between the last packets of
 *    this group and the previous one. Packets sent out of order are ignored for delay, and a negative arrival
 *    delta (reordering) is skipped; an arrival gap over 3 s (a pause) restarts the filter.
 * 2. Trendline: the accumulated delay Σd is exponentially smoothed (coefficient 0.9); a least-squares slope of
 *    the smoothed delay against arrival time over the last 20 groups is the trend. The modified trend is
 *    trend × min(groups seen, 60) × 4 (the gain), in ms.
 * 3. Overuse detector with adaptive threshold γ (initially 12.5 ms, kept within [6, 600] ms): modified trend > γ
 *    for more than 10 ms of send time, over at least two groups and not falling → *overusing*; < −γ →
 *    *underusing*; otherwise *normal*. γ follows |trend| with gain 0.0087/ms when |trend| > γ and 0.039/ms when
 *    below (the libwebrtc values that go with the trendline; the draft's 0.01/0.00018 are for the Kalman
 *    estimate), time step at most 100 ms, and is not moved by outliers more than 15 ms above it.
 * 4. AIMD rate control, run at each {@link BandwidthEstimator.onFeedback} with R = the acknowledged receive rate
 *    (bytes that arrived over the last 500 ms of arrival time): overusing → *decrease* to 0.85 × R (never
 *    upwards, at most once per RTT — 100 ms + the RTT given to {@link BandwidthEstimator.setRtt}, default RTT
 *    100 ms), then *hold*; underusing → *hold*; normal → *increase*. While the link capacity is unknown the
 *    increase is multiplicative, ×1.08 per second; once decreases have measured it (an exponential average of R
 *    at decreases, ±3 standard deviations) it is additive, about one packet (1200 bytes) per response time
 *    (RTT + 100 ms), at least 4 kbps per second; R above the upper bound forgets the capacity. An increase never
 *    goes above 1.5 × R + 10 kbps (but does not lower an estimate that is already higher), so an
 *    application-limited sender cannot inflate the estimate.
 *
 * Loss-based part (draft-ietf-rmcat-gcc-02 §6): loss fractions come from {@link BandwidthEstimator.onLossReport},
 * or from transport-cc, aggregated over 1 s windows of feedback time. Loss > 10 % → the loss bound becomes
 * (current estimate) × (1 − 0.5 × loss); 2–10 % → the bound is held at the current estimate; < 2 % → the bound
 * grows 5 % per report and is lifted entirely once it exceeds the delay-based estimate. Without losses there is
 * no loss bound at all.
 *
 * Output: {@link BandwidthEstimator.estimateBps} = min(delay-based, loss bound), clamped to
 * [{@link BandwidthEstimatorOptions.minBitrateBps}, {@link BandwidthEstimatorOptions.maxBitrateBps}]; it starts at
 * {@link BandwidthEstimatorOptions.startBitrateBps}.
 *
 * Not done here: probing (padding/RTX to discover capacity above what is being sent), and pushback from the pacer.
 *
 * References: draft-ietf-rmcat-gcc-02 (https://datatracker.ietf.org/doc/html/draft-ietf-rmcat-gcc-02) §5.2–5.5,
 * §6; draft-holmer-rmcat-transport-wide-cc-extensions-01; PROTOCOL.md §7.6.
 */

import { BitrateTracker } from './layers.js';

/** Overuse detector state. */
export type BandwidthUsage = 'normal' | 'overusing' | 'underusing';

/** Rate controller state. */
export type RateControlState = 'hold' | 'increase' | 'decrease';

/** Options of a {@link BandwidthEstimator}. */
export interface BandwidthEstimatorOptions {
  /** Initial estimate. Default 1 Mbps. */
  startBitrateBps?: number;
  /** Lower clamp. Default 30 kbps. */
  minBitrateBps?: number;
  /** Upper clamp. Default 20 Mbps. */
  maxBitrateBps?: number;
}

/** A debug snapshot. */
export interface BandwidthEstimatorState {
  /** The estimate. */
  readonly estimateBps: number;
  /** Delay-based estimate. */
  readonly delayBasedBps: number;
  /** Loss bound, Infinity when none. */
  readonly lossBasedBps: number;
  /** Acknowledged receive rate R. */
  readonly ackedBps: number;
  /** Detector state. */
  readonly usage: BandwidthUsage;
  /** Rate control state. */
  readonly rateControl: RateControlState;
  /** Current modified trend (ms). */
  readonly trendMs: number;
  /** Current adaptive threshold γ (ms). */
  readonly thresholdMs: number;
  /** Estimated link capacity, NaN when unknown. */
  readonly linkCapacityBps: number;
}

const BURST_MS = 5;
const WINDOW = 20;
const SMOOTHING = 0.9;
const GAIN = 4;
const MAX_DELTAS = 60;
const INITIAL_THRESHOLD_MS = 12.5;
const OVERUSE_TIME_MS = 10;
const K_UP = 0.0087;
const K_DOWN = 0.039;
const MAX_ADAPT_OFFSET_MS = 15;
const BETA = 0.85;
const PAUSE_RESET_MS = 3000;
const LOSS_WINDOW_MS = 1000;
const PACKET_BITS = 1200 * 8;

/** GCC-style receive-feedback bandwidth estimator for one receiver. See the module comment. */
export class BandwidthEstimator {
  readonly #min: number;
  readonly #max: number;

  // Packet grouping.
  #groupFirstSend = Number.NaN;
  #groupLastSend = 0;
  #groupLastArrival = 0;
  #prevLastSend = Number.NaN;
  #prevLastArrival = 0;

  // Trendline.
  readonly #xs = new Float64Array(WINDOW);
  readonly #ys = new Float64Array(WINDOW);
  #count = 0;
  #head = 0;
  #firstArrival = Number.NaN;
  #accumulated = 0;
  #smoothed = 0;
  #deltas = 0;
  #trend = 0;
  #modifiedTrend = 0;

  // Detector.
  #threshold = INITIAL_THRESHOLD_MS;
  #lastThresholdUpdate = Number.NaN;
  #timeOverUsing = -1;
  #overuseCounter = 0;
  #prevModifiedTrend = 0;
  #usage: BandwidthUsage = 'normal';

  // Rate control.
  #delayBased: number;
  #state: RateControlState = 'hold';
  #lastUpdateMs = Number.NaN;
  #lastDecreaseMs = -Infinity;
  #rttMs = 100;
  #capacityKbps = Number.NaN;
  #capacityVar = 0.4;
  readonly #acked = new BitrateTracker({ windowMs: 500, bucketMs: 50 });
  #lastArrival = Number.NaN;

  // Loss.
  #lossBound = Infinity;
  #lossWindowStart = Number.NaN;
  #lossLost = 0;
  #lossTotal = 0;

  constructor(options: BandwidthEstimatorOptions = {}) {
    this.#min = options.minBitrateBps ?? 30_000;
    this.#max = options.maxBitrateBps ?? 20_000_000;
    this.#delayBased = this.#clamp(options.startBitrateBps ?? 1_000_000);
  }

  /** The current estimate (bps). */
  get estimateBps(): number {
    return this.#clamp(Math.min(this.#delayBased, this.#lossBound));
  }

  /** The overuse detector's current state. */
  get usage(): BandwidthUsage {
    return this.#usage;
  }

  /** Sets the round-trip time used for the decrease interval and the additive increase. */
  setRtt(rttMs: number): void {
    if (Number.isFinite(rttMs) && rttMs >= 0) this.#rttMs = rttMs;
  }

  /**
   * One packet of a transport-cc feedback, in send order: send time (ms, bridge clock), arrival time (ms,
   * receiver clock; negative or NaN = lost), size in bytes. Once per reported packet.
   */
  onPacketResult(sendTimeMs: number, arrivalTimeMs: number, sizeBytes: number): void {
    this.#lossTotal++;
    if (!(arrivalTimeMs >= 0)) {
      this.#lossLost++;
      return;
    }
    this.#acked.update(arrivalTimeMs, sizeBytes);
    if (Number.isNaN(this.#lastArrival) || arrivalTimeMs > this.#lastArrival) this.#lastArrival = arrivalTimeMs;

    if (Number.isNaN(this.#groupFirstSend)) {
      this.#startGroup(sendTimeMs, arrivalTimeMs);
      return;
    }
    if (sendTimeMs < this.#groupFirstSend) return; // sent out of order: no delay information
    if (sendTimeMs - this.#groupFirstSend <= BURST_MS) {
      if (sendTimeMs > this.#groupLastSend) this.#groupLastSend = sendTimeMs;
      if (arrivalTimeMs > this.#groupLastArrival) this.#groupLastArrival = arrivalTimeMs;
      return;
    }
    // The current group is complete.
    if (!Number.isNaN(this.#prevLastSend)) {
      const sendDelta = this.#groupLastSend - this.#prevLastSend;
      const arrivalDelta = this.#groupLastArrival - this.#prevLastArrival;
      if (arrivalDelta > PAUSE_RESET_MS) {
        this.#resetTrendline();
      } else if (arrivalDelta >= 0) {
        this.#onDelta(arrivalDelta - sendDelta, sendDelta, this.#groupLastArrival);
      }
    }
    this.#prevLastSend = this.#groupLastSend;
    this.#prevLastArrival = this.#groupLastArrival;
    this.#startGroup(sendTimeMs, arrivalTimeMs);
  }

  /** End of one feedback message, received at `nowMs` (bridge clock): runs rate control. Returns the estimate. */
  onFeedback(nowMs: number): number {
    if (Number.isNaN(this.#lossWindowStart)) this.#lossWindowStart = nowMs;
    if (nowMs - this.#lossWindowStart >= LOSS_WINDOW_MS && this.#lossTotal > 0) {
      this.#applyLoss(this.#lossLost / this.#lossTotal);
      this.#lossLost = 0;
      this.#lossTotal = 0;
      this.#lossWindowStart = nowMs;
    }
    this.#rateControl(nowMs);
    return this.estimateBps;
  }

  /** A loss fraction (0..1) from an RTCP receiver report. Returns the estimate. */
  onLossReport(fractionLost: number, _nowMs: number): number {
    if (Number.isFinite(fractionLost)) this.#applyLoss(Math.min(1, Math.max(0, fractionLost)));
    return this.estimateBps;
  }

  /** The receiver's REMB: the estimate becomes exactly `bps` (clamped). Returns the estimate. */
  fromRemb(bps: number, nowMs: number): number {
    if (!Number.isFinite(bps) || bps < 0) return this.estimateBps;
    this.#delayBased = this.#clamp(bps);
    this.#lossBound = Infinity;
    this.#state = 'hold';
    this.#lastUpdateMs = nowMs;
    return this.estimateBps;
  }

  /** Debug snapshot. */
  state(): BandwidthEstimatorState {
    return {
      estimateBps: this.estimateBps,
      delayBasedBps: this.#delayBased,
      lossBasedBps: this.#lossBound,
      ackedBps: this.#ackedBps(),
      usage: this.#usage,
      rateControl: this.#state,
      trendMs: this.#modifiedTrend,
      thresholdMs: this.#threshold,
      linkCapacityBps: this.#capacityKbps * 1000,
    };
  }

  #clamp(bps: number): number {
    return Math.min(this.#max, Math.max(this.#min, bps));
  }

  #ackedBps(): number {
    return Number.isNaN(this.#lastArrival) ? 0 : this.#acked.bitrateBps(this.#lastArrival);
  }

  #startGroup(send: number, arrival: number): void {
    this.#groupFirstSend = send;
    this.#groupLastSend = send;
    this.#groupLastArrival = arrival;
  }

  #resetTrendline(): void {
    this.#count = 0;
    this.#head = 0;
    this.#firstArrival = Number.NaN;
    this.#accumulated = 0;
    this.#smoothed = 0;
    this.#deltas = 0;
    this.#trend = 0;
    this.#modifiedTrend = 0;
    this.#timeOverUsing = -1;
    this.#overuseCounter = 0;
    this.#usage = 'normal';
  }

  /** Trendline update (step 2) then detection (step 3). Once per completed packet group. */
  #onDelta(delayVariationMs: number, sendDeltaMs: number, arrivalMs: number): void {
    this.#deltas = Math.min(this.#deltas + 1, 1000);
    if (Number.isNaN(this.#firstArrival)) this.#firstArrival = arrivalMs;
    this.#accumulated += delayVariationMs;
    this.#smoothed = SMOOTHING * this.#smoothed + (1 - SMOOTHING) * this.#accumulated;
    this.#xs[this.#head] = arrivalMs - this.#firstArrival;
    this.#ys[this.#head] = this.#smoothed;
    this.#head = (this.#head + 1) % WINDOW;
    if (this.#count < WINDOW) this.#count++;
    if (this.#count === WINDOW) {
      let mx = 0;
      let my = 0;
      for (let i = 0; i < WINDOW; i++) {
        mx += this.#xs[i] ?? 0;
        my += this.#ys[i] ?? 0;
      }
      mx /= WINDOW;
      my /= WINDOW;
      let num = 0;
      let den = 0;
      for (let i = 0; i < WINDOW; i++) {
        const dx = (this.#xs[i] ?? 0) - mx;
        num += dx * ((this.#ys[i] ?? 0) - my);
        den += dx * dx;
      }
      if (den > 0) this.#trend = num / den;
    }
    this.#modifiedTrend = Math.min(this.#deltas, MAX_DELTAS) * this.#trend * GAIN;
    this.#detect(sendDeltaMs, arrivalMs);
  }

  #detect(sendDeltaMs: number, nowMs: number): void {
    const m = this.#modifiedTrend;
    if (this.#deltas < 2) {
      this.#usage = 'normal';
    } else if (m > this.#threshold) {
      this.#timeOverUsing = this.#timeOverUsing < 0 ? sendDeltaMs / 2 : this.#timeOverUsing + sendDeltaMs;
      this.#overuseCounter++;
      if (this.#timeOverUsing > OVERUSE_TIME_MS && this.#overuseCounter > 1 && m >= this.#prevModifiedTrend) {
        this.#timeOverUsing = 0;
        this.#overuseCounter = 0;
        this.#usage = 'overusing';
      }
    } else if (m < -this.#threshold) {
      this.#timeOverUsing = -1;
      this.#overuseCounter = 0;
      this.#usage = 'underusing';
    } else {
      this.#timeOverUsing = -1;
      this.#overuseCounter = 0;
      this.#usage = 'normal';
    }
    this.#prevModifiedTrend = m;
    this.#adaptThreshold(m, nowMs);
  }

  #adaptThreshold(m: number, nowMs: number): void {
    if (Number.isNaN(this.#lastThresholdUpdate)) this.#lastThresholdUpdate = nowMs;
    const abs = Math.abs(m);
    if (abs > this.#threshold + MAX_ADAPT_OFFSET_MS) {
      this.#lastThresholdUpdate = nowMs;
      return;
    }
    const k = abs < this.#threshold ? K_DOWN : K_UP;
    const dt = Math.min(Math.max(0, nowMs - this.#lastThresholdUpdate), 100);
    this.#threshold += k * (abs - this.#threshold) * dt;
    this.#threshold = Math.min(600, Math.max(6, this.#threshold));
    this.#lastThresholdUpdate = nowMs;
  }

  /** Step 4: AIMD, once per feedback. */
  #rateControl(nowMs: number): void {
    const r = this.#ackedBps();
    switch (this.#usage) {
      case 'overusing':
        this.#state = 'decrease';
        break;
      case 'underusing':
        this.#state = 'hold';
        break;
      case 'normal':
        if (this.#state === 'hold' || this.#state === 'decrease') this.#state = 'increase';
        break;
    }
    const dtMs = Number.isNaN(this.#lastUpdateMs) ? 0 : Math.min(1000, Math.max(0, nowMs - this.#lastUpdateMs));
    this.#lastUpdateMs = nowMs;
    const current = this.#delayBased;
    if (this.#state === 'increase') {
      const rKbps = r / 1000;
      if (!Number.isNaN(this.#capacityKbps) && rKbps > this.#capacityKbps + 3 * this.#capacityDeviation()) {
        this.#capacityKbps = Number.NaN;
      }
      let next: number;
      if (Number.isNaN(this.#capacityKbps)) {
        next = current * 1.08 ** (dtMs / 1000);
      } else {
        const responseMs = this.#rttMs + 100;
        const perSecond = Math.max(4000, (PACKET_BITS * 1000) / responseMs);
        next = current + (perSecond * dtMs) / 1000;
      }
      const cap = 1.5 * r + 10_000;
      if (r > 0 && next > cap) next = Math.max(current, cap);
      this.#delayBased = this.#clamp(next);
    } else if (this.#state === 'decrease') {
      if (nowMs - this.#lastDecreaseMs >= this.#rttMs + 100) {
        const base = r > 0 ? r : current;
        const next = Math.min(current, BETA * base);
        if (r > 0) this.#updateCapacity(r / 1000);
        this.#delayBased = this.#clamp(next);
        this.#lastDecreaseMs = nowMs;
      }
      this.#state = 'hold';
    }
  }

  #capacityDeviation(): number {
    return Math.sqrt(this.#capacityVar * Math.max(this.#capacityKbps, 1));
  }

  #updateCapacity(sampleKbps: number): void {
    if (!Number.isNaN(this.#capacityKbps) && sampleKbps < this.#capacityKbps - 3 * this.#capacityDeviation()) {
      this.#capacityKbps = Number.NaN;
    }
    const alpha = 0.05;
    this.#capacityKbps = Number.isNaN(this.#capacityKbps) ? sampleKbps : (1 - alpha) * this.#capacityKbps + alpha * sampleKbps;
    const norm = Math.max(this.#capacityKbps, 1);
    const err = this.#capacityKbps - sampleKbps;
    this.#capacityVar = (1 - alpha) * this.#capacityVar + (alpha * err * err) / norm;
    this.#capacityVar = Math.min(2.5, Math.max(0.4, this.#capacityVar));
  }

  #applyLoss(p: number): void {
    const current = this.estimateBps;
    if (p > 0.1) {
      this.#lossBound = this.#clamp(Math.min(this.#lossBound, current) * (1 - 0.5 * p));
    } else if (p >= 0.02) {
      this.#lossBound = Math.min(this.#lossBound, current);
    } else if (Number.isFinite(this.#lossBound)) {
      this.#lossBound *= 1.05;
      if (this.#lossBound >= this.#delayBased) this.#lossBound = Infinity;
    }
  }
}
