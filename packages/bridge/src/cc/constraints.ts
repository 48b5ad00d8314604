/**
 * A receiver's allocation settings, as set by its `ReceiverVideoConstraints` bridge-channel messages, and the rules
 * for merging a new message into them.
 *
 * References:
 * - PROTOCOL.md §6.2 (`ReceiverVideoConstraints`: fields, "absent fields keep previous values", "a present
 *   `constraints` object replaces the previous map entirely", `maxHeight` 0 = don't forward, -1 = unlimited,
 *   JVB initial state maxHeight 0 until the first message, 180 if that message has no `defaultConstraints`).
 * - JVB `AllocationSettings.kt`, `VideoConstraints.kt`.
 */

/** Per-source constraints. `maxHeight` 0 = don't forward, -1 = unlimited. `maxFrameRate` -1 or absent = any. */
export interface VideoConstraints {
  /** Maximum height in pixels; 0 = off, -1 = unlimited. */
  readonly maxHeight: number;
  /** Maximum frame rate; -1 or absent = unlimited. */
  readonly maxFrameRate?: number;
}

/** A receiver's current allocation settings. Immutable; {@link applyReceiverVideoConstraints} returns a new one. */
export interface AllocationSettings {
  /** False until the first `ReceiverVideoConstraints` was applied. */
  readonly configured: boolean;
  /** Maximum number of video sources to forward; -1 = unlimited. */
  readonly lastN: number;
  /** Sources the receiver selected (high priority), in order. */
  readonly selectedSources: readonly string[];
  /** Sources on the receiver's stage (highest priority; greedy allocation up to the preferred layer). */
  readonly onStageSources: readonly string[];
  /** Constraints for sources without an entry in {@link constraints}. */
  readonly defaultConstraints: VideoConstraints;
  /** Per-source constraints by source name. */
  readonly constraints: ReadonlyMap<string, VideoConstraints>;
  /** Bandwidth to assume instead of the estimate (testing knob of LJM); -1 = use the estimate. */
  readonly assumedBandwidthBps: number;
}

/** The `ReceiverVideoConstraints` fields (PROTOCOL.md §6.2), all optional, as parsed from the channel JSON. */
export interface ReceiverVideoConstraintsInput {
  /** -1 = unlimited. */
  lastN?: number;
  /** Selected source names. */
  selectedSources?: readonly string[];
  /** On-stage source names. */
  onStageSources?: readonly string[];
  /** Default constraints. */
  defaultConstraints?: { maxHeight?: number; maxFrameRate?: number };
  /** Per-source constraints; when present, replaces the whole previous map. */
  constraints?: Readonly<Record<string, { maxHeight?: number; maxFrameRate?: number }>>;
  /** -1 = none. */
  assumedBandwidthBps?: number;
}

/** Defaults used before and at the first message. */
export interface ConstraintsOptions {
  /** Default max height before any message. JVB: 0 (nothing forwarded until the receiver speaks). Default 0. */
  initialMaxHeightPx?: number;
  /** Default max height applied when the first message has no `defaultConstraints`. JVB: 180. Default 180. */
  defaultMaxHeightPx?: number;
}

/** Settings of a receiver that has not sent any `ReceiverVideoConstraints` yet. */
export function createAllocationSettings(options: ConstraintsOptions = {}): AllocationSettings {
  return {
    configured: false,
    lastN: -1,
    selectedSources: [],
    onStageSources: [],
    defaultConstraints: { maxHeight: normalizeHeight(options.initialMaxHeightPx ?? 0) },
    constraints: new Map(),
    assumedBandwidthBps: -1,
  };
}

function normalizeHeight(h: number): number {
  if (!Number.isFinite(h)) return -1;
  return h < 0 ? -1 : Math.floor(h);
}

function toConstraints(
  c: { maxHeight?: number; maxFrameRate?: number } | undefined,
  fallback: VideoConstraints,
): VideoConstraints {
  if (c === null || typeof c !== 'object') return fallback;
  const maxHeight = typeof c.maxHeight === 'number' ? normalizeHeight(c.maxHeight) : fallback.maxHeight;
  if (typeof c.maxFrameRate === 'number' && Number.isFinite(c.maxFrameRate) && c.maxFrameRate >= 0) {
    return { maxHeight, maxFrameRate: c.maxFrameRate };
  }
  return { maxHeight };
}

function names(list: readonly string[] | undefined, prev: readonly string[]): readonly string[] {
  if (!Array.isArray(list)) return prev;
  const out: string[] = [];
  for (const n of list) if (typeof n === 'string' && !out.includes(n)) out.push(n);
  return out;
}

/**
 * Merges one `ReceiverVideoConstraints` message into `prev` (PROTOCOL.md §6.2): absent fields keep their value, a
 * present `constraints` replaces the whole map, and the first message without `defaultConstraints` sets the
 * default max height to `defaultMaxHeightPx` (JVB). Values of the wrong type are ignored like absent ones.
 */
export function applyReceiverVideoConstraints(
  prev: AllocationSettings,
  msg: ReceiverVideoConstraintsInput,
  options: ConstraintsOptions = {},
): AllocationSettings {
  let defaultConstraints = prev.defaultConstraints;
  if (msg.defaultConstraints !== undefined && msg.defaultConstraints !== null) {
    defaultConstraints = toConstraints(msg.defaultConstraints, { maxHeight: prev.defaultConstraints.maxHeight });
  } else if (!prev.configured) {
    defaultConstraints = { maxHeight: normalizeHeight(options.defaultMaxHeightPx ?? 180) };
  }
  let constraints = prev.constraints;
  if (msg.constraints !== undefined && msg.constraints !== null && typeof msg.constraints === 'object') {
    const m = new Map<string, VideoConstraints>();
    for (const [name, c] of Object.entries(msg.constraints)) {
      m.set(name, toConstraints(c, { maxHeight: defaultConstraints.maxHeight }));
    }
    constraints = m;
  }
  const lastN =
    typeof msg.lastN === 'number' && Number.isFinite(msg.lastN) ? (msg.lastN < 0 ? -1 : Math.floor(msg.lastN)) : prev.lastN;
  const assumedBandwidthBps =
    typeof msg.assumedBandwidthBps === 'number' && Number.isFinite(msg.assumedBandwidthBps)
      ? msg.assumedBandwidthBps < 0
        ? -1
        : msg.assumedBandwidthBps
      : prev.assumedBandwidthBps;
  return {
    configured: true,
    lastN,
    selectedSources: names(msg.selectedSources, prev.selectedSources),
    onStageSources: names(msg.onStageSources, prev.onStageSources),
    defaultConstraints,
    constraints,
    assumedBandwidthBps,
  };
}

/** The constraints that apply to `sourceName` for this receiver (its own entry, else the default). */
export function constraintsFor(settings: AllocationSettings, sourceName: string): VideoConstraints {
  return settings.constraints.get(sourceName) ?? settings.defaultConstraints;
}
