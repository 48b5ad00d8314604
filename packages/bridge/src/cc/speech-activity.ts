/**
 * Dominant speaker detection from RFC 6464 audio levels, and the speaker order used for last-N.
 *
 * Input: per audio packet, the sender's level from the `ssrc-audio-level` header extension: 0..127 = -dBov, so
 * 0 is the loudest and 127 is silence. The V (voice activity) flag is not used. Pure: time is passed in
 * (`nowMs`, monotonic); nothing runs by itself — decisions happen inside {@link SpeechActivity.onAudioLevel} and
 * {@link SpeechActivity.update} when due.
 *
 * How it decides (an energy-over-window detector with hysteresis and a hold time, in the spirit of — not a copy
 * of — JVB's DominantSpeakerIdentification, which compares speech activity over several time scales):
 * - A packet is *speech* when its level is at or below {@link SpeechActivityOptions.speechLevelThreshold}
 *   (default 60, i.e. louder than -60 dBov); its *energy* is how many dB it is above that threshold.
 * - Per endpoint, time is cut into buckets (100 ms). Over the last window (1000 ms = 10 buckets):
 *   `ratio` = mean over buckets of the fraction of speech packets (a bucket with no packets — Opus DTX — is 0),
 *   `score` = mean over buckets of the mean energy of the bucket's packets.
 * - An endpoint is a *candidate* when `ratio` ≥ {@link SpeechActivityOptions.minSpeechRatio} (0.3: about 300 ms
 *   of speech in the last second). A cough or a click (one packet, or a 100 ms burst ≈ 0.1) never qualifies.
 * - Every {@link SpeechActivityOptions.decisionIntervalMs} (300 ms) the candidate with the highest score is
 *   compared with the current dominant speaker. With no dominant speaker yet it wins at once (a loud endpoint is
 *   dominant within about 300–600 ms). Otherwise it takes over only if at least
 *   {@link SpeechActivityOptions.minHoldMs} (1500 ms) passed since the last change AND either the dominant speaker
 *   is no longer a candidate or the challenger's score is at least
 *   {@link SpeechActivityOptions.switchScoreRatio} (1.25) times the dominant's.
 * - Silence (no candidate) keeps the last dominant speaker; `silence` is then true.
 * - Speaker order: most recent dominant speakers first (a speaker moves to the front when it becomes dominant),
 *   then endpoints that never were dominant in the order they joined. When the dominant speaker leaves, the next
 *   one in that order becomes dominant.
 *
 * References: RFC 6464 §3 (https://www.rfc-editor.org/rfc/rfc6464#section-3); PROTOCOL.md §6.3
 * (`DominantSpeakerEndpointChangeEvent`), §7.3 step 1 (speech order for last-N).
 */

/** Tunables; see the module comment for what each does. */
export interface SpeechActivityOptions {
  /** Levels (-dBov) at or below this are speech. Default 60. */
  speechLevelThreshold?: number;
  /** Bucket length. Default 100 ms. */
  bucketMs?: number;
  /** Window length (a whole number of buckets). Default 1000 ms. */
  windowMs?: number;
  /** How often the dominant speaker is re-evaluated. Default 300 ms. */
  decisionIntervalMs?: number;
  /** Fraction of the window that must be speech to be a candidate. Default 0.3. */
  minSpeechRatio?: number;
  /** Score factor a challenger needs over a still-speaking dominant speaker. Default 1.25. */
  switchScoreRatio?: number;
  /** Minimum time between two changes. Default 1500 ms. */
  minHoldMs?: number;
}

/** A change of dominant speaker (the `DominantSpeakerEndpointChangeEvent` content). */
export interface DominantSpeakerChange {
  /** New dominant speaker's endpoint id. */
  readonly dominantSpeaker: string;
  /** Other endpoints, most recent speaker first. */
  readonly previousSpeakers: readonly string[];
  /** Nobody is currently speaking (the change came from a leave, or the dominant speaker is silent). */
  readonly silence: boolean;
}

/** Per-endpoint buckets. */
class Activity {
  readonly ids: Float64Array;
  readonly packets: Uint16Array;
  readonly speech: Uint16Array;
  readonly energy: Float64Array;

  constructor(n: number) {
    this.ids = new Float64Array(n).fill(-Infinity);
    this.packets = new Uint16Array(n);
    this.speech = new Uint16Array(n);
    this.energy = new Float64Array(n);
  }
}

/** Dominant speaker and speaker order for one conference. See the module comment. */
export class SpeechActivity {
  readonly #threshold: number;
  readonly #bucketMs: number;
  readonly #buckets: number;
  readonly #intervalMs: number;
  readonly #minRatio: number;
  readonly #switchRatio: number;
  readonly #holdMs: number;
  readonly #endpoints = new Map<string, Activity>();
  /** Speaker order: most recent dominant first. */
  readonly #order: string[] = [];
  #dominant: string | null = null;
  #silence = true;
  #lastDecisionMs = -Infinity;
  #lastChangeMs = -Infinity;
  #nowMs = -Infinity;
  // Scratch results of #evaluate (no allocation per decision beyond the map iteration).
  #ratio = 0;
  #score = 0;

  constructor(options: SpeechActivityOptions = {}) {
    this.#threshold = options.speechLevelThreshold ?? 60;
    this.#bucketMs = options.bucketMs ?? 100;
    this.#buckets = Math.max(1, Math.round((options.windowMs ?? 1000) / this.#bucketMs));
    this.#intervalMs = options.decisionIntervalMs ?? 300;
    this.#minRatio = options.minSpeechRatio ?? 0.3;
    this.#switchRatio = options.switchScoreRatio ?? 1.25;
    this.#holdMs = options.minHoldMs ?? 1500;
  }

  /** Current dominant speaker, or null before anybody spoke. */
  get dominantSpeaker(): string | null {
    return this.#dominant;
  }

  /** True if, at the last decision, nobody was speaking. */
  get silence(): boolean {
    return this.#silence;
  }

  /** Endpoint ids, most recent dominant speaker first. The returned array is live; do not modify it. */
  speakerOrder(): readonly string[] {
    return this.#order;
  }

  /** Adds an endpoint (at the end of the speaker order). Idempotent. */
  addEndpoint(id: string): void {
    if (this.#endpoints.has(id)) return;
    this.#endpoints.set(id, new Activity(this.#buckets));
    this.#order.push(id);
  }

  /** Removes an endpoint; if it was dominant, the next in the speaker order takes over (returned). */
  removeEndpoint(id: string, nowMs: number): DominantSpeakerChange | undefined {
    if (!this.#endpoints.delete(id)) return undefined;
    const i = this.#order.indexOf(id);
    if (i >= 0) this.#order.splice(i, 1);
    if (this.#dominant !== id) return undefined;
    const next = this.#order[0];
    if (next === undefined) {
      this.#dominant = null;
      return undefined;
    }
    this.#dominant = next;
    this.#lastChangeMs = Math.max(this.#nowMs, nowMs);
    return this.#change();
  }

  /**
   * Records one audio level (0..127, -dBov) from `id` (added if unknown). Once per audio packet. Returns a change
   * when a decision was due and picked a new dominant speaker.
   */
  onAudioLevel(id: string, level: number, nowMs: number): DominantSpeakerChange | undefined {
    let a = this.#endpoints.get(id);
    if (a === undefined) {
      this.addEndpoint(id);
      a = this.#endpoints.get(id);
      if (a === undefined) return undefined;
    }
    if (nowMs > this.#nowMs) this.#nowMs = nowMs;
    const now = this.#nowMs;
    const bucket = Math.floor(now / this.#bucketMs);
    const slot = bucket % this.#buckets;
    if (a.ids[slot] !== bucket) {
      a.ids[slot] = bucket;
      a.packets[slot] = 0;
      a.speech[slot] = 0;
      a.energy[slot] = 0;
    }
    const l = Number.isFinite(level) ? Math.min(127, Math.max(0, level)) : 127;
    a.packets[slot] = Math.min(0xffff, (a.packets[slot] ?? 0) + 1);
    if (l <= this.#threshold) {
      a.speech[slot] = Math.min(0xffff, (a.speech[slot] ?? 0) + 1);
      a.energy[slot] = (a.energy[slot] ?? 0) + (this.#threshold - l);
    }
    return this.update(now);
  }

  /** Runs a decision if one is due at `nowMs` (call from a timer too, so silence is noticed). */
  update(nowMs: number): DominantSpeakerChange | undefined {
    if (nowMs > this.#nowMs) this.#nowMs = nowMs;
    const now = this.#nowMs;
    if (now - this.#lastDecisionMs < this.#intervalMs) return undefined;
    this.#lastDecisionMs = now;

    let best: string | null = null;
    let bestScore = -1;
    let dominantScore = 0;
    let dominantIsCandidate = false;
    for (const [id, a] of this.#endpoints) {
      this.#evaluate(a, now);
      const candidate = this.#ratio >= this.#minRatio;
      if (id === this.#dominant) {
        dominantScore = this.#score;
        dominantIsCandidate = candidate;
      }
      if (candidate && this.#score > bestScore) {
        best = id;
        bestScore = this.#score;
      }
    }
    this.#silence = best === null;
    if (best === null || best === this.#dominant) return undefined;
    if (this.#dominant !== null) {
      if (now - this.#lastChangeMs < this.#holdMs) return undefined;
      if (dominantIsCandidate && bestScore < dominantScore * this.#switchRatio) return undefined;
    }
    this.#dominant = best;
    this.#lastChangeMs = now;
    const i = this.#order.indexOf(best);
    if (i > 0) {
      this.#order.splice(i, 1);
      this.#order.unshift(best);
    }
    return this.#change();
  }

  /** Fills #ratio and #score for `a` over the window ending at `now`. */
  #evaluate(a: Activity, now: number): void {
    const newest = Math.floor(now / this.#bucketMs);
    let ratio = 0;
    let score = 0;
    for (let i = 0; i < this.#buckets; i++) {
      const id = a.ids[i] ?? -Infinity;
      const packets = a.packets[i] ?? 0;
      if (id <= newest - this.#buckets || id > newest || packets === 0) continue;
      ratio += (a.speech[i] ?? 0) / packets;
      score += (a.energy[i] ?? 0) / packets;
    }
    this.#ratio = ratio / this.#buckets;
    this.#score = score / this.#buckets;
  }

  #change(): DominantSpeakerChange {
    const dominant = this.#dominant ?? '';
    return {
      dominantSpeaker: dominant,
      previousSpeakers: this.#order.filter((id) => id !== dominant),
      silence: this.#silence,
    };
  }
}
