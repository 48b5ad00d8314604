/**
 * `conference-modify` → `conference-modified`: validate the whole request first, then apply it, then describe
 * the result. A request that fails validation changes nothing (the error names the first problem).
 *
 * Rules (JVB `Colibri2ConferenceHandler.kt`, PROTOCOL.md §5.2):
 * - `create` on an existing meeting id → `conference_already_exists`; no `create` on an unknown one →
 *   `conference_not_found`; `expire` expires the conference (and everything in it).
 * - endpoint `create` on an existing id → `conflict`; a modification of an unknown endpoint → `unknown_endpoint`;
 *   `expire` of an unknown endpoint is a no-op (idempotent).
 * - `sources` is the endpoint's complete set; an SSRC or source name another endpoint owns (after this request)
 *   → `conflict`; malformed input → `bad_request`; relays → `feature_not_implemented`.
 * - The reply carries the bridge transport of every created endpoint, and the feedback sources when the
 *   conference or an endpoint was created.
 */
import type { Bridge } from '../bridge.js';
import type { Conference } from '../conference.js';
import {
  BadRequestError,
  ConferenceAlreadyExistsError,
  ConferenceNotFoundError,
  ConflictError,
  FeatureNotImplementedError,
  GracefulShutdownError,
  UnknownEndpointError,
} from '../errors.js';
import { parseMediaSources, type Source, type VideoSourceOptions } from '../source.js';
import type { ConferenceModified, ConferenceModify, EndpointModify, Media } from './types.js';

/** The Colibri2 request handler contract (what an XMPP or in-process client calls). */
export interface ColibriHandler {
  conferenceModify(req: ConferenceModify): ConferenceModified;
}

/** Validates and applies one request on `bridge`. Throws a {@link ColibriError} subclass; nothing changes then. */
export function handleConferenceModify(bridge: Bridge, req: ConferenceModify): ConferenceModified {
  if (bridge.closed) throw new GracefulShutdownError();
  checkRequestShape(req);
  const endpoints = req.endpoints ?? [];
  let conf = bridge.getConferenceByMeetingId(req.meetingId);
  if (req.create === true && conf !== undefined) throw new ConferenceAlreadyExistsError(req.meetingId);
  if (req.create !== true && conf === undefined) throw new ConferenceNotFoundError(req.meetingId);

  if (req.expire === true) {
    conf?.expire();
    return { meetingId: req.meetingId, endpoints: [] };
  }

  // Endpoint existence.
  for (const e of endpoints) {
    const exists = conf?.endpoints.has(e.id) === true;
    if (e.expire === true) continue;
    if (e.create === true && exists) throw new ConflictError(`endpoint ${e.id} already exists`, e.id);
    if (e.create !== true && !exists) throw new UnknownEndpointError(e.id);
  }

  // Sources: parse, then check ownership against the state this request leads to.
  const options = videoSourceOptions(bridge);
  const parsed = new Map<string, Source[]>();
  for (const e of endpoints) {
    if (e.expire !== true && e.sources !== undefined) parsed.set(e.id, parseMediaSources(e.id, e.sources, options));
  }
  if (parsed.size > 0) checkOwnership(conf, endpoints, parsed);

  // Apply.
  const createdConference = conf === undefined;
  conf ??= bridge.createConference(req.meetingId, req.name);
  const created: string[] = [];
  const target = conf;
  try {
    target.update(() => {
      for (const e of endpoints) {
        if (e.expire === true) {
          target.endpoints.get(e.id)?.expire();
          continue;
        }
        let ep = target.endpoints.get(e.id);
        if (ep === undefined) {
          ep = target.createEndpoint(e.id, e.capabilities ?? []);
          created.push(e.id);
        }
        ep.applyModify(e);
        const sources = parsed.get(e.id);
        if (sources !== undefined) target.setEndpointSources(ep, sources);
      }
    });
  } catch (err) {
    // Only the transport factory can throw here (a resource problem): don't leave half a conference behind.
    if (createdConference) target.expire();
    else for (const id of created) target.endpoints.get(id)?.expire();
    throw err;
  }

  const reply: ConferenceModified = { meetingId: req.meetingId, endpoints: [] };
  for (const id of created) {
    const ep = conf.endpoints.get(id);
    if (ep !== undefined) reply.endpoints.push({ id, transport: ep.describeTransport() });
  }
  if ((createdConference || created.length > 0) && !conf.expired) reply.sources = conf.feedbackSources();
  return reply;
}

function videoSourceOptions(bridge: Bridge): VideoSourceOptions {
  const v = bridge.config.video;
  return {
    temporalLayers: v.temporalLayers,
    maxFrameRate: v.maxFrameRate,
    activeTimeoutMs: v.layerActiveTimeoutMs,
    packetCacheBytes: v.nackCacheBytes,
    packetCacheMaxAgeMs: v.nackMaxAgeMs,
  };
}

/** SSRCs and source names must be unique across the conference once the request is applied. */
function checkOwnership(conf: Conference | undefined, endpoints: readonly EndpointModify[], parsed: ReadonlyMap<string, Source[]>): void {
  const ssrcOwner = new Map<number, string>();
  const nameOwner = new Map<string, string>();
  const expiring = new Set(endpoints.filter((e) => e.expire === true).map((e) => e.id));
  if (conf !== undefined) {
    for (const [id, ep] of conf.endpoints) {
      if (expiring.has(id) || parsed.has(id)) continue;
      for (const s of ep.sources) {
        nameOwner.set(s.name, id);
        for (const ssrc of s.ssrcs) ssrcOwner.set(ssrc, id);
      }
    }
  }
  for (const [id, sources] of parsed) {
    for (const s of sources) {
      const nameHolder = nameOwner.get(s.name);
      if (nameHolder !== undefined && nameHolder !== id) {
        throw new ConflictError(`source name ${s.name} of endpoint ${id} belongs to endpoint ${nameHolder}`, id);
      }
      nameOwner.set(s.name, id);
      for (const ssrc of s.ssrcs) {
        const holder = ssrcOwner.get(ssrc);
        if (holder !== undefined && holder !== id) {
          throw new ConflictError(`SSRC ${ssrc} of endpoint ${id} belongs to endpoint ${holder}`, id);
        }
        if (conf?.isOwnSsrc(ssrc) === true) throw new ConflictError(`SSRC ${ssrc} of endpoint ${id} is the bridge's`, id);
        ssrcOwner.set(ssrc, id);
      }
    }
  }
}

// ------------------------------------------------------------------------------------------------- shape checks

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optBool(v: unknown, what: string, epId?: string): void {
  if (v !== undefined && typeof v !== 'boolean') throw new BadRequestError(`${what} must be a boolean`, epId);
}

function optString(v: unknown, what: string, epId?: string): void {
  if (v !== undefined && typeof v !== 'string') throw new BadRequestError(`${what} must be a string`, epId);
}

/** Runtime checks of everything the types promise (the request may come from XML or JSON). */
function checkRequestShape(req: ConferenceModify): void {
  if (!isObject(req)) throw new BadRequestError('conference-modify must be an object');
  if (typeof req.meetingId !== 'string' || req.meetingId.length === 0) throw new BadRequestError('missing meeting-id');
  optString(req.name, 'name');
  optBool(req.create, 'create');
  optBool(req.expire, 'expire');
  if (req.create === true && req.expire === true) throw new BadRequestError('create and expire in one request');
  if (req.relays !== undefined) {
    if (!Array.isArray(req.relays)) throw new BadRequestError('relays must be a list');
    if (req.relays.length > 0) throw new FeatureNotImplementedError('relays (bridge cascading) are not supported');
  }
  if (req.endpoints === undefined) return;
  if (!Array.isArray(req.endpoints)) throw new BadRequestError('endpoints must be a list');
  const ids = new Set<string>();
  for (const e of req.endpoints) {
    if (!isObject(e) || typeof e.id !== 'string' || e.id.length === 0) throw new BadRequestError('endpoint without an id');
    if (ids.has(e.id)) throw new BadRequestError(`endpoint ${e.id} appears twice`, e.id);
    ids.add(e.id);
    checkEndpointShape(e);
  }
}

function checkEndpointShape(e: EndpointModify): void {
  const id = e.id;
  optBool(e.create, 'create', id);
  optBool(e.expire, 'expire', id);
  if (e.create === true && e.expire === true) throw new BadRequestError(`endpoint ${id}: create and expire`, id);
  optString(e.statsId, 'stats-id', id);
  optString(e.mucRole, 'muc-role', id);
  if (e.initialLastN !== undefined && (typeof e.initialLastN !== 'number' || !Number.isInteger(e.initialLastN))) {
    throw new BadRequestError(`endpoint ${id}: initial-last-n must be an integer`, id);
  }
  if (e.capabilities !== undefined && (!Array.isArray(e.capabilities) || !e.capabilities.every((c) => typeof c === 'string'))) {
    throw new BadRequestError(`endpoint ${id}: capabilities must be a list of names`, id);
  }
  if (e.forceMute !== undefined) {
    if (!isObject(e.forceMute)) throw new BadRequestError(`endpoint ${id}: force-mute must be an object`, id);
    optBool(e.forceMute.audio, 'force-mute audio', id);
    optBool(e.forceMute.video, 'force-mute video', id);
  }
  if (e.medias !== undefined) {
    if (!Array.isArray(e.medias)) throw new BadRequestError(`endpoint ${id}: medias must be a list`, id);
    for (const m of e.medias) checkMediaShape(m, id);
  }
  if (e.transport !== undefined) {
    if (!isObject(e.transport)) throw new BadRequestError(`endpoint ${id}: transport must be an object`, id);
    optBool(e.transport.iceControlling, 'ice-controlling', id);
    const ice = e.transport.iceUdp;
    if (ice !== undefined) {
      if (!isObject(ice) || typeof ice.ufrag !== 'string' || typeof ice.pwd !== 'string' || ice.ufrag === '' || ice.pwd === '') {
        throw new BadRequestError(`endpoint ${id}: ice-udp transport needs ufrag and pwd`, id);
      }
      // At least one: without a fingerprint the DTLS peer cannot be authenticated (the transport refuses it).
      if (!Array.isArray(ice.fingerprints) || ice.fingerprints.length === 0) {
        throw new BadRequestError(`endpoint ${id}: ice-udp transport needs a DTLS fingerprint`, id);
      }
      for (const f of ice.fingerprints) {
        if (!isObject(f) || typeof f.hash !== 'string' || typeof f.value !== 'string') {
          throw new BadRequestError(`endpoint ${id}: malformed fingerprint`, id);
        }
        if (f.setup !== undefined && f.setup !== 'active' && f.setup !== 'passive' && f.setup !== 'actpass') {
          throw new BadRequestError(`endpoint ${id}: bad DTLS setup ${String(f.setup)}`, id);
        }
      }
      if (ice.candidates !== undefined && !Array.isArray(ice.candidates)) {
        throw new BadRequestError(`endpoint ${id}: candidates must be a list`, id);
      }
    }
  }
}

function checkMediaShape(m: Media, id: string): void {
  if (!isObject(m) || (m.type !== 'audio' && m.type !== 'video')) throw new BadRequestError(`endpoint ${id}: media type must be audio or video`, id);
  if (!Array.isArray(m.payloadTypes) || !Array.isArray(m.rtpHdrExts)) {
    throw new BadRequestError(`endpoint ${id}: media needs payloadTypes and rtpHdrExts lists`, id);
  }
  for (const pt of m.payloadTypes) {
    if (!isObject(pt) || !Number.isInteger(pt.id) || pt.id < 0 || pt.id > 127 || typeof pt.name !== 'string') {
      throw new BadRequestError(`endpoint ${id}: malformed payload-type`, id);
    }
  }
  for (const ext of m.rtpHdrExts) {
    if (!isObject(ext) || !Number.isInteger(ext.id) || ext.id < 1 || ext.id > 255 || typeof ext.uri !== 'string') {
      throw new BadRequestError(`endpoint ${id}: malformed rtp-hdrext`, id);
    }
  }
}
