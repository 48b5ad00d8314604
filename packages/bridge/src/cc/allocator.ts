/**
 * Bandwidth allocation for one receiver: which layer of which video source to forward, given the receiver's
 * constraints, its bandwidth estimate, the sources' active layers and the conference speech order. A pure
 * function: run it on events (constraints, bandwidth, speaker or layer-activity changes) and on a timer, never per
 * packet.
 *
 * The algorithm follows JVB's `BandwidthAllocator` / `SingleSourceAllocation` (PROTOCOL.md §7.3):
 *
 * 1. Order: `onStageSources`, then `selectedSources` (in the receiver's order), then every other source by its
 *    owner's position in the speech order (most recent speaker first; unknown owners keep input order after the
 *    known ones). Sources with video type `none` go last. The receiver's own sources are left out.
 * 2. Last-N: walking that order, the first `lastN` sources whose constraint is not 0 keep their constraint
 *    (`constraints[name]`, else `defaultConstraints`); every later source gets maxHeight 0 (JVB multi-stream
 *    semantics: last-N counts sources, a source the receiver switched off does not use a slot). `none` sources
 *    always get 0. The result is the "effective" max height, also what senders are told (SenderSourceConstraints).
 * 3. Candidate layers per source (only layers that are active and have a measured bitrate > 0 — never an inactive
 *    one, PROTOCOL.md §7.3/§9f.4):
 *    - camera: layers up to maxHeight; at or above the preferred height (360 px when maxHeight > 180 or
 *      unlimited) only layers with at least the preferred frame rate (30 fps, or the source's best if lower). The
 *      lowest active height is always a candidate (all its frame rates), so a positive constraint below every
 *      layer still gets the smallest picture. The "preferred" layer is the best candidate at or below 360 px.
 *    - desktop: all active layers up to maxHeight; when none fits, the lowest *active* height — which for a low-fps
 *      screen share is the top encoding, the only one that flows (§7.1). Preferred = the best candidate. On stage,
 *      the "oversend" layer is the cheapest layer of the highest candidate resolution.
 *    - `maxFrameRate`, when set, removes faster layers (keeping at least the slowest one).
 * 4. Allocation, in rounds until nothing changes: each source in order takes one step up its candidate list if the
 *    remaining bandwidth pays for the difference. An on-stage source instead jumps greedily to the best layer up
 *    to its preferred one, and until it has reached that, later sources get nothing ("on-stage gets 360p@30
 *    before thumbnails get anything": it avoids turning thumbnails on only to turn them off again when the
 *    estimate rises a little). A higher candidate that costs no more than the current one is taken at once.
 *    Lower frame rates of an encoding are candidates of their own, so a short link drops temporal layers before
 *    it drops resolution, and sources that get nothing are "suspended".
 * 5. Oversending: only the first source with a non-zero constraint may exceed the estimate, and only towards its
 *    oversend layer (on-stage screen share) by at most `maxOversendBitrateBps`, or when its only candidate is a
 *    single layer (non-scalable on-stage share).
 *
 * References: PROTOCOL.md §6.2, §7.3, §9f; JVB `BandwidthAllocator.kt`, `SingleSourceAllocation.kt`,
 * `Prioritize.kt`, `doc/allocation.md`.
 */

import { constraintsFor, type AllocationSettings, type VideoConstraints } from './constraints.js';
import type { LayerSnapshot, SourceSnapshot } from './layers.js';

/** Tunables of {@link allocate}. */
export interface AllocatorOptions {
  /** Height a camera on stage is raised to before anything else gets bandwidth. Default 360 (JVB). */
  onStagePreferredHeightPx?: number;
  /** Minimum frame rate for camera layers at or above the preferred height. Default 30 (JVB). */
  onStagePreferredFrameRate?: number;
  /** Max height at or below which a camera source has no preferred height/fps (thumbnails). Default 180 (JVB). */
  thumbnailMaxHeightPx?: number;
  /** Allow oversending an on-stage screen share. Default true (JVB `allow-oversend-onstage`). */
  allowOversendOnStage?: boolean;
  /** How far above the estimate oversending may go. Default 500 kbps (JVB `max-oversend-bitrate`). */
  maxOversendBitrateBps?: number;
}

/** Input of {@link allocate}. */
export interface AllocatorInput {
  /** The receiving endpoint (its own sources are never allocated). */
  readonly receiverId: string;
  /** The receiver's settings (from its ReceiverVideoConstraints). */
  readonly settings: AllocationSettings;
  /** Estimated available bandwidth towards the receiver; negative or non-finite = unlimited. */
  readonly bandwidthBps: number;
  /** All video sources of the conference (any order). */
  readonly sources: readonly SourceSnapshot[];
  /** Endpoint ids by speech activity, most recent speaker first. */
  readonly speakerOrder: readonly string[];
}

/** A chosen layer. */
export interface LayerChoice {
  /** Encoding index (0 = lowest). */
  readonly encoding: number;
  /** Highest temporal id to forward. */
  readonly temporal: number;
  /** Height of the encoding. */
  readonly height: number;
  /** Frame rate at this temporal layer. */
  readonly frameRate: number;
  /** Bitrate of the layer (including lower temporal layers). */
  readonly bitrateBps: number;
}

/** The decision for one source. */
export interface SourceAllocation {
  /** Source name. */
  readonly source: string;
  /** Owner endpoint id. */
  readonly owner: string;
  /** Layer to forward, or null (not forwarded). */
  readonly target: LayerChoice | null;
  /** Layer that would be forwarded with unlimited bandwidth, or null. */
  readonly ideal: LayerChoice | null;
  /** Max height after last-N: 0 = off, -1 = unlimited. What the sender should be asked for. */
  readonly effectiveMaxHeight: number;
  /** Whether the source is on the receiver's stage. */
  readonly onStage: boolean;
  /** Wanted and sending, but nothing fitted the bandwidth. */
  readonly suspended: boolean;
}

/** The decision for one receiver. */
export interface Allocation {
  /** Per source, in priority order. */
  readonly sources: readonly SourceAllocation[];
  /** Names of forwarded sources (target ≠ null), in priority order: the `ForwardedSources` message. */
  readonly forwardedSources: readonly string[];
  /** Owners of forwarded sources, unique, in priority order. */
  readonly forwardedEndpoints: readonly string[];
  /** Sum of the target bitrates. */
  readonly targetBps: number;
  /** Sum of the ideal bitrates. */
  readonly idealBps: number;
  /** The targets exceed the bandwidth used for allocation. */
  readonly oversending: boolean;
  /** The bandwidth the allocation used (assumed, estimated, or Infinity). */
  readonly bandwidthBps: number;
}

interface Work {
  readonly src: SourceSnapshot;
  readonly constraints: VideoConstraints;
  readonly onStage: boolean;
  readonly layers: readonly LayerSnapshot[];
  readonly preferred: number;
  readonly oversend: number;
  idx: number;
}

const NO_LAYERS: readonly LayerSnapshot[] = [];

/** Computes the allocation for one receiver. Pure. */
export function allocate(input: AllocatorInput, options: AllocatorOptions = {}): Allocation {
  const opts = {
    preferredHeight: options.onStagePreferredHeightPx ?? 360,
    preferredFps: options.onStagePreferredFrameRate ?? 30,
    thumbnailHeight: options.thumbnailMaxHeightPx ?? 180,
    allowOversendOnStage: options.allowOversendOnStage ?? true,
    maxOversend: options.maxOversendBitrateBps ?? 500_000,
  };
  const { settings } = input;
  const ordered = prioritize(input);
  const onStage = new Set(settings.onStageSources);
  const lastN = settings.lastN < 0 ? Infinity : settings.lastN;

  const work: Work[] = [];
  let counted = 0;
  for (const src of ordered) {
    let c: VideoConstraints = { maxHeight: 0 };
    if (src.videoType !== 'none' && counted < lastN) {
      c = constraintsFor(settings, src.name);
      if (c.maxHeight !== 0) counted++;
    }
    const stage = onStage.has(src.name);
    const sel = c.maxHeight === 0 ? { layers: NO_LAYERS, preferred: -1, oversend: -1 } : selectLayers(src, c, stage, opts);
    work.push({ src, constraints: c, onStage: stage, ...sel, idx: -1 });
  }

  let bandwidth = Infinity;
  if (settings.assumedBandwidthBps >= 0) bandwidth = settings.assumedBandwidthBps;
  else if (Number.isFinite(input.bandwidthBps) && input.bandwidthBps >= 0) bandwidth = input.bandwidthBps;

  let remaining = bandwidth;
  let oversending = false;
  const first = work.findIndex((w) => w.constraints.maxHeight !== 0);
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = 0; i < work.length; i++) {
      const w = work[i];
      if (w === undefined || w.constraints.maxHeight === 0) continue;
      const before = w.idx;
      remaining -= improve(w, remaining, i === first, opts.maxOversend);
      if (w.idx !== before) changed = true;
      if (remaining < 0) oversending = true;
      if (w.onStage && w.preferred >= 0 && w.idx < w.preferred) break;
    }
  }

  const sources: SourceAllocation[] = [];
  const forwardedSources: string[] = [];
  const forwardedEndpoints: string[] = [];
  let targetBps = 0;
  let idealBps = 0;
  for (const w of work) {
    const t = w.layers[w.idx];
    const ideal = w.layers[w.layers.length - 1];
    const target = t === undefined ? null : choice(t);
    sources.push({
      source: w.src.name,
      owner: w.src.owner,
      target,
      ideal: ideal === undefined ? null : choice(ideal),
      effectiveMaxHeight: w.constraints.maxHeight,
      onStage: w.onStage,
      suspended: target === null && w.layers.length > 0,
    });
    if (t !== undefined) {
      targetBps += t.bitrateBps;
      forwardedSources.push(w.src.name);
      if (!forwardedEndpoints.includes(w.src.owner)) forwardedEndpoints.push(w.src.owner);
    }
    if (ideal !== undefined) idealBps += ideal.bitrateBps;
  }
  return { sources, forwardedSources, forwardedEndpoints, targetBps, idealBps, oversending, bandwidthBps: bandwidth };
}

function choice(l: LayerSnapshot): LayerChoice {
  return { encoding: l.encoding, temporal: l.temporal, height: l.height, frameRate: l.frameRate, bitrateBps: l.bitrateBps };
}

/** Step 1: priority order of the sources this receiver may get. */
function prioritize(input: AllocatorInput): SourceSnapshot[] {
  const { settings } = input;
  const selected: string[] = [...settings.onStageSources];
  for (const s of settings.selectedSources) if (!selected.includes(s)) selected.push(s);
  const rank = new Map<string, number>();
  input.speakerOrder.forEach((id, i) => {
    if (!rank.has(id)) rank.set(id, i);
  });
  const enabledSelected: SourceSnapshot[] = [];
  const others: Array<{ src: SourceSnapshot; pos: number }> = [];
  const disabled: SourceSnapshot[] = [];
  input.sources.forEach((src, pos) => {
    if (src.owner === input.receiverId) return;
    if (src.videoType === 'none') disabled.push(src);
    else if (selected.includes(src.name)) enabledSelected.push(src);
    else others.push({ src, pos });
  });
  enabledSelected.sort((a, b) => selected.indexOf(a.name) - selected.indexOf(b.name));
  others.sort((a, b) => {
    const ra = rank.get(a.src.owner) ?? Infinity;
    const rb = rank.get(b.src.owner) ?? Infinity;
    return ra === rb ? a.pos - b.pos : ra < rb ? -1 : 1;
  });
  return [...enabledSelected, ...others.map((o) => o.src), ...disabled];
}

interface Selection {
  layers: readonly LayerSnapshot[];
  preferred: number;
  oversend: number;
}

/** Step 3: candidate layers and the preferred/oversend indices. */
function selectLayers(
  src: SourceSnapshot,
  c: VideoConstraints,
  onStage: boolean,
  opts: { preferredHeight: number; preferredFps: number; thumbnailHeight: number; allowOversendOnStage: boolean },
): Selection {
  let active = src.layers.filter((l) => l.active && l.bitrateBps > 0);
  if (active.length === 0) return { layers: NO_LAYERS, preferred: -1, oversend: -1 };
  if (c.maxFrameRate !== undefined && c.maxFrameRate >= 0) {
    const cap = c.maxFrameRate;
    const slowest = Math.min(...active.map((l) => l.frameRate));
    active = active.filter((l) => l.frameRate <= cap || l.frameRate === slowest);
  }
  const unlimited = c.maxHeight < 0;
  const fits = (l: LayerSnapshot): boolean => unlimited || l.height <= c.maxHeight;
  const minHeight = Math.min(...active.map((l) => l.height));

  if (src.videoType === 'desktop' || src.videoType === 'desktop_high_fps') {
    let layers = active.filter(fits);
    if (layers.length === 0) layers = active.filter((l) => l.height === minHeight);
    let oversend = -1;
    if (onStage && opts.allowOversendOnStage) {
      const top = Math.max(...layers.map((l) => l.height));
      for (let i = 0; i < layers.length; i++) {
        const l = layers[i];
        const o = layers[oversend];
        if (l !== undefined && l.height === top && (o === undefined || l.bitrateBps < o.bitrateBps)) oversend = i;
      }
    }
    return { layers, preferred: layers.length - 1, oversend };
  }

  // Camera. Thumbnails (maxHeight ≤ 180) have no preferred height and accept every frame rate.
  const hasPreferred = unlimited || c.maxHeight > opts.thumbnailHeight;
  const preferredHeight = hasPreferred ? opts.preferredHeight : -1;
  const maxFps = Math.max(...active.map((l) => l.frameRate));
  const preferredFps = hasPreferred ? Math.min(maxFps, opts.preferredFps) : 0;
  const layers = active.filter(
    (l) => (fits(l) && (l.height < preferredHeight || l.frameRate >= preferredFps)) || l.height === minHeight,
  );
  const cap = Math.max(preferredHeight, minHeight);
  let preferred = -1;
  layers.forEach((l, i) => {
    if (l.height <= cap) preferred = i;
  });
  return { layers, preferred, oversend: -1 };
}

/** Step 4/5: one improvement step; returns the extra bandwidth consumed. */
function improve(w: Work, remaining: number, allowOversend: boolean, maxOversend: number): number {
  const { layers } = w;
  if (layers.length === 0) return 0;
  const initial = layers[w.idx]?.bitrateBps ?? 0;
  const maxBps = remaining + initial;
  if (w.idx === -1 && w.onStage && w.preferred > -1) {
    for (let i = 0; i <= w.preferred; i++) {
      const l = layers[i];
      if (l === undefined || l.bitrateBps > maxBps) break;
      w.idx = i;
    }
  } else {
    const next = layers[w.idx + 1];
    if (next !== undefined && next.bitrateBps <= maxBps) w.idx++;
  }
  if (w.idx > -1) {
    // A better layer that costs no more (e.g. a measured 720p@7.5 cheaper than 360p@30) is taken at once.
    const cur = layers[w.idx]?.bitrateBps ?? 0;
    for (let i = layers.length - 1; i > w.idx; i--) {
      if ((layers[i]?.bitrateBps ?? Infinity) <= cur) {
        w.idx = i;
        break;
      }
    }
  }
  if (allowOversend && w.oversend > w.idx) {
    const o = layers[w.oversend];
    if (o !== undefined && o.bitrateBps <= maxBps + maxOversend) w.idx = w.oversend;
  }
  if (allowOversend && w.idx < 0 && w.oversend >= 0 && layers.length === 1) w.idx = w.oversend;
  return (layers[w.idx]?.bitrateBps ?? 0) - initial;
}

/** True if two allocations forward the same layers of the same sources in the same order. */
export function isSameAllocation(a: Allocation, b: Allocation): boolean {
  if (a.sources.length !== b.sources.length) return false;
  for (let i = 0; i < a.sources.length; i++) {
    const x = a.sources[i];
    const y = b.sources[i];
    if (x === undefined || y === undefined || x.source !== y.source) return false;
    if (x.effectiveMaxHeight !== y.effectiveMaxHeight) return false;
    const tx = x.target;
    const ty = y.target;
    if (tx === null || ty === null) {
      if (tx !== ty) return false;
    } else if (tx.encoding !== ty.encoding || tx.temporal !== ty.temporal) {
      return false;
    }
  }
  return true;
}

/** Target of one source in an allocation, or null. */
export function targetOf(allocation: Allocation, sourceName: string): LayerChoice | null {
  for (const s of allocation.sources) if (s.source === sourceName) return s.target;
  return null;
}

/**
 * What each sender should be told (`SenderSourceConstraints`, PROTOCOL.md §7.3 step 5): per source, the largest
 * effective max height over all receivers' allocations; -1 (unlimited) wins, 0 when nobody wants the source.
 * `sourceNames` lists every source so that unwanted ones get 0.
 */
export function senderMaxHeights(
  allocations: Iterable<Allocation>,
  sourceNames: Iterable<string>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of sourceNames) out.set(n, 0);
  for (const a of allocations) {
    for (const s of a.sources) {
      const prev = out.get(s.source) ?? 0;
      const h = s.effectiveMaxHeight;
      out.set(s.source, prev < 0 || h < 0 ? -1 : Math.max(prev, h));
    }
  }
  return out;
}

/**
 * Whether a new bandwidth estimate differs enough from the one the last allocation used to re-allocate
 * (JVB suppresses changes under 15 % to avoid resolution churn during ramp-up). Unknown (negative) values always
 * count as a change.
 */
export function isBandwidthChangeSignificant(previousBps: number, currentBps: number, thresholdPct = 15): boolean {
  if (previousBps < 0 || currentBps < 0 || !Number.isFinite(previousBps) || !Number.isFinite(currentBps)) {
    return previousBps !== currentBps;
  }
  if (previousBps === 0) return currentBps !== 0;
  return (Math.abs(currentBps - previousBps) / previousBps) * 100 >= thresholdPct;
}
