/**
 * The bridge channel's JSON messages ("colibri" messages): every message is one JSON object with a `colibriClass`
 * discriminator, carried one per WebSocket text frame (or SCTP data-channel message).
 *
 * - Inbound (client → bridge) messages are validated with zod by {@link parseInboundMessage}. Anything unknown,
 *   malformed or too large comes back as a drop reason (never an exception) for the caller to count.
 * - Outbound (bridge → client) messages are built by the `build*` functions and serialized once by
 *   {@link serializeMessage}, so one string can go to many receivers.
 *
 * Field names follow JVB's `BridgeChannelMessage.kt` (what the bridge parses and emits) and lib-jitsi-meet's
 * `modules/RTC/BridgeChannel.ts` (what the client sends and reads); where the two differ, the client wins.
 *
 * References:
 * - PROTOCOL.md §6.1 (transport), §6.2 (client → bridge), §6.3 (bridge → client), §7.5 (source maps), §9f item 9.
 * - JVB `jvb/src/main/kotlin/org/jitsi/videobridge/message/BridgeChannelMessage.kt`.
 * - LJM `modules/RTC/BridgeChannel.ts`, `service/RTC/BridgeVideoType.ts`, `service/RTC/ReceiverAudioSubscription.ts`.
 */
import { z } from 'zod';
import type { VideoType } from '../cc/layers.js';
import type { DominantSpeakerChange } from '../cc/speech-activity.js';

/** Name of the discriminator property present in every message (PROTOCOL.md §6.1). */
export const COLIBRI_CLASS = 'colibriClass';

/** Default bound on one inbound message, in bytes of its UTF-8 text (PROTOCOL.md §6.1 gives none; 64 KiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Shared value types
// ---------------------------------------------------------------------------------------------------------------

/**
 * Video type of a sender's source as clients signal it (LJM `BridgeVideoType`, lower case). JVB parses it
 * case-insensitively; `disabled` (JVB's own spelling) is read as `none`.
 */
export type SourceVideoType = VideoType;

/** Video type as written in `VideoSourcesMap` entries (JVB `VideoType` enum names; LJM reads them case-insensitively). */
export type MappedVideoType = 'CAMERA' | 'DESKTOP' | 'DESKTOP_HIGH_FPS' | 'NONE' | 'DISABLED';

/** Per-source or default constraints in a `ReceiverVideoConstraints` (JVB `VideoConstraints`). */
export interface VideoConstraintsField {
  /** Maximum height in pixels: 0 = don't forward, -1 = unlimited. */
  maxHeight?: number;
  /** Maximum frame rate; -1 = unlimited. */
  maxFrameRate?: number;
}

/** A normalized `ReceiverAudioSubscription` (current LJM shape; legacy `mode`/`list` forms are converted). */
export interface ReceiverAudioSubscription {
  /** Forward every regular audio source (the baseline). */
  all: boolean;
  /** Source names forwarded in addition to the baseline. */
  include: string[];
  /** Source names not forwarded. */
  exclude: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Inbound (client → bridge), PROTOCOL.md §6.2
// ---------------------------------------------------------------------------------------------------------------

/**
 * `ReceiverVideoConstraints`: every field optional, an absent field keeps its previous value (merge with
 * `applyReceiverVideoConstraints` from `cc/constraints.ts`). A field that is `null` or of the wrong type is treated
 * as absent rather than losing the whole message (PROTOCOL.md §9f item 5: the first one must not be lost).
 */
export interface ReceiverVideoConstraintsMessage {
  colibriClass: 'ReceiverVideoConstraints';
  /** Maximum number of video sources to receive; -1 = unlimited. */
  lastN?: number;
  /** Selected source names (high priority). */
  selectedSources?: string[];
  /** On-stage source names (highest priority). */
  onStageSources?: string[];
  /** Constraints for sources without an entry in `constraints`. */
  defaultConstraints?: VideoConstraintsField;
  /** Per-source constraints by source name; when present it replaces the previous map. */
  constraints?: Record<string, VideoConstraintsField>;
  /** Bandwidth to assume instead of the estimate; -1 = none. */
  assumedBandwidthBps?: number;
}

/** `LastNChangedEvent` (legacy lastN setter, still sent by LJM when lastN ≠ -1 on channel open). */
export interface LastNChangedEventMessage {
  colibriClass: 'LastNChangedEvent';
  /** -1 = unlimited. */
  lastN: number;
}

/** `SourceVideoTypeMessage`: the video type of one of the sender's own sources. */
export interface SourceVideoTypeMessage {
  colibriClass: 'SourceVideoTypeMessage';
  /** The sender's source name, e.g. `5b7e1a44-v1`. */
  sourceName: string;
  /** Normalized to lower case; `disabled` → `none`. */
  videoType: SourceVideoType;
}

/** `VideoTypeMessage` (deprecated): the video type of the sender's (only) video source. */
export interface VideoTypeMessage {
  colibriClass: 'VideoTypeMessage';
  /** Normalized to lower case; `disabled` → `none`. */
  videoType: SourceVideoType;
}

/**
 * An endpoint message as received from its sender, without `colibriClass`. `to` is `''` for a broadcast (JVB: a
 * blank `to`). `msgPayload` and every other field are opaque and relayed as they are; a client-supplied `from` is
 * overwritten when relaying.
 */
export interface InboundEndpointMessage {
  /** Target endpoint id, or `''` = every other endpoint. */
  to: string;
  /** The application payload (LJM drops received messages whose payload is not an object). */
  msgPayload?: unknown;
  /** Any other field, kept. */
  [field: string]: unknown;
}

/** `EndpointMessage` as parsed. */
export interface EndpointMessageIn {
  colibriClass: 'EndpointMessage';
  /** The message without its `colibriClass`. */
  message: InboundEndpointMessage;
}

/** Free-form endpoint statistics (bitrate, packetLoss, connectionQuality, jvbRTT, …), without `colibriClass`/`from`. */
export type EndpointStatsPayload = Record<string, unknown>;

/** `EndpointStats` as parsed. */
export interface EndpointStatsIn {
  colibriClass: 'EndpointStats';
  /** The statistics fields. */
  stats: EndpointStatsPayload;
}

/** `ReceiverAudioSubscription` as parsed (normalized). */
export interface ReceiverAudioSubscriptionMessage {
  colibriClass: 'ReceiverAudioSubscription';
  /** The subscription. */
  subscription: ReceiverAudioSubscription;
}

/** `ClientHello` (never sent by current LJM; answered with `ServerHello`). */
export interface ClientHelloMessage {
  colibriClass: 'ClientHello';
}

/** Every client → bridge message this bridge understands. */
export type InboundMessage =
  | ReceiverVideoConstraintsMessage
  | LastNChangedEventMessage
  | SourceVideoTypeMessage
  | VideoTypeMessage
  | EndpointMessageIn
  | EndpointStatsIn
  | ReceiverAudioSubscriptionMessage
  | ClientHelloMessage;

/** The `colibriClass` values of {@link InboundMessage}. */
export type InboundColibriClass = InboundMessage['colibriClass'];

/** Why an inbound message was dropped. */
export type InboundDropReason =
  /** Larger than the configured maximum. */
  | 'tooLarge'
  /** Objects/arrays nested deeper than {@link MAX_JSON_DEPTH} (relaying it would overflow the stack). */
  | 'tooDeep'
  /** A binary frame (the channel carries text only). */
  | 'binary'
  /** Not valid UTF-8 JSON. */
  | 'invalidJson'
  /** JSON, but not an object with a string `colibriClass`. */
  | 'notAMessage'
  /** A `colibriClass` this bridge does not accept from clients (including bridge → client classes). */
  | 'unknownClass'
  /** A known class with missing or invalid required fields. */
  | 'invalidFields';

/** Result of {@link parseInboundMessage}. */
export type ParseResult =
  | { readonly ok: true; readonly message: InboundMessage }
  | { readonly ok: false; readonly reason: InboundDropReason; readonly colibriClass?: string };

const finiteNumber = z.number();
const optionalNumber = finiteNumber.nullish().catch(undefined);
const optionalNames = z
  .array(z.unknown())
  .transform((list) => list.filter((n): n is string => typeof n === 'string'))
  .nullish()
  .catch(undefined);

const videoConstraintsSchema = z
  .object({ maxHeight: optionalNumber, maxFrameRate: optionalNumber })
  .transform((c): VideoConstraintsField => {
    const out: VideoConstraintsField = {};
    if (c.maxHeight != null) out.maxHeight = c.maxHeight;
    if (c.maxFrameRate != null) out.maxFrameRate = c.maxFrameRate;
    return out;
  });

const receiverVideoConstraintsSchema = z.object({
  lastN: optionalNumber,
  selectedSources: optionalNames,
  onStageSources: optionalNames,
  defaultConstraints: videoConstraintsSchema.nullish().catch(undefined),
  // An entry that is not an object is left out; a non-object map is treated as absent.
  constraints: z.record(z.string(), videoConstraintsSchema.nullable().catch(null)).nullish().catch(undefined),
  assumedBandwidthBps: optionalNumber,
});

const videoTypeSchema = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(['camera', 'desktop', 'desktop_high_fps', 'none', 'disabled']))
  .transform((t): SourceVideoType => (t === 'disabled' ? 'none' : t));

const lastNSchema = z.object({ lastN: finiteNumber });
const sourceVideoTypeSchema = z.object({ sourceName: z.string().min(1), videoType: videoTypeSchema });
const videoTypeMessageSchema = z.object({ videoType: videoTypeSchema });
const endpointMessageSchema = z.object({ to: z.string() });
const namesSchema = z.array(z.string());
const audioSubscriptionSchema = z.object({
  all: z.boolean().optional(),
  include: namesSchema.optional(),
  exclude: namesSchema.optional(),
  mode: z.enum(['All', 'None', 'Include', 'Exclude', 'Custom']).optional(),
  list: namesSchema.optional(),
});

function toAudioSubscription(m: z.output<typeof audioSubscriptionSchema>): ReceiverAudioSubscription {
  // Legacy LJM: `mode` + `list`; JVB's own relay form: `mode` All/None/Custom + include/exclude (PROTOCOL.md §6.2).
  switch (m.mode) {
    case 'All':
      return { all: true, include: [], exclude: [] };
    case 'None':
      return { all: false, include: [], exclude: [] };
    case 'Include':
      return { all: false, include: m.list ?? m.include ?? [], exclude: [] };
    case 'Exclude':
      return { all: true, include: [], exclude: m.list ?? m.exclude ?? [] };
    case 'Custom':
      return { all: false, include: m.include ?? [], exclude: m.exclude ?? [] };
    case undefined:
      return { all: m.all ?? true, include: m.include ?? [], exclude: m.exclude ?? [] };
  }
}

/** Copies `obj` without the listed keys (spread semantics: safe with own `__proto__` keys from JSON.parse). */
function without(obj: Record<string, unknown>, a: string, b?: string): Record<string, unknown> {
  const { [a]: _a, ...rest } = obj;
  if (b === undefined) return rest;
  const { [b]: _b, ...rest2 } = rest;
  return rest2;
}

function stripNullish<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null) out[k] = v;
  return out as T;
}

function parseObject(colibriClass: string, obj: Record<string, unknown>): InboundMessage | undefined | 'unknown' {
  switch (colibriClass) {
    case 'ReceiverVideoConstraints': {
      const r = receiverVideoConstraintsSchema.safeParse(obj);
      if (!r.success) return undefined;
      const msg = stripNullish(r.data) as Omit<ReceiverVideoConstraintsMessage, 'colibriClass'> & {
        constraints?: Record<string, VideoConstraintsField | null>;
      };
      if (msg.constraints !== undefined) {
        const constraints: Record<string, VideoConstraintsField> = {};
        for (const [name, c] of Object.entries(msg.constraints)) {
          if (c !== null) Object.defineProperty(constraints, name, { value: c, enumerable: true, writable: true, configurable: true });
        }
        msg.constraints = constraints;
      }
      return { colibriClass: 'ReceiverVideoConstraints', ...(msg as Omit<ReceiverVideoConstraintsMessage, 'colibriClass'>) };
    }
    case 'LastNChangedEvent': {
      const r = lastNSchema.safeParse(obj);
      return r.success ? { colibriClass: 'LastNChangedEvent', lastN: r.data.lastN } : undefined;
    }
    case 'SourceVideoTypeMessage': {
      const r = sourceVideoTypeSchema.safeParse(obj);
      return r.success ? { colibriClass: 'SourceVideoTypeMessage', sourceName: r.data.sourceName, videoType: r.data.videoType } : undefined;
    }
    case 'VideoTypeMessage': {
      const r = videoTypeMessageSchema.safeParse(obj);
      return r.success ? { colibriClass: 'VideoTypeMessage', videoType: r.data.videoType } : undefined;
    }
    case 'EndpointMessage': {
      // JVB requires `to`; a blank `to` is a broadcast. The rest is opaque: validate only, keep the original object.
      const r = endpointMessageSchema.safeParse(obj);
      if (!r.success) return undefined;
      const message = without(obj, COLIBRI_CLASS) as InboundEndpointMessage;
      message.to = r.data.to.trim() === '' ? '' : r.data.to;
      return { colibriClass: 'EndpointMessage', message };
    }
    case 'EndpointStats':
      return { colibriClass: 'EndpointStats', stats: without(obj, COLIBRI_CLASS, 'from') };
    case 'ReceiverAudioSubscription': {
      const r = audioSubscriptionSchema.safeParse(obj);
      return r.success ? { colibriClass: 'ReceiverAudioSubscription', subscription: toAudioSubscription(r.data) } : undefined;
    }
    case 'ClientHello':
      return { colibriClass: 'ClientHello' };
    default:
      return 'unknown';
  }
}

/**
 * Parses one inbound frame. Never throws: a frame that is binary, larger than `maxBytes`, not JSON, not an object
 * with a string `colibriClass`, of an unknown class or with invalid required fields comes back as
 * `{ ok: false, reason }`. Called once per received frame.
 */
export function parseInboundMessage(
  data: string | Buffer,
  options: { maxBytes?: number; isBinary?: boolean } = {},
): ParseResult {
  if (options.isBinary === true) return { ok: false, reason: 'binary' };
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.length;
  if (size > maxBytes) return { ok: false, reason: 'tooLarge' };
  let text: string;
  if (typeof data === 'string') {
    text = data;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      return { ok: false, reason: 'invalidJson' };
    }
  }
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return { ok: false, reason: 'tooDeep' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'invalidJson' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'notAMessage' };
  const obj = value as Record<string, unknown>;
  const colibriClass = obj[COLIBRI_CLASS];
  if (typeof colibriClass !== 'string') return { ok: false, reason: 'notAMessage' };
  const message = parseObject(colibriClass, obj);
  if (message === 'unknown') return { ok: false, reason: 'unknownClass', colibriClass: colibriClass.slice(0, 64) };
  if (message === undefined) return { ok: false, reason: 'invalidFields', colibriClass };
  return { ok: true, message };
}

// ---------------------------------------------------------------------------------------------------------------
// Outbound (bridge → client), PROTOCOL.md §6.3
// ---------------------------------------------------------------------------------------------------------------

/** `ServerHello`, sent when a WebSocket is accepted and in answer to `ClientHello`. */
export interface ServerHelloMessage {
  colibriClass: 'ServerHello';
  /** Bridge version (optional; LJM only logs it). */
  version?: string;
}

/** An `EndpointMessage` relayed to receivers: the sender's fields plus `from`. */
export interface OutboundEndpointMessage {
  colibriClass: 'EndpointMessage';
  /** As sent by the sender (`''` = broadcast). */
  to: string;
  /** The sender's endpoint id (its current MUC nick) — LJM drops messages from unknown senders (§9f item 9). */
  from: string;
  /** Opaque application payload. */
  msgPayload?: unknown;
  /** Other fields of the original message. */
  [field: string]: unknown;
}

/** `EndpointStats` relayed to receivers. */
export interface OutboundEndpointStats {
  colibriClass: 'EndpointStats';
  /** The sender's endpoint id. */
  from: string;
  /** The statistics fields. */
  [field: string]: unknown;
}

/** `DominantSpeakerEndpointChangeEvent`. */
export interface DominantSpeakerMessage {
  colibriClass: 'DominantSpeakerEndpointChangeEvent';
  /** Endpoint id of the new dominant speaker. */
  dominantSpeakerEndpoint: string;
  /** Previous dominant speakers, most recent first. */
  previousSpeakers: string[];
  /** True when the conference is silent (the dominant speaker is not speaking). */
  silence: boolean;
}

/** `ForwardedSources`: every video source currently forwarded to this receiver. */
export interface ForwardedSourcesMessage {
  colibriClass: 'ForwardedSources';
  /** Source names; a source not listed is shown as inactive by LJM. */
  forwardedSources: string[];
}

/** `SenderSourceConstraints`: caps what a sender sends for one of its sources. */
export interface SenderSourceConstraintsMessage {
  colibriClass: 'SenderSourceConstraints';
  /** The sender's source name. */
  sourceName: string;
  /** Max height in pixels: -1 = unlimited, 0 = stop sending. */
  maxHeight: number;
}

/** `LastNEndpointsChangeEvent` (legacy: current LJM ignores it and current JVB no longer sends it). */
export interface LastNEndpointsChangeMessage {
  colibriClass: 'LastNEndpointsChangeEvent';
  /** Endpoint ids in the receiver's last-N. */
  lastNEndpoints: string[];
  /** Endpoint ids that just entered the last-N (legacy JVB field). */
  endpointsEnteringLastN?: string[];
  /** All endpoint ids of the conference (legacy JVB field). */
  conferenceEndpoints?: string[];
}

/** `EndpointConnectivityStatusChangeEvent` (parsed by LJM, no consumer). */
export interface EndpointConnectivityStatusMessage {
  colibriClass: 'EndpointConnectivityStatusChangeEvent';
  /** The endpoint whose status changed. */
  endpoint: string;
  /** A string, not a boolean (JVB encodes it so and LJM compares with `'true'`). */
  active: 'true' | 'false';
}

/** `ConnectionStats`. */
export interface ConnectionStatsMessage {
  colibriClass: 'ConnectionStats';
  /** The bridge's estimate of the receiver's downlink, bps. */
  estimatedDownlinkBandwidth: number;
}

/** One entry of `VideoSourcesMap` (PROTOCOL.md §7.5). */
export interface VideoSourceMapEntry {
  /** Source name being mapped. */
  source: string;
  /** Endpoint that sends the source (JVB: nullable). */
  owner: string | null;
  /** The slot's primary SSRC (uint32). */
  ssrc: number;
  /** The slot's RTX SSRC (uint32). Always a real SSRC: LJM tests `rtx !== '-1'` as a string. */
  rtx: number;
  /** Upper-case video type. */
  videoType: MappedVideoType;
  /** Per-slot mid (only with `rtp-mid-demux`, not used). */
  mid?: string;
}

/** One entry of `AudioSourcesMap` (PROTOCOL.md §7.5). */
export interface AudioSourceMapEntry {
  /** Source name being mapped. */
  source: string;
  /** Endpoint that sends the source (JVB: nullable). */
  owner: string | null;
  /** The slot's SSRC (uint32). */
  ssrc: number;
  /** Per-slot mid (only with `rtp-mid-demux`, not used). */
  mid?: string;
}

/** `VideoSourcesMap` (SSRC-rewriting mode): changed entries, or all of them right after connect. */
export interface VideoSourcesMapMessage {
  colibriClass: 'VideoSourcesMap';
  /** Changed mappings. */
  mappedSources: VideoSourceMapEntry[];
}

/** `AudioSourcesMap` (SSRC-rewriting mode). */
export interface AudioSourcesMapMessage {
  colibriClass: 'AudioSourcesMap';
  /** Changed mappings. */
  mappedSources: AudioSourceMapEntry[];
}

/** Every bridge → client message. */
export type OutboundMessage =
  | ServerHelloMessage
  | OutboundEndpointMessage
  | OutboundEndpointStats
  | DominantSpeakerMessage
  | ForwardedSourcesMessage
  | SenderSourceConstraintsMessage
  | LastNEndpointsChangeMessage
  | EndpointConnectivityStatusMessage
  | ConnectionStatsMessage
  | VideoSourcesMapMessage
  | AudioSourcesMapMessage;

/** `ServerHello`, with `version` only when given. */
export function buildServerHello(version?: string): ServerHelloMessage {
  return version === undefined ? { colibriClass: 'ServerHello' } : { colibriClass: 'ServerHello', version };
}

/**
 * The relayed form of an endpoint message: all of the sender's fields (payload and extras as received), `to`
 * unchanged and `from` overwritten with the sender's endpoint id (JVB `EndpointMessage.from`).
 */
export function buildRelayedEndpointMessage(message: InboundEndpointMessage, from: string): OutboundEndpointMessage {
  return { colibriClass: 'EndpointMessage', ...without(message, COLIBRI_CLASS), to: message.to, from };
}

/** Endpoint statistics relayed to other endpoints with `from` = the sender's endpoint id. */
export function buildEndpointStats(stats: EndpointStatsPayload, from: string): OutboundEndpointStats {
  return { colibriClass: 'EndpointStats', ...without(stats, COLIBRI_CLASS), from };
}

/**
 * `DominantSpeakerEndpointChangeEvent`, from the speech-activity detector's change (`cc/speech-activity.ts`) or from
 * its fields.
 */
export function buildDominantSpeakerChange(change: DominantSpeakerChange): DominantSpeakerMessage;
export function buildDominantSpeakerChange(
  dominantSpeakerEndpoint: string,
  previousSpeakers?: readonly string[],
  silence?: boolean,
): DominantSpeakerMessage;
export function buildDominantSpeakerChange(
  a: string | DominantSpeakerChange,
  previousSpeakers: readonly string[] = [],
  silence = false,
): DominantSpeakerMessage {
  if (typeof a !== 'string') {
    return {
      colibriClass: 'DominantSpeakerEndpointChangeEvent',
      dominantSpeakerEndpoint: a.dominantSpeaker,
      previousSpeakers: [...a.previousSpeakers],
      silence: a.silence,
    };
  }
  return { colibriClass: 'DominantSpeakerEndpointChangeEvent', dominantSpeakerEndpoint: a, previousSpeakers: [...previousSpeakers], silence };
}

/** `ForwardedSources`. */
export function buildForwardedSources(forwardedSources: Iterable<string>): ForwardedSourcesMessage {
  return { colibriClass: 'ForwardedSources', forwardedSources: [...forwardedSources] };
}

/** `SenderSourceConstraints`; a negative or non-finite height is sent as -1 (unlimited). */
export function buildSenderSourceConstraints(sourceName: string, maxHeight: number): SenderSourceConstraintsMessage {
  const h = Number.isFinite(maxHeight) && maxHeight >= 0 ? Math.floor(maxHeight) : -1;
  return { colibriClass: 'SenderSourceConstraints', sourceName, maxHeight: h };
}

/** `LastNEndpointsChangeEvent` (legacy; see {@link LastNEndpointsChangeEvent}). */
export function buildLastNEndpointsChange(
  lastNEndpoints: Iterable<string>,
  extra: { endpointsEnteringLastN?: Iterable<string>; conferenceEndpoints?: Iterable<string> } = {},
): LastNEndpointsChangeMessage {
  const msg: LastNEndpointsChangeMessage = { colibriClass: 'LastNEndpointsChangeEvent', lastNEndpoints: [...lastNEndpoints] };
  if (extra.endpointsEnteringLastN !== undefined) msg.endpointsEnteringLastN = [...extra.endpointsEnteringLastN];
  if (extra.conferenceEndpoints !== undefined) msg.conferenceEndpoints = [...extra.conferenceEndpoints];
  return msg;
}

/** `EndpointConnectivityStatusChangeEvent` with `active` as the string JVB sends. */
export function buildEndpointConnectivityStatus(endpoint: string, active: boolean): EndpointConnectivityStatusMessage {
  return { colibriClass: 'EndpointConnectivityStatusChangeEvent', endpoint, active: active ? 'true' : 'false' };
}

/** `ConnectionStats`. */
export function buildConnectionStats(estimatedDownlinkBandwidthBps: number): ConnectionStatsMessage {
  return { colibriClass: 'ConnectionStats', estimatedDownlinkBandwidth: Math.max(0, Math.round(estimatedDownlinkBandwidthBps)) };
}

/** Maps a source's video type to the upper-case form used in `VideoSourcesMap`. */
export function toMappedVideoType(videoType: SourceVideoType | 'disabled'): MappedVideoType {
  switch (videoType) {
    case 'camera':
      return 'CAMERA';
    case 'desktop':
      return 'DESKTOP';
    case 'desktop_high_fps':
      return 'DESKTOP_HIGH_FPS';
    case 'none':
      return 'NONE';
    case 'disabled':
      return 'DISABLED';
  }
}

/** Input entry of {@link buildVideoSourcesMap}. */
export interface VideoSourceMapEntryInput {
  /** Source name. */
  source: string;
  /** Owner endpoint id (null if unknown). */
  owner: string | null;
  /** Slot SSRC. */
  ssrc: number;
  /** Slot RTX SSRC. */
  rtx: number;
  /** Video type, either form. */
  videoType: SourceVideoType | 'disabled' | MappedVideoType;
  /** Optional mid. */
  mid?: string;
}

/** `VideoSourcesMap`; lower-case video types are converted, SSRCs are checked to be uint32. */
export function buildVideoSourcesMap(entries: Iterable<VideoSourceMapEntryInput>): VideoSourcesMapMessage {
  const mappedSources: VideoSourceMapEntry[] = [];
  for (const e of entries) {
    const videoType = isMappedVideoType(e.videoType) ? e.videoType : toMappedVideoType(e.videoType);
    const m: VideoSourceMapEntry = { source: e.source, owner: e.owner, ssrc: uint32(e.ssrc), rtx: uint32(e.rtx), videoType };
    if (e.mid !== undefined) m.mid = e.mid;
    mappedSources.push(m);
  }
  return { colibriClass: 'VideoSourcesMap', mappedSources };
}

/** `AudioSourcesMap`. */
export function buildAudioSourcesMap(entries: Iterable<AudioSourceMapEntry>): AudioSourcesMapMessage {
  const mappedSources: AudioSourceMapEntry[] = [];
  for (const e of entries) {
    const m: AudioSourceMapEntry = { source: e.source, owner: e.owner, ssrc: uint32(e.ssrc) };
    if (e.mid !== undefined) m.mid = e.mid;
    mappedSources.push(m);
  }
  return { colibriClass: 'AudioSourcesMap', mappedSources };
}

function isMappedVideoType(t: string): t is MappedVideoType {
  return t === 'CAMERA' || t === 'DESKTOP' || t === 'DESKTOP_HIGH_FPS' || t === 'NONE' || t === 'DISABLED';
}

function uint32(ssrc: number): number {
  if (!Number.isInteger(ssrc) || ssrc < 0 || ssrc > 0xffffffff) throw new TypeError(`invalid SSRC ${ssrc}`);
  return ssrc;
}

// ---------------------------------------------------------------------------------------------------------------
// Serialization
// ---------------------------------------------------------------------------------------------------------------

/**
 * A message serialized once, ready to be sent to one or many channels. `coalesceKey` identifies state messages
 * that supersede an earlier queued message with the same key (see `BridgeChannel`); undefined for messages that
 * must all be delivered (endpoint messages, source-map deltas). Create with {@link serializeMessage}.
 */
export class SerializedMessage {
  /**
   * @param text The JSON text.
   * @param colibriClass The message class.
   * @param coalesceKey Key of the state this message replaces when queued; undefined = never coalesced.
   */
  constructor(
    readonly text: string,
    readonly colibriClass: OutboundMessage['colibriClass'],
    readonly coalesceKey: string | undefined,
  ) {}
}

/**
 * The queue-coalescing key of a message: messages that describe current state (latest wins) get one; deltas and
 * relayed messages get none.
 */
export function coalesceKeyOf(msg: OutboundMessage): string | undefined {
  switch (msg.colibriClass) {
    case 'ForwardedSources':
    case 'DominantSpeakerEndpointChangeEvent':
    case 'LastNEndpointsChangeEvent':
    case 'ConnectionStats':
    case 'ServerHello':
      return msg.colibriClass;
    case 'SenderSourceConstraints':
      return `SenderSourceConstraints/${msg.sourceName}`;
    case 'EndpointConnectivityStatusChangeEvent':
      return `EndpointConnectivityStatusChangeEvent/${msg.endpoint}`;
    case 'EndpointStats':
      return `EndpointStats/${msg.from}`;
    case 'EndpointMessage':
    case 'VideoSourcesMap':
    case 'AudioSourcesMap':
      return undefined;
  }
}

/** Serializes a message once (use the result with `BridgeChannel.sendSerialized` or `broadcast`). */
export function serializeMessage(msg: OutboundMessage): SerializedMessage {
  return new SerializedMessage(JSON.stringify(msg), msg.colibriClass, coalesceKeyOf(msg));
}

/** Deepest object/array nesting accepted in a client message (Jitsi's messages nest a few levels). */
export const MAX_JSON_DEPTH = 32;

/** True if the JSON text nests objects/arrays deeper than `max` (string contents are skipped). */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}
