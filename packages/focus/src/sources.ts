/**
 * The conference's sources: which endpoint owns which SSRCs, source names and SSRC groups. Validates what clients
 * announce (session-accept, source-add, source-remove) before anything is stored or forwarded, and produces the
 * receiver view (simulcast stripped) that goes into session-initiate and source-add.
 *
 * Validation follows Jicofo's `ValidatingConferenceSourceMap` (atomic: a rejected request changes nothing) with the
 * same limits (`max-ssrcs-per-user = 20`, `max-ssrc-groups-per-user = 20`), plus name rules the receivers depend on:
 * every source has a name, all SSRCs of one source share it, and no two sources (of any endpoint) use the same name.
 * Every rejection is a {@link SourceError} answered with `bad-request` (PROTOCOL §4.6/§4.7).
 *
 * References:
 * - PROTOCOL.md §4.4 (what a remote source contains; strip simulcast; never SIM groups towards receivers),
 *   §4.6 (validation on session-accept), §4.7 (source-add/remove), §9f item 2
 * - Jicofo `jicofo-common/.../conference/source/{ValidatingConferenceSourceMap,EndpointSourceSet,Source,SsrcGroup}.kt`
 * - https://xmpp.org/extensions/xep-0339.html (ssrc-group semantics), RFC 5576 §4.2 (FID), RFC 4588 (RTX)
 */
import { StanzaError } from '@jitsi-one/xmpp';
import type { Content, JsonOwnerSources, JsonSources, Source } from './jingle/types.js';
import { emptyDescription } from './jingle/xml.js';

/** Media type of a source. */
export type MediaType = 'audio' | 'video';

/** Video type of a video source (LJM's `desktop_high_fps` is stored as `desktop`). */
export type VideoType = 'camera' | 'desktop';

/** SSRC group semantics the focus accepts (Jicofo `SsrcGroupSemantics`). */
export type SsrcGroupSemantics = 'SIM' | 'FID';

/** One SSRC of an endpoint with the attributes of its (named) source. */
export interface SourceDesc {
  /** 32-bit SSRC, 1…2^32-1. */
  ssrc: number;
  /** Source name (`<endpoint>-<a|v><n>`), shared by all SSRCs of one source (simulcast layers, RTX). */
  name: string;
  mediaType: MediaType;
  /** Video only; undefined means camera. */
  videoType?: VideoType;
  /** `<stream-id> <track-id>`; required for grouped sources. */
  msid?: string;
}

/** An SSRC group of an endpoint. */
export interface SsrcGroupDesc {
  /** `SIM`: simulcast layers low → high. `FID`: [primary, rtx]. */
  semantics: SsrcGroupSemantics;
  ssrcs: number[];
  mediaType: MediaType;
}

/** The sources and groups of one endpoint (or a delta of them). */
export interface EndpointSourceSet {
  sources: SourceDesc[];
  groups: SsrcGroupDesc[];
}

/** Owner endpoint id → its sources. */
export type SourceMap = ReadonlyMap<string, EndpointSourceSet>;

/** What changed between two source maps. */
export interface SourceMapDiff {
  /** Present in the new map, not in the old one. */
  added: Map<string, EndpointSourceSet>;
  /** Present in the old map, not in the new one. */
  removed: Map<string, EndpointSourceSet>;
}

/** Jicofo `max-ssrcs-per-user`. */
export const MAX_SSRCS_PER_ENDPOINT = 20;
/** Jicofo `max-ssrc-groups-per-user`. */
export const MAX_SSRC_GROUPS_PER_ENDPOINT = 20;

/** Machine-readable reasons a source change is rejected. */
export type SourceErrorCode =
  /** SSRC 0, negative, ≥ 2^32 or not an integer. */
  | 'invalid-ssrc'
  /** A source without name, with an unknown media or video type. */
  | 'invalid-source'
  /** An SSRC already used (by another endpoint, by the same endpoint, or twice in the request). */
  | 'ssrc-conflict'
  /** A source name used by another endpoint or by another source of the same endpoint. */
  | 'name-conflict'
  /** An msid used by another endpoint or by another source of the same endpoint and media type. */
  | 'msid-conflict'
  /** More than the per-endpoint SSRC limit. */
  | 'ssrc-limit'
  /** More than the per-endpoint group limit. */
  | 'group-limit'
  /** A malformed group: unknown semantics, FID without exactly 2 SSRCs, repeated SSRC, mixed media. */
  | 'invalid-group'
  /** A group member that is not a source of the same endpoint. */
  | 'group-unknown-source'
  /** Group members that disagree on msid or name, or lack an msid. */
  | 'group-mismatch'
  /** Removing an SSRC the endpoint does not have. */
  | 'unknown-source'
  /** Removing an SSRC another endpoint owns. */
  | 'not-owner'
  /** Removing a group the endpoint does not have. */
  | 'unknown-group';

/** A source change was rejected; nothing was changed. Always answered with `bad-request`. */
export class SourceError extends Error {
  override readonly name: string = 'SourceError';
  readonly code: SourceErrorCode;
  /** The stanza condition for the IQ reply. */
  readonly condition = 'bad-request' as const;
  /** The SSRC the error is about, if any. */
  readonly ssrc: number | undefined;

  constructor(code: SourceErrorCode, message: string, options: { ssrc?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.ssrc = options.ssrc;
  }

  /** The stanza error for the IQ reply. */
  toStanzaError(): StanzaError {
    return new StanzaError(this.condition, { text: this.message });
  }
}

/** An SSRC, name or msid is already owned by another endpoint (or, for SSRCs, by the same one). */
export class SourceConflictError extends SourceError {
  override readonly name: string = 'SourceConflictError';
  /** The endpoint that already owns the SSRC/name/msid. */
  readonly owner: string;

  constructor(
    code: 'ssrc-conflict' | 'name-conflict' | 'msid-conflict',
    message: string,
    owner: string,
    options: { ssrc?: number } = {},
  ) {
    super(code, message, options);
    this.owner = owner;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pure helpers on EndpointSourceSet

function copySet(set: EndpointSourceSet): EndpointSourceSet {
  return {
    sources: set.sources.map((s) => ({ ...s })),
    groups: set.groups.map((g) => ({ ...g, ssrcs: [...g.ssrcs] })),
  };
}

function isEmptySet(set: EndpointSourceSet): boolean {
  return set.sources.length === 0 && set.groups.length === 0;
}

function sameGroup(a: SsrcGroupDesc, b: SsrcGroupDesc): boolean {
  return a.semantics === b.semantics && a.ssrcs.length === b.ssrcs.length && a.ssrcs.every((s, i) => s === b.ssrcs[i]);
}

function sameSource(a: SourceDesc, b: SourceDesc): boolean {
  return (
    a.ssrc === b.ssrc &&
    a.name === b.name &&
    a.mediaType === b.mediaType &&
    (a.videoType ?? 'camera') === (b.videoType ?? 'camera') &&
    a.msid === b.msid
  );
}

/**
 * The receiver view of one endpoint's sources (Jicofo `EndpointSourceSet.stripSimulcast`): for each SIM group only
 * its first SSRC stays, plus that SSRC's FID (RTX) partner; the SIM group, the other layers and their RTX SSRCs and
 * FID groups go. Receivers must never see SIM groups (PROTOCOL §4.4.2, §9f item 2).
 */
export function stripSimulcast(set: EndpointSourceSet): EndpointSourceSet {
  const dropSsrcs = new Set<number>();
  const dropGroups = new Set<SsrcGroupDesc>();
  for (const g of set.groups) {
    if (g.semantics !== 'SIM') continue;
    dropGroups.add(g);
    g.ssrcs.forEach((ssrc, i) => {
      if (i > 0) dropSsrcs.add(ssrc);
    });
  }
  for (const g of set.groups) {
    if (g.semantics !== 'FID') continue;
    const [primary, rtx] = g.ssrcs;
    if (primary !== undefined && dropSsrcs.has(primary)) {
      if (rtx !== undefined) dropSsrcs.add(rtx);
      dropGroups.add(g);
    }
  }
  return copySet({
    sources: set.sources.filter((s) => !dropSsrcs.has(s.ssrc)),
    groups: set.groups.filter((g) => !dropGroups.has(g)),
  });
}

/**
 * The key of the "extended group" an SSRC belongs to (Jicofo `groupBySimulcastGroup`): the SIM group containing it,
 * else the SIM group containing its FID primary, else its FID group, else the SSRC alone. All SSRCs of one source
 * share a key.
 */
function extendedGroupKey(ssrc: number, groups: readonly SsrcGroupDesc[]): string {
  const sim = groups.find((g) => g.semantics === 'SIM' && g.ssrcs.includes(ssrc));
  if (sim) return `SIM:${sim.ssrcs.join(',')}`;
  const fid = groups.find((g) => g.semantics === 'FID' && g.ssrcs.includes(ssrc));
  if (fid) {
    const primary = fid.ssrcs[0];
    const sim2 = groups.find((g) => g.semantics === 'SIM' && primary !== undefined && g.ssrcs.includes(primary));
    if (sim2) return `SIM:${sim2.ssrcs.join(',')}`;
    return `FID:${fid.ssrcs.join(',')}`;
  }
  return `SSRC:${ssrc}`;
}

/**
 * Internal consistency of one endpoint's complete set (Jicofo `validateEndpointSourceSet`, plus names): FID groups
 * have exactly two SSRCs; grouped sources have an msid and group members agree on msid and name; each source (extended
 * group) has a distinct msid per media type and a distinct name.
 */
function validateEndpointSet(set: EndpointSourceSet): void {
  const bySsrc = new Map(set.sources.map((s) => [s.ssrc, s]));
  for (const g of set.groups) {
    if (g.semantics === 'FID' && g.ssrcs.length !== 2) {
      throw new SourceError('invalid-group', `FID group must have 2 SSRCs: [${g.ssrcs.join(' ')}]`);
    }
    let msid: string | undefined;
    let name: string | undefined;
    for (const ssrc of g.ssrcs) {
      const s = bySsrc.get(ssrc);
      if (!s) throw new SourceError('group-unknown-source', `group member ${ssrc} is not a source`, { ssrc });
      if (s.msid === undefined) throw new SourceError('group-mismatch', `grouped source ${ssrc} has no msid`, { ssrc });
      msid ??= s.msid;
      name ??= s.name;
      if (s.msid !== msid) {
        throw new SourceError('group-mismatch', `msid differs within ${g.semantics} group`, { ssrc });
      }
      if (s.name !== name) {
        throw new SourceError('group-mismatch', `name differs within ${g.semantics} group`, { ssrc });
      }
    }
  }
  const nameKey = new Map<string, string>();
  const msidKey = new Map<string, string>();
  for (const s of set.sources) {
    const key = `${s.mediaType}/${extendedGroupKey(s.ssrc, set.groups)}`;
    const seenName = nameKey.get(s.name);
    if (seenName !== undefined && seenName !== key) {
      throw new SourceError('name-conflict', `source name '${s.name}' used by two sources`, { ssrc: s.ssrc });
    }
    nameKey.set(s.name, key);
    if (s.msid !== undefined) {
      // Audio and video sources may share an msid (Jicofo).
      const mk = `${s.mediaType}/${s.msid}`;
      const seenMsid = msidKey.get(mk);
      if (seenMsid !== undefined && seenMsid !== key) {
        throw new SourceError('msid-conflict', `msid '${s.msid}' used by two ${s.mediaType} sources`, { ssrc: s.ssrc });
      }
      msidKey.set(mk, key);
    }
  }
}

/** Normalise and check one source as announced (before conflicts are looked at). */
function checkSource(s: SourceDesc): SourceDesc {
  if (!Number.isInteger(s.ssrc) || s.ssrc <= 0 || s.ssrc > 0xffff_ffff) {
    throw new SourceError('invalid-ssrc', `invalid SSRC ${String(s.ssrc)}`, { ssrc: s.ssrc });
  }
  if (s.mediaType !== 'audio' && s.mediaType !== 'video') {
    throw new SourceError('invalid-source', `invalid media type '${String(s.mediaType)}'`, { ssrc: s.ssrc });
  }
  if (typeof s.name !== 'string' || s.name === '') {
    throw new SourceError('invalid-source', `source ${s.ssrc} has no name`, { ssrc: s.ssrc });
  }
  const out: SourceDesc = { ssrc: s.ssrc, name: s.name, mediaType: s.mediaType };
  if (s.mediaType === 'video' && s.videoType !== undefined) out.videoType = normaliseVideoType(s.videoType, s.ssrc);
  if (s.msid !== undefined && s.msid !== '') out.msid = s.msid;
  return out;
}

function normaliseVideoType(v: string, ssrc: number): VideoType {
  const lower = v.toLowerCase();
  if (lower === 'camera') return 'camera';
  // LJM treats desktop_high_fps as desktop (PROTOCOL §4.4.1).
  if (lower === 'desktop' || lower === 'desktop_high_fps') return 'desktop';
  throw new SourceError('invalid-source', `invalid videoType '${v}'`, { ssrc });
}

function checkGroupShape(g: SsrcGroupDesc): void {
  if (g.semantics !== 'SIM' && g.semantics !== 'FID') {
    throw new SourceError('invalid-group', `unsupported ssrc-group semantics '${String(g.semantics)}'`);
  }
  if (new Set(g.ssrcs).size !== g.ssrcs.length) {
    throw new SourceError('invalid-group', `SSRC repeated in ${g.semantics} group [${g.ssrcs.join(' ')}]`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Jingle conversions

/**
 * The sources announced in Jingle contents (a client's session-accept, source-add or source-remove), ignoring any
 * `ssrc-info` owner (the sender is the owner). Media type comes from `description@media`.
 *
 * @throws SourceError `invalid-source` for a source without name, with a bad videoType or in a non-RTP content;
 *   `invalid-group` for semantics other than SIM/FID.
 */
export function sourceSetFromJingle(contents: readonly Content[]): EndpointSourceSet {
  const set: EndpointSourceSet = { sources: [], groups: [] };
  for (const c of contents) {
    const d = c.description;
    if (!d) continue;
    if (d.media !== 'audio' && d.media !== 'video') {
      if (d.sources.length > 0 || d.ssrcGroups.length > 0) {
        throw new SourceError('invalid-source', `sources in a '${d.media}' description`);
      }
      continue;
    }
    const mediaType = d.media;
    for (const s of d.sources) set.sources.push(sourceFromJingle(s, mediaType));
    for (const g of d.ssrcGroups) {
      if (g.semantics !== 'SIM' && g.semantics !== 'FID') {
        throw new SourceError('invalid-group', `unsupported ssrc-group semantics '${g.semantics}'`);
      }
      set.groups.push({ semantics: g.semantics, ssrcs: [...g.ssrcs], mediaType });
    }
  }
  return set;
}

function sourceFromJingle(s: Source, mediaType: MediaType): SourceDesc {
  if (s.name === undefined) throw new SourceError('invalid-source', `source ${s.ssrc} has no name`, { ssrc: s.ssrc });
  const out: SourceDesc = { ssrc: s.ssrc, name: s.name, mediaType };
  if (mediaType === 'video' && s.videoType !== undefined) out.videoType = normaliseVideoType(s.videoType, s.ssrc);
  if (s.msid !== undefined) out.msid = s.msid;
  return out;
}

/**
 * Jingle contents describing the sources of several owners, each `<source>` with `name`, `videoType` (video),
 * `msid` and `<ssrc-info owner>` (PROTOCOL §4.4.1). One `audio` and one `video` content (only those with something
 * in them), without creator, as Jicofo sends in source-add/source-remove. Does not strip simulcast: pass
 * {@link stripSimulcast}ed sets for receivers.
 */
export function sourceMapToJingle(map: SourceMap): Content[] {
  const audio = emptyDescription('audio');
  const video = emptyDescription('video');
  for (const [owner, set] of map) {
    for (const s of set.sources) {
      const src: Source = { ssrc: s.ssrc, name: s.name, owner, parameters: [] };
      // Absent means camera for LJM, so nothing is invented.
      if (s.mediaType === 'video' && s.videoType !== undefined) src.videoType = s.videoType;
      if (s.msid !== undefined) src.msid = s.msid;
      (s.mediaType === 'audio' ? audio : video).sources.push(src);
    }
    for (const g of set.groups) {
      (g.mediaType === 'audio' ? audio : video).ssrcGroups.push({ semantics: g.semantics, ssrcs: [...g.ssrcs] });
    }
  }
  const out: Content[] = [];
  if (audio.sources.length > 0 || audio.ssrcGroups.length > 0) out.push({ name: 'audio', description: audio });
  if (video.sources.length > 0 || video.ssrcGroups.length > 0) out.push({ name: 'video', description: video });
  return out;
}

/** The compact JSON encoding of several owners' sources (PROTOCOL §4.4.3; `"v":"d"` only for desktop). */
export function sourceMapToJsonSources(map: SourceMap): JsonSources {
  const out: JsonSources = new Map();
  for (const [owner, set] of map) {
    const entry: JsonOwnerSources = { video: [], videoGroups: [], audio: [], audioGroups: [] };
    for (const s of set.sources) {
      const js: { ssrc: number; name?: string; msid?: string; desktop?: boolean } = { ssrc: s.ssrc, name: s.name };
      if (s.msid !== undefined) js.msid = s.msid;
      if (s.videoType === 'desktop') js.desktop = true;
      (s.mediaType === 'audio' ? entry.audio : entry.video).push(js);
    }
    for (const g of set.groups) {
      (g.mediaType === 'audio' ? entry.audioGroups : entry.videoGroups).push({
        semantics: g.semantics,
        ssrcs: [...g.ssrcs],
      });
    }
    out.set(owner, entry);
  }
  return out;
}

/** `added` = in `next` but not in `previous`; `removed` = in `previous` but not in `next` (sources by value). */
export function diffSourceMaps(previous: SourceMap, next: SourceMap): SourceMapDiff {
  const minus = (a: SourceMap, b: SourceMap): Map<string, EndpointSourceSet> => {
    const out = new Map<string, EndpointSourceSet>();
    for (const [owner, set] of a) {
      const other = b.get(owner);
      const sources = set.sources.filter((s) => !other?.sources.some((o) => sameSource(s, o)));
      const groups = set.groups.filter(
        (g) => !other?.groups.some((o) => sameGroup(g, o) && g.mediaType === o.mediaType),
      );
      if (sources.length > 0 || groups.length > 0) out.set(owner, copySet({ sources, groups }));
    }
    return out;
  };
  return { added: minus(next, previous), removed: minus(previous, next) };
}

// ---------------------------------------------------------------------------------------------------------------
// ConferenceSourceMap

/** Limits of a {@link ConferenceSourceMap}. */
export interface ConferenceSourceMapOptions {
  /** Default {@link MAX_SSRCS_PER_ENDPOINT}. */
  maxSsrcsPerEndpoint?: number;
  /** Default {@link MAX_SSRC_GROUPS_PER_ENDPOINT}. */
  maxGroupsPerEndpoint?: number;
}

/**
 * All sources of one conference, keyed by owner endpoint id, with validated changes. Every mutator is atomic: it
 * either applies completely or throws a {@link SourceError} and changes nothing. Returned sets are copies.
 */
export class ConferenceSourceMap {
  readonly #maxSsrcs: number;
  readonly #maxGroups: number;
  readonly #byOwner = new Map<string, EndpointSourceSet>();
  readonly #ssrcOwner = new Map<number, string>();
  readonly #nameOwner = new Map<string, string>();
  readonly #msidOwner = new Map<string, string>();

  constructor(options: ConferenceSourceMapOptions = {}) {
    this.#maxSsrcs = options.maxSsrcsPerEndpoint ?? MAX_SSRCS_PER_ENDPOINT;
    this.#maxGroups = options.maxGroupsPerEndpoint ?? MAX_SSRC_GROUPS_PER_ENDPOINT;
  }

  /**
   * A map holding the sources described by Jingle contents with `ssrc-info` owners (e.g. an offer or source-add the
   * focus sent), each owner's set validated by {@link add}. Groups belong to the owner of their first SSRC.
   *
   * @param defaultOwner owner for sources without `ssrc-info`; without it such sources are an `invalid-source` error.
   */
  static fromJingle(contents: readonly Content[], defaultOwner?: string): ConferenceSourceMap {
    const perOwner = new Map<string, EndpointSourceSet>();
    const ownerOfSsrc = new Map<number, string>();
    const setOf = (owner: string): EndpointSourceSet => {
      let set = perOwner.get(owner);
      if (!set) perOwner.set(owner, (set = { sources: [], groups: [] }));
      return set;
    };
    for (const c of contents) {
      const d = c.description;
      if (!d || (d.media !== 'audio' && d.media !== 'video')) continue;
      for (const s of d.sources) {
        const owner = s.owner ?? defaultOwner;
        if (owner === undefined) {
          throw new SourceError('invalid-source', `source ${s.ssrc} has no owner`, { ssrc: s.ssrc });
        }
        setOf(owner).sources.push(sourceFromJingle(s, d.media));
        ownerOfSsrc.set(s.ssrc, owner);
      }
    }
    for (const c of contents) {
      const d = c.description;
      if (!d || (d.media !== 'audio' && d.media !== 'video')) continue;
      for (const g of d.ssrcGroups) {
        const first = g.ssrcs[0];
        const owner = (first !== undefined ? ownerOfSsrc.get(first) : undefined) ?? defaultOwner;
        if (owner === undefined) {
          throw new SourceError('group-unknown-source', `group member ${first ?? '-'} is not a source`);
        }
        if (g.semantics !== 'SIM' && g.semantics !== 'FID') {
          throw new SourceError('invalid-group', `unsupported ssrc-group semantics '${g.semantics}'`);
        }
        setOf(owner).groups.push({ semantics: g.semantics, ssrcs: [...g.ssrcs], mediaType: d.media });
      }
    }
    const map = new ConferenceSourceMap();
    for (const [owner, set] of perOwner) map.add(owner, set);
    return map;
  }

  /** Number of owners with sources. */
  get size(): number {
    return this.#byOwner.size;
  }

  /** Whether no endpoint has sources. */
  isEmpty(): boolean {
    return this.#byOwner.size === 0;
  }

  /** A copy of an owner's sources. */
  get(owner: string): EndpointSourceSet | undefined {
    const set = this.#byOwner.get(owner);
    return set ? copySet(set) : undefined;
  }

  /** Whether the owner has any sources. */
  has(owner: string): boolean {
    return this.#byOwner.has(owner);
  }

  /** The owner of an SSRC. */
  ownerOf(ssrc: number): string | undefined {
    return this.#ssrcOwner.get(ssrc);
  }

  /** Owners, in the order they first announced sources. */
  owners(): string[] {
    return [...this.#byOwner.keys()];
  }

  /** Copies of all (owner, sources) pairs. */
  *entries(): IterableIterator<[string, EndpointSourceSet]> {
    for (const [owner, set] of this.#byOwner) yield [owner, copySet(set)];
  }

  /** A plain-map snapshot, optionally without some owners (e.g. the receiver itself). */
  toMap(options: { exclude?: Iterable<string> } = {}): Map<string, EndpointSourceSet> {
    const exclude = new Set(options.exclude ?? []);
    const out = new Map<string, EndpointSourceSet>();
    for (const [owner, set] of this.#byOwner) if (!exclude.has(owner)) out.set(owner, copySet(set));
    return out;
  }

  /**
   * Validate and add sources announced by `owner` (session-accept or source-add). Empty groups and groups the owner
   * already has are ignored, as in Jicofo.
   *
   * @returns the accepted sources and groups (what to forward to the others, before stripping simulcast).
   * @throws SourceError (`invalid-ssrc`, `invalid-source`, `ssrc-limit`, `group-limit`, `invalid-group`,
   *   `group-unknown-source`, `group-mismatch`, `name-conflict`, `msid-conflict`) or SourceConflictError when an
   *   SSRC, name or msid belongs to another endpoint (or the SSRC to this one already). Nothing is changed then.
   */
  add(owner: string, set: EndpointSourceSet): EndpointSourceSet {
    const existing = this.#byOwner.get(owner) ?? { sources: [], groups: [] };
    const sources = set.sources.map(checkSource);
    const seen = new Set<number>();
    for (const s of sources) {
      if (seen.has(s.ssrc)) {
        throw new SourceConflictError('ssrc-conflict', `SSRC ${s.ssrc} announced twice`, owner, { ssrc: s.ssrc });
      }
      seen.add(s.ssrc);
      const ssrcOwner = this.#ssrcOwner.get(s.ssrc);
      if (ssrcOwner !== undefined) {
        throw new SourceConflictError('ssrc-conflict', `SSRC ${s.ssrc} is already used`, ssrcOwner, { ssrc: s.ssrc });
      }
      const nameOwner = this.#nameOwner.get(s.name);
      if (nameOwner !== undefined && nameOwner !== owner) {
        const message = `source name '${s.name}' belongs to another endpoint`;
        throw new SourceConflictError('name-conflict', message, nameOwner, { ssrc: s.ssrc });
      }
      const msidOwner = s.msid === undefined ? undefined : this.#msidOwner.get(s.msid);
      if (msidOwner !== undefined && msidOwner !== owner) {
        const message = `msid '${s.msid ?? ''}' belongs to another endpoint`;
        throw new SourceConflictError('msid-conflict', message, msidOwner, { ssrc: s.ssrc });
      }
    }
    if (existing.sources.length + sources.length > this.#maxSsrcs) {
      throw new SourceError('ssrc-limit', `more than ${this.#maxSsrcs} SSRCs per endpoint`);
    }

    const resultingSources = [...existing.sources, ...sources];
    const resultingMedia = new Map(resultingSources.map((s) => [s.ssrc, s.mediaType]));
    const groups: SsrcGroupDesc[] = [];
    for (const g of set.groups) {
      checkGroupShape(g);
      if (g.ssrcs.length === 0) continue;
      if (existing.groups.some((e) => sameGroup(e, g)) || groups.some((e) => sameGroup(e, g))) continue;
      for (const ssrc of g.ssrcs) {
        const media = resultingMedia.get(ssrc);
        if (media === undefined) {
          const message = `${g.semantics} group member ${ssrc} is not a source of ${owner}`;
          throw new SourceError('group-unknown-source', message, { ssrc });
        }
        if (media !== g.mediaType) {
          throw new SourceError('invalid-group', `${g.semantics} group mixes media types`, { ssrc });
        }
      }
      groups.push({ semantics: g.semantics, ssrcs: [...g.ssrcs], mediaType: g.mediaType });
    }
    if (existing.groups.length + groups.length > this.#maxGroups) {
      throw new SourceError('group-limit', `more than ${this.#maxGroups} SSRC groups per endpoint`);
    }
    const resulting: EndpointSourceSet = { sources: resultingSources, groups: [...existing.groups, ...groups] };
    validateEndpointSet(resulting);

    this.#byOwner.set(owner, copySet(resulting));
    for (const s of sources) {
      this.#ssrcOwner.set(s.ssrc, owner);
      this.#nameOwner.set(s.name, owner);
      if (s.msid !== undefined) this.#msidOwner.set(s.msid, owner);
    }
    return copySet({ sources, groups });
  }

  /**
   * Validate and remove sources of `owner` (source-remove). Sources are matched by SSRC only (the other attributes
   * may be omitted); groups containing a removed SSRC are removed with it.
   *
   * @returns the removed sources (complete descriptions) and groups (listed and implied).
   * @throws SourceError `not-owner` (an SSRC of another endpoint), `unknown-source`, `unknown-group`, or a validation
   *   error if the remainder would be inconsistent. Nothing is changed then.
   */
  remove(owner: string, set: EndpointSourceSet): EndpointSourceSet {
    if (isEmptySet(set)) return { sources: [], groups: [] };
    const existing = this.#byOwner.get(owner) ?? { sources: [], groups: [] };
    const removedSources: SourceDesc[] = [];
    for (const s of set.sources) {
      const found = existing.sources.find((e) => e.ssrc === s.ssrc);
      if (!found) {
        const other = this.#ssrcOwner.get(s.ssrc);
        if (other !== undefined && other !== owner) {
          throw new SourceError('not-owner', `SSRC ${s.ssrc} belongs to another endpoint`, { ssrc: s.ssrc });
        }
        throw new SourceError('unknown-source', `no source with SSRC ${s.ssrc}`, { ssrc: s.ssrc });
      }
      if (!removedSources.includes(found)) removedSources.push(found);
    }
    const removedGroups: SsrcGroupDesc[] = [];
    for (const g of set.groups) {
      const found = existing.groups.find((e) => sameGroup(e, g));
      if (!found) throw new SourceError('unknown-group', `no ${g.semantics} group [${g.ssrcs.join(' ')}]`);
      if (!removedGroups.includes(found)) removedGroups.push(found);
    }
    const removedSsrcs = new Set(removedSources.map((s) => s.ssrc));
    for (const g of existing.groups) {
      if (!removedGroups.includes(g) && g.ssrcs.some((s) => removedSsrcs.has(s))) removedGroups.push(g);
    }
    const remaining: EndpointSourceSet = {
      sources: existing.sources.filter((s) => !removedSsrcs.has(s.ssrc)),
      groups: existing.groups.filter((g) => !removedGroups.includes(g)),
    };
    validateEndpointSet(remaining);

    this.#store(owner, remaining);
    for (const s of removedSources) this.#ssrcOwner.delete(s.ssrc);
    return copySet({ sources: removedSources, groups: removedGroups });
  }

  /** Forget all sources of an endpoint (it left). @returns what it had, if anything. */
  removeEndpoint(owner: string): EndpointSourceSet | undefined {
    const existing = this.#byOwner.get(owner);
    if (!existing) return undefined;
    this.#store(owner, { sources: [], groups: [] });
    for (const s of existing.sources) this.#ssrcOwner.delete(s.ssrc);
    return copySet(existing);
  }

  /** The receiver view: every owner's set with simulcast stripped ({@link stripSimulcast}). */
  stripSimulcast(options: { exclude?: Iterable<string> } = {}): Map<string, EndpointSourceSet> {
    const out = new Map<string, EndpointSourceSet>();
    for (const [owner, set] of this.toMap(options)) out.set(owner, stripSimulcast(set));
    return out;
  }

  /**
   * Jingle contents with these sources and owners ({@link sourceMapToJingle}). By default simulcast is stripped,
   * since Jingle sources only ever go to receivers.
   */
  toJingle(options: { exclude?: Iterable<string>; stripSimulcast?: boolean } = {}): Content[] {
    const map = options.stripSimulcast === false ? this.toMap(options) : this.stripSimulcast(options);
    return sourceMapToJingle(map);
  }

  /** What changed from `previous` to this map (`added`: only here; `removed`: only in `previous`). */
  diff(previous: SourceMap | ConferenceSourceMap): SourceMapDiff {
    const prev = previous instanceof ConferenceSourceMap ? previous.toMap() : previous;
    return diffSourceMaps(prev, this.toMap());
  }

  /** Replace an owner's set and rebuild its name/msid ownership. */
  #store(owner: string, set: EndpointSourceSet): void {
    for (const [name, o] of this.#nameOwner) if (o === owner) this.#nameOwner.delete(name);
    for (const [msid, o] of this.#msidOwner) if (o === owner) this.#msidOwner.delete(msid);
    if (isEmptySet(set)) {
      this.#byOwner.delete(owner);
      return;
    }
    this.#byOwner.set(owner, copySet(set));
    for (const s of set.sources) {
      this.#nameOwner.set(s.name, owner);
      if (s.msid !== undefined) this.#msidOwner.set(s.msid, owner);
    }
  }
}
