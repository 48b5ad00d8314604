/**
 * The video source domain shape used by allocation and forwarding: a {@link MediaSource} (one per signalled video
 * source, e.g. `abcd-v0`) has one {@link Encoding} per simulcast SSRC (quality index 0 = lowest resolution), and
 * each encoding has one {@link Layer} per temporal id. Layers measure their own bitrate and remember when they
 * last carried a packet, which is what "active" means for the allocator.
 *
 * Pure: no timers and no clock; every method that needs time takes `nowMs` (a monotonic millisecond clock).
 *
 * References:
 * - JVB `MediaSourceDesc` / `RtpEncodingDesc` / `RtpLayerDesc` (the same three-level shape).
 * - PROTOCOL.md §7.1 (what a Chrome sender emits; layers switch off, low-fps screen share has only the top layer).
 */

/** Video type of a source as signalled by `SourceVideoTypeMessage` / presence (PROTOCOL.md §6.2). */
export type VideoType = 'camera' | 'desktop' | 'desktop_high_fps' | 'none';

/** Options of a {@link RateTracker}. */
export interface RateTrackerOptions {
  /** Length of the sliding window. Default 1000 ms. */
  windowMs?: number;
  /** Bucket granularity; the window is `ceil(windowMs / bucketMs)` buckets. Default 100 ms. */
  bucketMs?: number;
}

/**
 * Sliding-window rate of an additive quantity (bytes, frames, packets), bucketed so that an update is O(1) and
 * allocates nothing. Samples older than the window are forgotten; a sample a little in the past (up to the window)
 * still lands in its own bucket, so slightly reordered feeds are fine.
 */
export class RateTracker {
  readonly #bucketMs: number;
  readonly #windowMs: number;
  readonly #amounts: Float64Array;
  readonly #ids: Float64Array;
  #newestId = -Infinity;
  #firstMs = Infinity;

  constructor(options: RateTrackerOptions = {}) {
    const bucketMs = options.bucketMs ?? 100;
    const windowMs = options.windowMs ?? 1000;
    if (!(bucketMs > 0) || !(windowMs >= bucketMs)) throw new TypeError('RateTracker: need 0 < bucketMs <= windowMs');
    this.#bucketMs = bucketMs;
    const n = Math.ceil(windowMs / bucketMs);
    this.#windowMs = n * bucketMs;
    this.#amounts = new Float64Array(n);
    this.#ids = new Float64Array(n).fill(-Infinity);
  }

  /** The effective window (a whole number of buckets). */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** Adds `amount` at time `nowMs`. Once per packet. */
  add(nowMs: number, amount: number): void {
    const id = Math.floor(nowMs / this.#bucketMs);
    const n = this.#amounts.length;
    if (id <= this.#newestId - n) return; // older than the window
    if (id > this.#newestId) this.#newestId = id;
    const slot = ((id % n) + n) % n;
    if (this.#ids[slot] !== id) {
      this.#ids[slot] = id;
      this.#amounts[slot] = 0;
    }
    this.#amounts[slot] = (this.#amounts[slot] ?? 0) + amount;
    if (nowMs < this.#firstMs) this.#firstMs = nowMs;
  }

  /** Sum of the amounts in the window ending at `nowMs`. */
  total(nowMs: number): number {
    const n = this.#amounts.length;
    const newest = Math.floor(nowMs / this.#bucketMs);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const id = this.#ids[i] ?? -Infinity;
      if (id > newest - n && id <= newest) sum += this.#amounts[i] ?? 0;
    }
    return sum;
  }

  /**
   * Amount per second over the window ending at `nowMs`. The divisor is the time the window really covers: from
   * the start of its oldest bucket (or of the first sample's bucket, for a stream younger than the window) to
   * `nowMs`, at least one bucket, so neither a new stream nor a partly filled current bucket is under-reported.
   */
  ratePerSecond(nowMs: number): number {
    const total = this.total(nowMs);
    if (total === 0) return 0;
    const n = this.#amounts.length;
    const windowStart = (Math.floor(nowMs / this.#bucketMs) - n + 1) * this.#bucketMs;
    const firstStart = Math.floor(this.#firstMs / this.#bucketMs) * this.#bucketMs;
    const span = Math.max(this.#bucketMs, nowMs - Math.max(windowStart, firstStart));
    return (total * 1000) / span;
  }

  /** Forgets everything. */
  reset(): void {
    this.#amounts.fill(0);
    this.#ids.fill(-Infinity);
    this.#newestId = -Infinity;
    this.#firstMs = Infinity;
  }
}

/** A {@link RateTracker} fed with bytes and read in bits per second. */
export class BitrateTracker {
  readonly #rate: RateTracker;

  constructor(options: RateTrackerOptions = {}) {
    this.#rate = new RateTracker(options);
  }

  /** Records `bytes` received at `nowMs`. Once per packet. */
  update(nowMs: number, bytes: number): void {
    this.#rate.add(nowMs, bytes);
  }

  /** Bitrate over the window ending at `nowMs`. */
  bitrateBps(nowMs: number): number {
    return this.#rate.ratePerSecond(nowMs) * 8;
  }

  /** Forgets everything. */
  reset(): void {
    this.#rate.reset();
  }
}

/** One temporal layer of one encoding. */
export class Layer {
  /** Index of the encoding this layer belongs to (0 = lowest quality). */
  readonly encoding: number;
  /** Temporal id (TID); 0 = base layer. */
  readonly temporal: number;
  /** Nominal frame rate of this layer including the lower temporal layers it needs (e.g. 7.5, 15, 30). */
  frameRate: number;
  /** Last time a packet of this layer arrived, or -Infinity. */
  lastSeenMs = -Infinity;
  readonly #own: BitrateTracker;

  constructor(encoding: number, temporal: number, frameRate: number, tracker: RateTrackerOptions) {
    this.encoding = encoding;
    this.temporal = temporal;
    this.frameRate = frameRate;
    this.#own = new BitrateTracker(tracker);
  }

  /** Records a packet of this layer (payload bytes or whole packet bytes; be consistent). */
  update(nowMs: number, bytes: number): void {
    this.#own.update(nowMs, bytes);
    if (nowMs > this.lastSeenMs) this.lastSeenMs = nowMs;
  }

  /** Bitrate of this temporal layer alone (not including the layers it depends on). */
  ownBitrateBps(nowMs: number): number {
    return this.#own.bitrateBps(nowMs);
  }

  /** True if a packet of this layer arrived within `activeTimeoutMs` before `nowMs`. */
  isActive(nowMs: number, activeTimeoutMs: number): boolean {
    return nowMs - this.lastSeenMs <= activeTimeoutMs;
  }
}

/** One simulcast encoding (one SSRC). */
export class Encoding {
  /** Quality index, 0 = lowest resolution (SIM group order, PROTOCOL.md §7.1). */
  readonly index: number;
  /** The SSRC carrying this encoding. */
  readonly ssrc: number;
  /** Frame height in pixels: nominal until a key frame tells the real one ({@link MediaSource.setHeight}). */
  height: number;
  /** Temporal layers, index = TID. */
  readonly layers: readonly Layer[];

  constructor(index: number, ssrc: number, height: number, layers: readonly Layer[]) {
    this.index = index;
    this.ssrc = ssrc;
    this.height = height;
    this.layers = layers;
  }

  /** Bitrate needed to forward temporal layers 0..tid (a TID n frame needs the lower layers). */
  bitrateBps(tid: number, nowMs: number): number {
    let sum = 0;
    for (let t = 0; t <= tid && t < this.layers.length; t++) sum += this.layers[t]?.ownBitrateBps(nowMs) ?? 0;
    return sum;
  }
}

/** Options of a {@link MediaSource}. */
export interface MediaSourceOptions {
  /** Source name as signalled, e.g. `abcd-v0`. */
  name: string;
  /** Owner endpoint id. */
  owner: string;
  /** Video type; default `camera`. */
  videoType?: VideoType;
  /** One SSRC per simulcast encoding, low → high quality (the SIM group order). */
  ssrcs: readonly number[];
  /**
   * Nominal heights per encoding. Default: `topHeightPx / 2^(n-1-i)`, i.e. 180/360/720 for three encodings,
   * matching Chrome's 4/2/1 scale-down (PROTOCOL.md §7.1).
   */
  heightsPx?: readonly number[];
  /** Top encoding height used for the default heights. Default 720. */
  topHeightPx?: number;
  /** Temporal layers per encoding. Default 3 (Chrome VP8 simulcast). */
  temporalLayers?: number;
  /** Frame rate of the full temporal stack. Default 30; layer t gets `maxFrameRate / 2^(n-1-t)`. */
  maxFrameRate?: number;
  /** A layer is active if it carried a packet within this many ms. Default 1000. */
  activeTimeoutMs?: number;
  /** Bitrate window per layer. Default 1000 ms in 100 ms buckets. */
  bitrateWindow?: RateTrackerOptions;
}

/** What the allocator sees of one layer (a plain value, so allocation tests can build it by hand). */
export interface LayerSnapshot {
  /** Encoding index (0 = lowest). */
  readonly encoding: number;
  /** Temporal id. */
  readonly temporal: number;
  /** Height in pixels. */
  readonly height: number;
  /** Frame rate (fps) when forwarding this layer and the ones below it. */
  readonly frameRate: number;
  /** Bitrate of this layer plus the lower temporal layers of its encoding. */
  readonly bitrateBps: number;
  /** Packets arrived recently. */
  readonly active: boolean;
}

/** What the allocator sees of one source. */
export interface SourceSnapshot {
  /** Source name. */
  readonly name: string;
  /** Owner endpoint id. */
  readonly owner: string;
  /** Video type. */
  readonly videoType: VideoType;
  /** Layers in quality order: encoding ascending, then temporal ascending. */
  readonly layers: readonly LayerSnapshot[];
}

/** Maximum number of temporal layers VP8 can signal (TID is 2 bits). */
const MAX_TEMPORAL_LAYERS = 4;

/** A video source: encodings × temporal layers, with per-layer bitrate and liveness. */
export class MediaSource {
  /** Source name, e.g. `abcd-v0`. */
  readonly name: string;
  /** Owner endpoint id. */
  readonly owner: string;
  /** Video type (changes with `SourceVideoTypeMessage`). */
  videoType: VideoType;
  /** Encodings, index = quality. */
  readonly encodings: readonly Encoding[];
  /** Layer liveness timeout. */
  readonly activeTimeoutMs: number;
  readonly #bySsrc = new Map<number, Encoding>();
  #reportedMask = 0;

  constructor(options: MediaSourceOptions) {
    const n = options.ssrcs.length;
    if (n === 0) throw new TypeError('MediaSource: at least one SSRC');
    const temporal = options.temporalLayers ?? 3;
    if (!(temporal >= 1 && temporal <= MAX_TEMPORAL_LAYERS)) throw new TypeError('MediaSource: 1..4 temporal layers');
    if (n * temporal > 30) throw new TypeError('MediaSource: too many layers');
    const top = options.topHeightPx ?? 720;
    const maxFps = options.maxFrameRate ?? 30;
    this.name = options.name;
    this.owner = options.owner;
    this.videoType = options.videoType ?? 'camera';
    this.activeTimeoutMs = options.activeTimeoutMs ?? 1000;
    const encodings: Encoding[] = [];
    for (let i = 0; i < n; i++) {
      const layers: Layer[] = [];
      for (let t = 0; t < temporal; t++) {
        layers.push(new Layer(i, t, maxFps / 2 ** (temporal - 1 - t), options.bitrateWindow ?? {}));
      }
      const height = options.heightsPx?.[i] ?? Math.round(top / 2 ** (n - 1 - i));
      const ssrc = options.ssrcs[i] ?? 0;
      const enc = new Encoding(i, ssrc, height, layers);
      encodings.push(enc);
      this.#bySsrc.set(ssrc, enc);
    }
    this.encodings = encodings;
  }

  /** The encoding sent on `ssrc`, if it belongs to this source. */
  encodingBySsrc(ssrc: number): Encoding | undefined {
    return this.#bySsrc.get(ssrc);
  }

  /**
   * Records one received packet of encoding `encoding` with temporal id `tid` (-1 = no temporal info, counted as
   * layer 0; ids beyond the configured layers count as the top one). Once per packet.
   * @returns true when this packet made a previously inactive layer active: re-run the allocation.
   */
  update(encoding: number, tid: number, bytes: number, nowMs: number): boolean {
    const enc = this.encodings[encoding];
    if (enc === undefined) return false;
    const t = tid < 0 ? 0 : Math.min(tid, enc.layers.length - 1);
    const layer = enc.layers[t];
    if (layer === undefined) return false;
    const wasActive = layer.isActive(nowMs, this.activeTimeoutMs);
    layer.update(nowMs, bytes);
    if (wasActive) return false;
    this.#reportedMask |= 1 << (encoding * enc.layers.length + t);
    return true;
  }

  /** Updates an encoding's height from a key frame (VP8: the descriptor's `height`). Ignores non-positive values. */
  setHeight(encoding: number, heightPx: number): void {
    const enc = this.encodings[encoding];
    if (enc !== undefined && heightPx > 0) enc.height = heightPx;
  }

  /** True if any layer is active at `nowMs`. */
  hasActiveLayers(nowMs: number): boolean {
    for (const enc of this.encodings) for (const l of enc.layers) if (l.isActive(nowMs, this.activeTimeoutMs)) return true;
    return false;
  }

  /** True if the given encoding has any active layer. */
  isEncodingActive(encoding: number, nowMs: number): boolean {
    const enc = this.encodings[encoding];
    if (enc === undefined) return false;
    for (const l of enc.layers) if (l.isActive(nowMs, this.activeTimeoutMs)) return true;
    return false;
  }

  /**
   * Re-evaluates which layers are active and returns true if the set changed since it was last reported (by this
   * method, or by {@link update} returning true). Call on the allocation timer to notice layers that stopped.
   */
  checkActivity(nowMs: number): boolean {
    let mask = 0;
    for (const enc of this.encodings) {
      for (const l of enc.layers) {
        if (l.isActive(nowMs, this.activeTimeoutMs)) mask |= 1 << (enc.index * enc.layers.length + l.temporal);
      }
    }
    const changed = mask !== this.#reportedMask;
    this.#reportedMask = mask;
    return changed;
  }

  /** Bitmask of active layers as last reported (bit `encoding * temporalLayers + tid`). */
  get activeMask(): number {
    return this.#reportedMask;
  }

  /** A plain-value view for the allocator. Called on allocation, not per packet. */
  snapshot(nowMs: number): SourceSnapshot {
    const layers: LayerSnapshot[] = [];
    for (const enc of this.encodings) {
      for (const l of enc.layers) {
        layers.push({
          encoding: enc.index,
          temporal: l.temporal,
          height: enc.height,
          frameRate: l.frameRate,
          bitrateBps: enc.bitrateBps(l.temporal, nowMs),
          active: l.isActive(nowMs, this.activeTimeoutMs),
        });
      }
    }
    return { name: this.name, owner: this.owner, videoType: this.videoType, layers };
  }
}
