/**
 * Per (receiver, source) simulcast forwarding state: decides for every packet of the source whether this receiver
 * gets it, switches spatial layers (encodings) only at key frames, filters temporal layers at frame boundaries,
 * and says when a key frame must be requested from the sender (rate-limited).
 *
 * Called once per packet of the source (every encoding), in arrival order, after the packet's codec descriptor was
 * parsed; the allocator's decision arrives through {@link LayerSelector.setTarget} (on allocation, not per packet).
 * Nothing is allocated per packet.
 *
 * Spatial rules (PROTOCOL.md §7.3/§7.4, JVB `VP8QualityFilter`, LiveKit `videolayerselector/simulcast.go`):
 * - The *goal* encoding is the target, or — when the target carries no packets (stopped, or never sent, like
 *   s0/s1 of a low-fps screen share, §7.1) — the best active encoding below it, else the lowest active one above.
 * - A switch happens only on the first packet of a key frame. A key frame of the goal is always taken. While
 *   nothing is forwarded, or the current encoding stopped ({@link LayerSelectorOptions.encodingStaleMs}), a key
 *   frame of any encoding below the goal is taken too (something beats nothing; the goal's key frame follows).
 *   Otherwise a key frame is taken only if it is strictly between the current encoding and the goal (a step
 *   towards it).
 * - Until the goal is reached the current encoding keeps flowing: with only TL0 while moving down (saves
 *   bandwidth, as JVB does), with every temporal layer while moving up.
 * - A target of -1 stops forwarding at once; resuming needs a key frame.
 *
 * Temporal rules (RFC 7741 §4.2 TID/Y): the forwarded temporal layer changes only at the start of a frame. Down:
 * at any frame start. Up: at the start of a TL0 frame (straight to the target), or of a frame with the layer-sync
 * bit Y whose TID is within the target (to that TID), because such a frame depends only on TL0. A key frame of
 * the current encoding resets the temporal layer to the target. Packets without temporal information count as TL0.
 *
 * Key frame requests: {@link LayerSelector.pollKeyframeRequest} returns the encoding to send a PLI for while the
 * goal is not reached (or after {@link LayerSelector.requestKeyframe}), at most once per 200 ms and 10 times per
 * 10 s. PROTOCOL.md Appendix B quotes JVB's 3 per 10 s per receiver, but with that budget a switch followed by a
 * fallback stalls video for seconds (forwarding.test.ts shows it), so the default is 10; the 200 ms pacing is what
 * protects the sender. JVB's own
 * `KeyframeRequester` only paces per SSRC (100 ms, or RTT + 10 ms); keep one {@link KeyframeRequestLimiter} per
 * sender SSRC in the caller to aggregate requests of many receivers the same way.
 *
 * References: RFC 7741 §4.2 (https://www.rfc-editor.org/rfc/rfc7741#section-4.2); PROTOCOL.md §7.1, §7.3, §7.4,
 * §9c.c6/c7, §9f.4/§9f.7, Appendix B.
 */

/**
 * What the selector needs to know about a packet's frame. Field names follow `PacketInfo` (rtp/packet-info.ts),
 * so a PacketInfo that also carries the layer-sync bit satisfies it; from a VP8 descriptor `d` it is
 * `{ temporalLayer: d.tid, layerSync: d.layerSync, isKeyframe: d.isKeyframe, isStartOfFrame: d.isStartOfFrame }`.
 */
export interface FrameInfo {
  /** Temporal id, or -1 when unknown (treated as 0). */
  readonly temporalLayer: number;
  /** Layer sync (VP8 Y bit): the frame depends only on TL0. */
  readonly layerSync: boolean;
  /** First packet of a key frame. */
  readonly isKeyframe: boolean;
  /** First packet of a frame. */
  readonly isStartOfFrame: boolean;
}

/** Options of a {@link LayerSelector}. */
export interface LayerSelectorOptions {
  /** Number of encodings of the source. Default 3. */
  encodingCount?: number;
  /** An encoding without packets for longer than this is "stopped". Default 1000 ms. */
  encodingStaleMs?: number;
  /** Minimum time between two key frame requests. Default 200 ms. */
  keyframeMinIntervalMs?: number;
  /** At most this many key frame requests ... Default 10. */
  keyframeMaxRequests?: number;
  /** ... per this window. Default 10 000 ms. */
  keyframeWindowMs?: number;
}

/** Highest temporal id VP8 can signal; "all temporal layers". */
const ALL_TEMPORAL = 3;

/**
 * Sliding-window rate limiter for key frame requests: at most `maxRequests` per `windowMs`, and `minIntervalMs`
 * apart. Also usable on its own, e.g. per sender SSRC across receivers.
 */
export class KeyframeRequestLimiter {
  readonly #minIntervalMs: number;
  readonly #windowMs: number;
  readonly #times: Float64Array;
  #next = 0;

  constructor(minIntervalMs = 200, maxRequests = 3, windowMs = 10_000) {
    if (!(maxRequests >= 1)) throw new TypeError('KeyframeRequestLimiter: maxRequests >= 1');
    this.#minIntervalMs = minIntervalMs;
    this.#windowMs = windowMs;
    this.#times = new Float64Array(Math.floor(maxRequests)).fill(-Infinity);
  }

  /** True (and the request is counted) if a request may be sent at `nowMs`. */
  tryAcquire(nowMs: number): boolean {
    const n = this.#times.length;
    const newest = this.#times[(this.#next + n - 1) % n] ?? -Infinity;
    if (nowMs - newest < this.#minIntervalMs) return false;
    const oldest = this.#times[this.#next] ?? -Infinity;
    if (nowMs - oldest < this.#windowMs) return false;
    this.#times[this.#next] = nowMs;
    this.#next = (this.#next + 1) % n;
    return true;
  }
}

/** A snapshot of a selector's state for debugging. */
export interface LayerSelectorState {
  /** Encoding being forwarded, -1 = none. */
  readonly currentEncoding: number;
  /** Highest temporal id being forwarded, -1 = none. */
  readonly currentTemporal: number;
  /** Allocator target encoding, -1 = off. */
  readonly targetEncoding: number;
  /** Allocator target temporal id. */
  readonly targetTemporal: number;
  /** Number of spatial switches. */
  readonly switches: number;
  /** Key frame requests issued. */
  readonly keyframeRequests: number;
}

/** Per (receiver, source) forwarding decisions. See the module comment for the rules. */
export class LayerSelector {
  readonly #n: number;
  readonly #staleMs: number;
  readonly #lastSeen: Float64Array;
  readonly #limiter: KeyframeRequestLimiter;
  #targetEncoding = -1;
  #targetTemporal = -1;
  #current = -1;
  #currentTemporal = -1;
  #explicitRequest = false;
  #switches = 0;
  #keyframeRequests = 0;

  constructor(options: LayerSelectorOptions = {}) {
    this.#n = options.encodingCount ?? 3;
    if (!(this.#n >= 1)) throw new TypeError('LayerSelector: encodingCount >= 1');
    this.#staleMs = options.encodingStaleMs ?? 1000;
    this.#lastSeen = new Float64Array(this.#n).fill(-Infinity);
    this.#limiter = new KeyframeRequestLimiter(
      options.keyframeMinIntervalMs ?? 200,
      options.keyframeMaxRequests ?? 10,
      options.keyframeWindowMs ?? 10_000,
    );
  }

  /** Encoding being forwarded, or -1. */
  get currentEncoding(): number {
    return this.#current;
  }

  /** Highest temporal id being forwarded, or -1. */
  get currentTemporal(): number {
    return this.#current < 0 ? -1 : this.#currentTemporal;
  }

  /**
   * Sets the allocator's target: encoding -1 = forward nothing (applies at once); otherwise the encoding and the
   * highest temporal id to reach. Called when an allocation changes.
   */
  setTarget(encoding: number, temporal: number): void {
    if (encoding < 0 || encoding >= this.#n) {
      this.#targetEncoding = -1;
      this.#targetTemporal = -1;
      this.#current = -1;
      this.#currentTemporal = -1;
      this.#explicitRequest = false;
      return;
    }
    this.#targetEncoding = encoding;
    this.#targetTemporal = Math.max(0, Math.min(ALL_TEMPORAL, temporal));
  }

  /** The receiver asked for a key frame (PLI/FIR for this source): the next poll requests one for the current encoding. */
  requestKeyframe(): void {
    if (this.#targetEncoding >= 0) this.#explicitRequest = true;
  }

  /**
   * Decides whether this receiver gets the packet. `encoding` is the packet's encoding index (from its SSRC),
   * `frame` its parsed frame info, `nowMs` its arrival time. Once per packet of the source.
   */
  select(encoding: number, frame: FrameInfo, nowMs: number): boolean {
    if (encoding < 0 || encoding >= this.#n) return false;
    this.#lastSeen[encoding] = nowMs;
    if (this.#targetEncoding < 0) return false;
    const tid = frame.temporalLayer < 0 ? 0 : frame.temporalLayer;
    const keyStart = frame.isKeyframe && frame.isStartOfFrame;

    if (encoding !== this.#current) {
      if (!keyStart) return false;
      const goal = this.#goal(nowMs);
      if (!this.#acceptSwitch(encoding, goal, nowMs)) return false;
      this.#current = encoding;
      this.#currentTemporal = this.#effectiveTemporal(goal);
      this.#switches++;
      return true;
    }

    if (keyStart) {
      this.#currentTemporal = this.#effectiveTemporal(this.#goal(nowMs));
      return true;
    }
    if (frame.isStartOfFrame) {
      const want = this.#effectiveTemporal(this.#goal(nowMs));
      const have = this.#currentTemporal;
      if (want < have) {
        this.#currentTemporal = want;
      } else if (want > have) {
        if (tid === 0) this.#currentTemporal = want;
        else if (frame.layerSync && tid <= want && tid > have) this.#currentTemporal = tid;
      }
    }
    return tid <= this.#currentTemporal;
  }

  /** True while a key frame is needed: the goal is not reached, or the receiver asked for one. */
  needsKeyframe(nowMs: number): boolean {
    if (this.#targetEncoding < 0) return false;
    return this.#explicitRequest || this.#current !== this.#goal(nowMs);
  }

  /**
   * If a key frame request should be sent now, counts it and returns the encoding to name in the PLI (the goal,
   * or the current encoding for a receiver's own request); otherwise -1. Call after {@link select} (per packet)
   * and on allocation changes; the rate limit makes repeated calls cheap and safe.
   */
  pollKeyframeRequest(nowMs: number): number {
    if (this.#targetEncoding < 0) return -1;
    const goal = this.#goal(nowMs);
    const switching = this.#current !== goal;
    if (!switching && !this.#explicitRequest) return -1;
    if (!this.#limiter.tryAcquire(nowMs)) return -1;
    this.#explicitRequest = false;
    this.#keyframeRequests++;
    return switching ? goal : this.#current;
  }

  /** Debug snapshot. */
  state(): LayerSelectorState {
    return {
      currentEncoding: this.#current,
      currentTemporal: this.currentTemporal,
      targetEncoding: this.#targetEncoding,
      targetTemporal: this.#targetTemporal,
      switches: this.#switches,
      keyframeRequests: this.#keyframeRequests,
    };
  }

  #isActive(encoding: number, nowMs: number): boolean {
    return nowMs - (this.#lastSeen[encoding] ?? -Infinity) <= this.#staleMs;
  }

  /** The encoding to aim for: the target if it flows (or nothing flows), else the nearest flowing one, lower first. */
  #goal(nowMs: number): number {
    const t = this.#targetEncoding;
    if (t < 0 || this.#isActive(t, nowMs)) return t;
    for (let e = t - 1; e >= 0; e--) if (this.#isActive(e, nowMs)) return e;
    for (let e = t + 1; e < this.#n; e++) if (this.#isActive(e, nowMs)) return e;
    return t;
  }

  #acceptSwitch(encoding: number, goal: number, nowMs: number): boolean {
    if (encoding === goal) return true;
    const cur = this.#current;
    if (cur < 0 || !this.#isActive(cur, nowMs)) return encoding < goal;
    return (cur < encoding && encoding < goal) || (goal < encoding && encoding < cur);
  }

  /** Temporal layer to forward on the current encoding given the goal (see the module comment). */
  #effectiveTemporal(goal: number): number {
    if (this.#current === goal) return this.#targetTemporal;
    return this.#current > goal ? 0 : ALL_TEMPORAL;
  }
}
