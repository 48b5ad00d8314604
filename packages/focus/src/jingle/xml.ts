/**
 * Jingle codec: `<jingle xmlns="urn:xmpp:jingle:1">` ⇄ {@link Jingle}. The only place in the focus that knows the
 * Jingle XML. Pure: no I/O, no state.
 *
 * Serialisation follows PROTOCOL.md §4.3–4.9 exactly (the element structure of the §4.5 example): every element
 * that changes namespace carries its own `xmlns` attribute, none relies on an ancestor's namespace for that and none
 * uses a prefix ("Global rule": LJM matches `xmlns` literally and by qualified name). Children that stay in their
 * parent's namespace (`payload-type`, `parameter`, `candidate`, `content`, `rtcp-mux`, the `source`s of an
 * `ssrc-group`) are written without one, as Jicofo does.
 *
 * Parsing is strict where a mistake would make the focus do something wrong (missing sid/action, malformed numbers,
 * SSRCs out of range, unknown content names or reason conditions → `bad-request`; XEP-0166 actions the focus never
 * implements → `feature-not-implemented`) and lenient where LJM is sloppy: namespaces may be inherited instead of
 * declared, unknown children are ignored (or, under `<jingle>`, kept in `extensions`).
 *
 * References:
 * - https://xmpp.org/extensions/xep-0166.html §7 (syntax), §7.2 (actions: unknown → bad-request), §7.4 (reasons)
 * - https://xmpp.org/extensions/xep-0167.html §7, xep-0176 §5, xep-0293, xep-0294, xep-0320, xep-0338, xep-0339,
 *   xep-0343
 * - PROTOCOL.md "Global rule", §4.3 (offer structure), §4.4 (sources, compact JSON), §4.5/§4.6 (examples),
 *   §4.7–§4.9, §4.11 (what LJM reads)
 */
import { type Element, cloneElement, elements, text, xml } from '@jitsi-one/xmpp';
import { JingleParseError, badRequest } from './errors.js';
import {
  NS_JINGLE,
  NS_JINGLE_DTLS,
  NS_JINGLE_DTLS_SCTP,
  NS_JINGLE_GROUPING,
  NS_JINGLE_ICE_UDP,
  NS_JINGLE_RTP,
  NS_JINGLE_RTP_HDREXT,
  NS_JINGLE_RTP_RTCP_FB,
  NS_JINGLE_RTP_SSMA,
  NS_JITSI_COLIBRI,
  NS_JITSI_COLIBRI2,
  NS_JITSI_FOCUS,
  NS_JITSI_MEET,
} from './ns.js';
import type {
  BridgeSession,
  Candidate,
  Content,
  ContentCreator,
  ContentGroup,
  ContentName,
  ContentSenders,
  DescriptionMedia,
  DtlsSetup,
  Fingerprint,
  IceUdpTransport,
  Jingle,
  JingleAction,
  JsonSource,
  JsonSources,
  JsonSsrcGroup,
  Parameter,
  PayloadType,
  Reason,
  ReasonCondition,
  RtcpFb,
  RtpDescription,
  RtpHdrExt,
  SctpMap,
  Source,
  SsrcGroup,
  WebSocketUrl,
} from './types.js';

const ACTIONS: ReadonlySet<string> = new Set<JingleAction>([
  'session-initiate',
  'session-accept',
  'session-terminate',
  'session-info',
  'source-add',
  'source-remove',
  'transport-info',
  'transport-replace',
  'transport-accept',
  'transport-reject',
  'content-modify',
]);

/** XEP-0166 §7.2 actions that are valid Jingle but meaningless for a focus session. */
const NOT_IMPLEMENTED_ACTIONS: ReadonlySet<string> = new Set([
  'content-accept',
  'content-add',
  'content-reject',
  'content-remove',
  'description-info',
  'security-info',
]);

/** A content name: JVB sessions use audio/video/data, P2P sessions the SDP mids (RFC 8843 allows 1–16 token chars). */
const CONTENT_NAME = /^[A-Za-z0-9!#$%&'*+.^_`{|}~-]{1,32}$/;
const CREATORS: ReadonlySet<string> = new Set<ContentCreator>(['initiator', 'responder']);
const SENDERS: ReadonlySet<string> = new Set<ContentSenders>(['both', 'initiator', 'responder', 'none', 'rejected']);
const MEDIAS: ReadonlySet<string> = new Set<DescriptionMedia>(['audio', 'video', 'application']);
const SETUPS: ReadonlySet<string> = new Set<DtlsSetup>(['active', 'passive', 'actpass', 'holdconn']);
const CANDIDATE_TYPES: ReadonlySet<string> = new Set(['host', 'srflx', 'prflx', 'relay']);
const REASONS: ReadonlySet<string> = new Set<ReasonCondition>([
  'alternative-session',
  'busy',
  'cancel',
  'connectivity-error',
  'decline',
  'expired',
  'failed-application',
  'failed-transport',
  'general-error',
  'gone',
  'incompatible-parameters',
  'media-error',
  'security-error',
  'success',
  'timeout',
  'unsupported-applications',
  'unsupported-transports',
]);

const UINT32_MAX = 0xffff_ffff;

// ---------------------------------------------------------------------------------------------------------------
// Parsing helpers

/** The element's namespace: its own `xmlns`, else the nearest ancestor's (LJM leaves some children undeclared). */
function nsOf(el: Element): string | undefined {
  for (let e: Element | null | undefined = el; e; e = e.parent as Element | null | undefined) {
    const ns = e.attrs.xmlns as string | undefined;
    if (ns !== undefined) return ns;
  }
  return undefined;
}

function attr(el: Element, name: string): string | undefined {
  const v = el.attrs[name] as string | undefined;
  return v === undefined ? undefined : String(v);
}

function requireAttr(el: Element, name: string): string {
  const v = attr(el, name);
  if (v === undefined || v === '') throw badRequest(`<${el.name}> without '${name}'`);
  return v;
}

/** A decimal integer in [min, max]; anything else (signs, hex, fractions, blanks) is a bad request. */
function parseUint(value: string, what: string, max: number, min = 0): number {
  if (!/^[0-9]{1,10}$/.test(value)) throw badRequest(`bad ${what}: '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw badRequest(`${what} out of range: ${value}`);
  return n;
}

function optUint(el: Element, name: string, max: number, min = 0): number | undefined {
  const v = attr(el, name);
  return v === undefined ? undefined : parseUint(v, `${el.name}@${name}`, max, min);
}

function requireUint(el: Element, name: string, max: number, min = 0): number {
  return parseUint(requireAttr(el, name), `${el.name}@${name}`, max, min);
}

function optBool(el: Element, name: string): boolean | undefined {
  const v = attr(el, name);
  if (v === undefined) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`bad boolean ${el.name}@${name}: '${v}'`);
}

function optEnum<T extends string>(el: Element, name: string, allowed: ReadonlySet<string>): T | undefined {
  const v = attr(el, name);
  if (v === undefined) return undefined;
  if (!allowed.has(v)) throw badRequest(`bad ${el.name}@${name}: '${v}'`);
  return v as T;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/**
 * Parse the `<jingle>` payload of a Jingle IQ (or the `<jingle>` element itself).
 *
 * @throws JingleParseError `bad-request` for malformed input (no jingle, missing sid/action, unknown action, bad
 *   numbers, unknown content names, senders, reason conditions, invalid JSON sources), `feature-not-implemented`
 *   for XEP-0166 actions the focus does not implement (content-add, description-info, …).
 */
export function parseJingle(iq: Element): Jingle {
  const jingle = iq.name === 'jingle' ? iq : elements(iq).find((c) => c.name === 'jingle');
  if (!jingle) throw badRequest('no <jingle> element');
  if (nsOf(jingle) !== NS_JINGLE) throw badRequest(`<jingle> in namespace '${nsOf(jingle) ?? ''}'`);

  const action = attr(jingle, 'action');
  if (action === undefined || action === '') throw badRequest('<jingle> without action');
  if (NOT_IMPLEMENTED_ACTIONS.has(action)) {
    throw new JingleParseError('feature-not-implemented', `Jingle action '${action}' is not implemented`);
  }
  if (!ACTIONS.has(action)) throw badRequest(`unknown Jingle action '${action}'`);
  const sid = attr(jingle, 'sid');
  if (sid === undefined || sid === '') throw badRequest('<jingle> without sid');

  const out: Jingle = { action: action as JingleAction, sid, contents: [] };
  const initiator = attr(jingle, 'initiator');
  if (initiator !== undefined) out.initiator = initiator;
  const responder = attr(jingle, 'responder');
  if (responder !== undefined) out.responder = responder;

  const extensions: Element[] = [];
  for (const c of elements(jingle)) {
    const ns = nsOf(c);
    if (c.name === 'content' && ns === NS_JINGLE) out.contents.push(parseContent(c));
    else if (c.name === 'group' && ns === NS_JINGLE_GROUPING && !out.group) out.group = parseGroup(c);
    else if (c.name === 'bridge-session' && ns === NS_JITSI_FOCUS && !out.bridgeSession) {
      out.bridgeSession = parseBridgeSession(c);
    } else if (c.name === 'reason' && ns === NS_JINGLE && !out.reason) out.reason = parseReason(c);
    else if (c.name === 'json-message' && ns === NS_JITSI_MEET && !out.jsonSources) {
      const sources = parseJsonMessage(text(c));
      if (sources) out.jsonSources = sources;
      else extensions.push(c);
    } else extensions.push(c);
  }
  if (extensions.length > 0) out.extensions = extensions;
  return out;
}

function parseContent(el: Element): Content {
  const name = attr(el, 'name');
  if (name === undefined || name === '') throw badRequest('<content> without name');
  if (!CONTENT_NAME.test(name)) throw badRequest(`bad content name '${name.slice(0, 40)}'`);
  const content: Content = { name };
  const creator = optEnum<ContentCreator>(el, 'creator', CREATORS);
  if (creator) content.creator = creator;
  const senders = optEnum<ContentSenders>(el, 'senders', SENDERS);
  if (senders) content.senders = senders;

  for (const c of elements(el)) {
    const ns = nsOf(c);
    if (c.name === 'description' && ns === NS_JINGLE_RTP && !content.description) {
      content.description = parseDescription(c, content.name);
    } else if (c.name === 'transport' && !content.transport && (ns === NS_JINGLE_ICE_UDP || !('xmlns' in c.attrs))) {
      // LJM omits the transport's xmlns when the m-line has no ICE parameters (SDP.transportToJingle).
      content.transport = parseTransport(c);
    } else if (c.name === 'initial-last-n' && ns === NS_JITSI_COLIBRI2) {
      content.initialLastN = requireUint(c, 'value', UINT32_MAX);
    }
  }
  return content;
}

function parseDescription(el: Element, contentName: ContentName): RtpDescription {
  // Jicofo falls back to the content name when media is absent (EndpointSourceSet.fromJingle).
  const mediaAttr = attr(el, 'media') ?? (contentName === 'data' ? 'application' : contentName);
  if (attr(el, 'media') === undefined && !MEDIAS.has(mediaAttr)) throw badRequest(`<description> without media in content '${contentName}'`);
  if (!MEDIAS.has(mediaAttr)) throw badRequest(`bad description@media '${mediaAttr}'`);
  const desc: RtpDescription = {
    media: mediaAttr as DescriptionMedia,
    payloadTypes: [],
    rtcpFbs: [],
    rtpHdrExts: [],
    extmapAllowMixed: false,
    rtcpMux: false,
    sources: [],
    ssrcGroups: [],
  };
  const ssrc = optUint(el, 'ssrc', UINT32_MAX);
  if (ssrc !== undefined) desc.ssrc = ssrc;
  const maxptime = optUint(el, 'maxptime', UINT32_MAX);
  if (maxptime !== undefined) desc.maxptime = maxptime;

  for (const c of elements(el)) {
    const ns = nsOf(c);
    switch (c.name) {
      case 'payload-type':
        // LJM looks payload types up by name only.
        desc.payloadTypes.push(parsePayloadType(c));
        break;
      case 'rtcp-fb':
        if (ns === NS_JINGLE_RTP_RTCP_FB) desc.rtcpFbs.push(parseRtcpFb(c));
        break;
      case 'rtcp-fb-trr-int':
        if (ns === NS_JINGLE_RTP_RTCP_FB) desc.rtcpFbTrrInt = requireUint(c, 'value', UINT32_MAX);
        break;
      case 'rtp-hdrext':
        if (ns === NS_JINGLE_RTP_HDREXT) desc.rtpHdrExts.push(parseHdrExt(c));
        break;
      case 'extmap-allow-mixed':
        if (ns === NS_JINGLE_RTP_HDREXT) desc.extmapAllowMixed = true;
        break;
      case 'rtcp-mux':
        // LJM looks it up by name only.
        desc.rtcpMux = true;
        break;
      case 'source':
        if (ns === NS_JINGLE_RTP_SSMA) {
          const s = parseSource(c);
          if (s) desc.sources.push(s);
        }
        break;
      case 'ssrc-group':
        if (ns === NS_JINGLE_RTP_SSMA) desc.ssrcGroups.push(parseSsrcGroup(c));
        break;
      default:
        break;
    }
  }
  return desc;
}

function parseParameter(el: Element): Parameter {
  const p: Parameter = { value: attr(el, 'value') ?? '' };
  const name = attr(el, 'name');
  if (name !== undefined && name !== '') p.name = name;
  return p;
}

function parsePayloadType(el: Element): PayloadType {
  const pt: PayloadType = {
    id: requireUint(el, 'id', 127),
    name: requireAttr(el, 'name'),
    parameters: [],
    rtcpFbs: [],
  };
  const clockrate = optUint(el, 'clockrate', UINT32_MAX);
  if (clockrate !== undefined) pt.clockrate = clockrate;
  const channels = optUint(el, 'channels', 255, 1);
  if (channels !== undefined) pt.channels = channels;
  for (const c of elements(el)) {
    const ns = nsOf(c);
    if (c.name === 'parameter') pt.parameters.push(parseParameter(c));
    else if (c.name === 'rtcp-fb' && ns === NS_JINGLE_RTP_RTCP_FB) pt.rtcpFbs.push(parseRtcpFb(c));
    else if (c.name === 'rtcp-fb-trr-int' && ns === NS_JINGLE_RTP_RTCP_FB) {
      pt.rtcpFbTrrInt = requireUint(c, 'value', UINT32_MAX);
    }
  }
  return pt;
}

function parseRtcpFb(el: Element): RtcpFb {
  const fb: RtcpFb = { type: requireAttr(el, 'type') };
  const subtype = attr(el, 'subtype');
  if (subtype !== undefined && subtype !== '') fb.subtype = subtype;
  return fb;
}

function parseHdrExt(el: Element): RtpHdrExt {
  const ext: RtpHdrExt = { id: requireUint(el, 'id', 255, 1), uri: requireAttr(el, 'uri') };
  const senders = optEnum<ContentSenders>(el, 'senders', SENDERS);
  if (senders) ext.senders = senders;
  return ext;
}

/** A `<source>`; undefined for rid-only sources (RID simulcast, not used with JVB and not modelled). */
function parseSource(el: Element): Source | undefined {
  if (attr(el, 'ssrc') === undefined && attr(el, 'rid') !== undefined) return undefined;
  const s: Source = { ssrc: requireUint(el, 'ssrc', UINT32_MAX), parameters: [] };
  const name = attr(el, 'name');
  if (name !== undefined && name !== '') s.name = name;
  const videoType = attr(el, 'videoType');
  if (videoType !== undefined && videoType !== '') s.videoType = videoType;
  for (const c of elements(el)) {
    const ns = nsOf(c);
    if (c.name === 'parameter') {
      const p = parseParameter(c);
      if (p.name === 'msid' && s.msid === undefined) s.msid = p.value;
      else s.parameters.push(p);
    } else if (c.name === 'ssrc-info' && ns === NS_JITSI_MEET) {
      const owner = attr(c, 'owner');
      if (owner !== undefined && owner !== '') s.owner = owner;
    }
  }
  return s;
}

function parseSsrcGroup(el: Element): SsrcGroup {
  const semantics = requireAttr(el, 'semantics');
  const ssrcs = elements(el)
    .filter((c) => c.name === 'source')
    .map((c) => requireUint(c, 'ssrc', UINT32_MAX));
  return { semantics, ssrcs };
}

function parseTransport(el: Element): IceUdpTransport {
  const t: IceUdpTransport = { fingerprints: [], candidates: [], rtcpMux: false, webSockets: [] };
  const ufrag = attr(el, 'ufrag');
  if (ufrag !== undefined) t.ufrag = ufrag;
  const pwd = attr(el, 'pwd');
  if (pwd !== undefined) t.pwd = pwd;
  const gen = optUint(el, 'ice-generation', UINT32_MAX);
  if (gen !== undefined) t.iceGeneration = gen;
  for (const c of elements(el)) {
    const ns = nsOf(c);
    if (c.name === 'fingerprint' && ns === NS_JINGLE_DTLS) t.fingerprints.push(parseFingerprint(c));
    else if (c.name === 'candidate') t.candidates.push(parseCandidate(c));
    else if (c.name === 'rtcp-mux') t.rtcpMux = true;
    else if (c.name === 'web-socket' && ns === NS_JITSI_COLIBRI) t.webSockets.push(parseWebSocket(c));
    else if (c.name === 'sctpmap' && ns === NS_JINGLE_DTLS_SCTP && !t.sctpmap) t.sctpmap = parseSctpMap(c);
  }
  return t;
}

function parseFingerprint(el: Element): Fingerprint {
  const value = text(el).trim();
  if (value === '') throw badRequest('<fingerprint> without value');
  const fp: Fingerprint = { hash: requireAttr(el, 'hash'), value };
  const setup = optEnum<DtlsSetup>(el, 'setup', SETUPS);
  if (setup) fp.setup = setup;
  const required = optBool(el, 'required');
  if (required !== undefined) fp.required = required;
  const cryptex = optBool(el, 'cryptex');
  if (cryptex !== undefined) fp.cryptex = cryptex;
  return fp;
}

function parseCandidate(el: Element): Candidate {
  const type = requireAttr(el, 'type');
  if (!CANDIDATE_TYPES.has(type)) throw badRequest(`bad candidate@type '${type}'`);
  const c: Candidate = {
    foundation: requireAttr(el, 'foundation'),
    component: requireUint(el, 'component', 256, 1),
    protocol: requireAttr(el, 'protocol'),
    priority: requireUint(el, 'priority', UINT32_MAX),
    ip: requireAttr(el, 'ip'),
    port: requireUint(el, 'port', 65535),
    type,
  };
  const generation = optUint(el, 'generation', UINT32_MAX);
  if (generation !== undefined) c.generation = generation;
  const network = optUint(el, 'network', UINT32_MAX);
  if (network !== undefined) c.network = network;
  const id = attr(el, 'id');
  if (id !== undefined) c.id = id;
  const relAddr = attr(el, 'rel-addr');
  if (relAddr !== undefined) c.relAddr = relAddr;
  const relPort = optUint(el, 'rel-port', 65535);
  if (relPort !== undefined) c.relPort = relPort;
  const tcptype = attr(el, 'tcptype');
  if (tcptype !== undefined) c.tcptype = tcptype;
  return c;
}

function parseWebSocket(el: Element): WebSocketUrl {
  const ws: WebSocketUrl = { url: requireAttr(el, 'url') };
  const active = optBool(el, 'active');
  if (active !== undefined) ws.active = active;
  return ws;
}

function parseSctpMap(el: Element): SctpMap {
  const m: SctpMap = { number: requireUint(el, 'number', 65535), protocol: requireAttr(el, 'protocol') };
  const streams = optUint(el, 'streams', 65535);
  if (streams !== undefined) m.streams = streams;
  return m;
}

function parseGroup(el: Element): ContentGroup {
  // `type` is the pre-XEP-0338 attribute name, still read by LJM.
  const semantics = attr(el, 'semantics') ?? attr(el, 'type');
  if (semantics === undefined || semantics === '') throw badRequest('<group> without semantics');
  const contents = elements(el)
    .filter((c) => c.name === 'content')
    .map((c) => requireAttr(c, 'name'));
  return { semantics, contents };
}

function parseBridgeSession(el: Element): BridgeSession {
  const bs: BridgeSession = { id: requireAttr(el, 'id') };
  const restart = optBool(el, 'restart');
  if (restart !== undefined) bs.restart = restart;
  const iceRestart = optBool(el, 'ice-restart');
  if (iceRestart !== undefined) bs.iceRestart = iceRestart;
  const region = attr(el, 'region');
  if (region !== undefined) bs.region = region;
  return bs;
}

function parseReason(el: Element): Reason {
  let condition: string | undefined;
  let reasonText: string | undefined;
  let alternativeSid: string | undefined;
  for (const c of elements(el)) {
    if (c.name === 'text') reasonText = text(c);
    else if (condition === undefined && nsOf(c) === NS_JINGLE) {
      condition = c.name;
      if (c.name === 'alternative-session') {
        const sidEl = elements(c).find((x) => x.name === 'sid');
        if (sidEl) alternativeSid = text(sidEl).trim();
      }
    }
  }
  if (condition === undefined) throw badRequest('<reason> without condition');
  if (!REASONS.has(condition)) throw badRequest(`unknown reason condition '${condition}'`);
  const r: Reason = { condition: condition as ReasonCondition };
  if (reasonText !== undefined) r.text = reasonText;
  if (alternativeSid !== undefined && alternativeSid !== '') r.alternativeSid = alternativeSid;
  return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Compact JSON sources (PROTOCOL §4.4.3)

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonSsrc(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= UINT32_MAX) return v;
  if (typeof v === 'string') return parseUint(v, what, UINT32_MAX);
  throw badRequest(`bad ${what} in json-message: ${JSON.stringify(v)}`);
}

function jsonSourceList(v: unknown, owner: string): JsonSource[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest(`json-message: sources of '${owner}' are not an array`);
  return v.map((s: unknown) => {
    if (!isRecord(s)) throw badRequest(`json-message: bad source of '${owner}'`);
    const out: JsonSource = { ssrc: jsonSsrc(s.s, 'ssrc') };
    if (s.n !== undefined) {
      if (typeof s.n !== 'string') throw badRequest(`json-message: bad source name of '${owner}'`);
      out.name = s.n;
    }
    if (s.m !== undefined) {
      if (typeof s.m !== 'string') throw badRequest(`json-message: bad msid of '${owner}'`);
      out.msid = s.m;
    }
    // LJM: any truthy "v" means desktop.
    if (s.v) out.desktop = true;
    return out;
  });
}

function jsonGroupList(v: unknown, owner: string): JsonSsrcGroup[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest(`json-message: groups of '${owner}' are not an array`);
  return v.map((g: unknown) => {
    if (!Array.isArray(g) || g.length < 1) throw badRequest(`json-message: bad group of '${owner}'`);
    const [sem, ...ssrcs] = g as unknown[];
    const semantics = sem === 'f' ? 'FID' : sem === 's' ? 'SIM' : undefined;
    if (!semantics) throw badRequest(`json-message: bad group semantics ${JSON.stringify(sem)}`);
    return { semantics, ssrcs: ssrcs.map((x) => jsonSsrc(x, 'group ssrc')) };
  });
}

/**
 * The sources of a `<json-message>` text; undefined when it is valid JSON without `sources` (another message type).
 * Owners come in JSON.parse property order (numeric-looking ids first), which is also the order LJM sees; source
 * order within an owner is kept.
 */
export function parseJsonMessage(body: string): JsonSources | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw badRequest('json-message is not valid JSON', err);
  }
  if (!isRecord(json) || json.sources === undefined) return undefined;
  if (!isRecord(json.sources)) throw badRequest('json-message: sources is not an object');
  const out: JsonSources = new Map();
  for (const [owner, entry] of Object.entries(json.sources)) {
    if (!Array.isArray(entry) || entry.length > 4) throw badRequest(`json-message: bad entry for '${owner}'`);
    out.set(owner, {
      video: jsonSourceList(entry[0], owner),
      videoGroups: jsonGroupList(entry[1], owner),
      audio: jsonSourceList(entry[2], owner),
      audioGroups: jsonGroupList(entry[3], owner),
    });
  }
  return out;
}

function compactSource(s: JsonSource): Record<string, unknown> {
  const o: Record<string, unknown> = { s: s.ssrc };
  if (s.name !== undefined) o.n = s.name;
  if (s.msid !== undefined) o.m = s.msid;
  if (s.desktop) o.v = 'd';
  return o;
}

function compactGroup(g: JsonSsrcGroup): unknown[] {
  return [g.semantics === 'FID' ? 'f' : 's', ...g.ssrcs];
}

/**
 * The `<json-message>` text for compact sources, as Jicofo writes it (the audio-groups array only when non-empty).
 * Owners are written in Map order (built by hand: an object would move numeric-looking ids first).
 */
export function serializeJsonSources(sources: JsonSources): string {
  const parts: string[] = [];
  for (const [owner, e] of sources) {
    const entry: unknown[] = [e.video.map(compactSource), e.videoGroups.map(compactGroup), e.audio.map(compactSource)];
    if (e.audioGroups.length > 0) entry.push(e.audioGroups.map(compactGroup));
    parts.push(`${JSON.stringify(owner)}:${JSON.stringify(entry)}`);
  }
  return `{"sources":{${parts.join(',')}}}`;
}

/**
 * Expand compact JSON sources into standard `audio`/`video` contents (what LJM does before processing,
 * `JingleHelperFunctions.expandSourcesFromJson`): each source gets `owner`, video sources default to `camera`.
 */
export function expandJsonSources(sources: JsonSources): Content[] {
  const video = emptyDescription('video');
  const audio = emptyDescription('audio');
  const toSource = (owner: string, s: JsonSource, isVideo: boolean): Source => {
    const out: Source = { ssrc: s.ssrc, owner, parameters: [] };
    if (s.name !== undefined) out.name = s.name;
    if (isVideo) out.videoType = s.desktop ? 'desktop' : 'camera';
    else if (s.desktop) out.videoType = 'desktop';
    if (s.msid !== undefined) out.msid = s.msid;
    return out;
  };
  for (const [owner, e] of sources) {
    for (const s of e.video) video.sources.push(toSource(owner, s, true));
    for (const g of e.videoGroups) video.ssrcGroups.push({ semantics: g.semantics, ssrcs: [...g.ssrcs] });
    for (const s of e.audio) audio.sources.push(toSource(owner, s, false));
    for (const g of e.audioGroups) audio.ssrcGroups.push({ semantics: g.semantics, ssrcs: [...g.ssrcs] });
  }
  const out: Content[] = [];
  if (audio.sources.length > 0 || audio.ssrcGroups.length > 0) out.push({ name: 'audio', description: audio });
  if (video.sources.length > 0 || video.ssrcGroups.length > 0) out.push({ name: 'video', description: video });
  return out;
}

/** An RTP description with nothing in it. */
export function emptyDescription(media: DescriptionMedia): RtpDescription {
  return {
    media,
    payloadTypes: [],
    rtcpFbs: [],
    rtpHdrExts: [],
    extmapAllowMixed: false,
    rtcpMux: false,
    sources: [],
    ssrcGroups: [],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Serialisation

function boolAttr(v: boolean | undefined): string | undefined {
  return v === undefined ? undefined : String(v);
}

/** Serialize a {@link Jingle} to its `<jingle xmlns="urn:xmpp:jingle:1">` element (the caller wraps it in an IQ). */
export function serializeJingle(j: Jingle): Element {
  const el = xml('jingle', {
    xmlns: NS_JINGLE,
    action: j.action,
    initiator: j.initiator,
    responder: j.responder,
    sid: j.sid,
  });
  if (j.reason) el.cnode(serializeReason(j.reason));
  for (const c of j.contents) el.cnode(serializeContent(c));
  if (j.group) {
    el.cnode(
      xml(
        'group',
        { xmlns: NS_JINGLE_GROUPING, semantics: j.group.semantics },
        ...j.group.contents.map((name) => xml('content', { name })),
      ),
    );
  }
  if (j.bridgeSession) {
    const bs = j.bridgeSession;
    el.cnode(
      xml('bridge-session', {
        xmlns: NS_JITSI_FOCUS,
        id: bs.id,
        restart: boolAttr(bs.restart),
        'ice-restart': boolAttr(bs.iceRestart),
        region: bs.region,
      }),
    );
  }
  if (j.jsonSources) el.cnode(xml('json-message', { xmlns: NS_JITSI_MEET }, serializeJsonSources(j.jsonSources)));
  for (const e of j.extensions ?? []) el.cnode(cloneElement(e));
  return el;
}

function serializeReason(r: Reason): Element {
  return xml(
    'reason',
    null,
    xml(r.condition, null, r.alternativeSid !== undefined ? xml('sid', null, r.alternativeSid) : undefined),
    r.text !== undefined ? xml('text', null, r.text) : undefined,
  );
}

function serializeContent(c: Content): Element {
  return xml(
    'content',
    { creator: c.creator, name: c.name, senders: c.senders },
    c.initialLastN === undefined
      ? undefined
      : xml('initial-last-n', { xmlns: NS_JITSI_COLIBRI2, value: c.initialLastN }),
    c.description ? serializeDescription(c.description) : undefined,
    c.transport ? serializeTransport(c.transport) : undefined,
  );
}

function serializeParameter(p: Parameter): Element {
  return xml('parameter', { name: p.name, value: p.value });
}

function serializeRtcpFb(fb: RtcpFb): Element {
  return xml('rtcp-fb', { xmlns: NS_JINGLE_RTP_RTCP_FB, type: fb.type, subtype: fb.subtype });
}

function serializeTrrInt(v: number | undefined): Element | undefined {
  return v === undefined ? undefined : xml('rtcp-fb-trr-int', { xmlns: NS_JINGLE_RTP_RTCP_FB, value: v });
}

/**
 * Order as in PROTOCOL §4.5 (Jicofo): payload types, description-level rtcp-fb, header extensions,
 * extmap-allow-mixed, sources, ssrc-groups, rtcp-mux.
 */
function serializeDescription(d: RtpDescription): Element {
  const el = xml('description', { xmlns: NS_JINGLE_RTP, media: d.media, ssrc: d.ssrc, maxptime: d.maxptime });
  for (const pt of d.payloadTypes) {
    el.cnode(
      xml(
        'payload-type',
        { id: pt.id, name: pt.name, clockrate: pt.clockrate, channels: pt.channels },
        ...pt.parameters.map(serializeParameter),
        ...pt.rtcpFbs.map(serializeRtcpFb),
        serializeTrrInt(pt.rtcpFbTrrInt),
      ),
    );
  }
  for (const fb of d.rtcpFbs) el.cnode(serializeRtcpFb(fb));
  const trr = serializeTrrInt(d.rtcpFbTrrInt);
  if (trr) el.cnode(trr);
  for (const ext of d.rtpHdrExts) {
    el.cnode(xml('rtp-hdrext', { xmlns: NS_JINGLE_RTP_HDREXT, id: ext.id, uri: ext.uri, senders: ext.senders }));
  }
  if (d.extmapAllowMixed) el.cnode(xml('extmap-allow-mixed', { xmlns: NS_JINGLE_RTP_HDREXT }));
  for (const s of d.sources) el.cnode(serializeSource(s));
  for (const g of d.ssrcGroups) {
    el.cnode(
      xml(
        'ssrc-group',
        { xmlns: NS_JINGLE_RTP_SSMA, semantics: g.semantics },
        ...g.ssrcs.map((ssrc) => xml('source', { ssrc })),
      ),
    );
  }
  if (d.rtcpMux) el.cnode(xml('rtcp-mux'));
  return el;
}

/** `<source>` with msid first, then other parameters, then ssrc-info (PROTOCOL §4.4.1). */
function serializeSource(s: Source): Element {
  return xml(
    'source',
    { xmlns: NS_JINGLE_RTP_SSMA, ssrc: s.ssrc, name: s.name, videoType: s.videoType },
    s.msid !== undefined ? xml('parameter', { name: 'msid', value: s.msid }) : undefined,
    ...s.parameters.map(serializeParameter),
    s.owner !== undefined ? xml('ssrc-info', { xmlns: NS_JITSI_MEET, owner: s.owner }) : undefined,
  );
}

/** Order as in PROTOCOL §4.3.3: sctpmap, rtcp-mux, fingerprints, candidates, web-socket. */
function serializeTransport(t: IceUdpTransport): Element {
  const el = xml('transport', {
    xmlns: NS_JINGLE_ICE_UDP,
    ufrag: t.ufrag,
    pwd: t.pwd,
    'ice-generation': t.iceGeneration,
  });
  if (t.sctpmap) {
    el.cnode(
      xml('sctpmap', {
        xmlns: NS_JINGLE_DTLS_SCTP,
        number: t.sctpmap.number,
        protocol: t.sctpmap.protocol,
        streams: t.sctpmap.streams,
      }),
    );
  }
  if (t.rtcpMux) el.cnode(xml('rtcp-mux'));
  for (const fp of t.fingerprints) {
    el.cnode(
      xml(
        'fingerprint',
        {
          xmlns: NS_JINGLE_DTLS,
          hash: fp.hash,
          setup: fp.setup,
          required: boolAttr(fp.required),
          cryptex: boolAttr(fp.cryptex),
        },
        fp.value,
      ),
    );
  }
  for (const c of t.candidates) el.cnode(serializeCandidate(c));
  for (const ws of t.webSockets) {
    el.cnode(xml('web-socket', { xmlns: NS_JITSI_COLIBRI, url: ws.url, active: boolAttr(ws.active) }));
  }
  return el;
}

function serializeCandidate(c: Candidate): Element {
  return xml('candidate', {
    component: c.component,
    foundation: c.foundation,
    generation: c.generation,
    id: c.id,
    network: c.network,
    protocol: c.protocol,
    ip: c.ip,
    port: c.port,
    priority: c.priority,
    type: c.type,
    'rel-addr': c.relAddr,
    'rel-port': c.relPort,
    tcptype: c.tcptype,
  });
}
