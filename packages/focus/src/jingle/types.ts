/**
 * A structured model of a Jingle IQ payload (`<jingle xmlns="urn:xmpp:jingle:1">`) as the focus and lib-jitsi-meet
 * use it. Pure data: xml.ts converts it from and to elements, offer.ts builds offers, sources.ts converts sources.
 *
 * Field names follow the XML attributes (camelCased where they contain a dash). Everything the client may omit is
 * optional; lists are always present (possibly empty) so callers never test for `undefined` before iterating.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0166.html §7 (jingle, content, reason), §7.2 (actions)
 * - https://xmpp.org/extensions/xep-0167.html, xep-0176, xep-0293, xep-0294, xep-0320, xep-0338, xep-0339
 * - PROTOCOL.md §4.2–4.9, §4.4.3 (compact JSON sources)
 */
import type { Element } from '@jitsi-one/xmpp';

/**
 * The actions of XEP-0166 §7.2 that this model represents, plus Jitsi's `source-add`/`source-remove`.
 * (content-add/-accept/-reject/-remove, description-info and security-info are refused by the parser with
 * `feature-not-implemented`; any other value is a `bad-request`.)
 */
export type JingleAction =
  | 'session-initiate'
  | 'session-accept'
  | 'session-terminate'
  | 'session-info'
  | 'source-add'
  | 'source-remove'
  | 'transport-info'
  | 'transport-replace'
  | 'transport-accept'
  | 'transport-reject'
  | 'content-modify';

/**
 * Content names: LJM uses `audio`, `video`, `data` for JVB sessions (PROTOCOL §4.3 item 1) and the SDP mids (`0`,
 * `1`, …) for P2P sessions between clients (§8).
 */
export type ContentName = 'audio' | 'video' | 'data' | (string & {});

/** `content@creator` (XEP-0166 §7.3). Optional in practice: Jicofo's source-add and LJM's JSON expansion omit it. */
export type ContentCreator = 'initiator' | 'responder';

/** `content@senders`; LJM also emits `rejected` for a port-0 m-line (PROTOCOL §4.11). */
export type ContentSenders = 'both' | 'initiator' | 'responder' | 'none' | 'rejected';

/** `description@media`. `application` only for the SCTP `data` content. */
export type DescriptionMedia = 'audio' | 'video' | 'application';

/** A `<parameter name value>` (fmtp of a payload type, or a source attribute). No name: RED's `111/111`. */
export interface Parameter {
  name?: string;
  value: string;
}

/** `<rtcp-fb type subtype>` (XEP-0293). */
export interface RtcpFb {
  /** `nack`, `ccm`, `goog-remb`, `transport-cc`, … */
  type: string;
  /** `pli` (nack), `fir` (ccm). */
  subtype?: string;
}

/** `<payload-type>` (XEP-0167 §7). */
export interface PayloadType {
  /** RTP payload type, 0–127. */
  id: number;
  /** Encoding name (`opus`, `VP8`, `rtx`, `red`, `telephone-event`, …). */
  name: string;
  /** Clock rate in Hz. */
  clockrate?: number;
  /** Audio channels; omitted means 1. */
  channels?: number;
  /** fmtp parameters in element order (order matters for `a=fmtp`). */
  parameters: Parameter[];
  /** Per-payload rtcp-fb. */
  rtcpFbs: RtcpFb[];
  /** `<rtcp-fb-trr-int value>` inside the payload type. */
  rtcpFbTrrInt?: number;
}

/** `<rtp-hdrext id uri [senders]>` (XEP-0294). */
export interface RtpHdrExt {
  /** Extension id, 1–255. */
  id: number;
  uri: string;
  senders?: ContentSenders;
}

/** `<source ssrc name videoType>` (XEP-0339 with Jitsi attributes, PROTOCOL §4.4.1). */
export interface Source {
  /** 32-bit SSRC. */
  ssrc: number;
  /** Source name `<endpoint>-<a|v><n>`; required by LJM for remote sources. */
  name?: string;
  /** `camera` | `desktop` (LJM may also send `desktop_high_fps`). Kept as received. */
  videoType?: string;
  /** `<ssrc-info xmlns="http://jitsi.org/jitmeet" owner>`: the endpoint id that sends it. */
  owner?: string;
  /** The `msid` parameter (`<stream-id> <track-id>`). */
  msid?: string;
  /** Other `<parameter>`s (not msid), in element order. */
  parameters: Parameter[];
}

/** `<ssrc-group semantics>` (XEP-0339). */
export interface SsrcGroup {
  /** `FID` (primary, rtx) or `SIM` (low → high); kept as received. */
  semantics: string;
  ssrcs: number[];
}

/** `<description xmlns="urn:xmpp:jingle:apps:rtp:1">` (XEP-0167). */
export interface RtpDescription {
  media: DescriptionMedia;
  /** `description@ssrc` (XEP-0167; unused by LJM). */
  ssrc?: number;
  /** `description@maxptime` (Jicofo: 60 for audio). */
  maxptime?: number;
  payloadTypes: PayloadType[];
  /** Description-level rtcp-fb (`a=rtcp-fb:*`). */
  rtcpFbs: RtcpFb[];
  /** Description-level `<rtcp-fb-trr-int>`. */
  rtcpFbTrrInt?: number;
  rtpHdrExts: RtpHdrExt[];
  /** `<extmap-allow-mixed xmlns="…rtp-hdrext:0"/>`. */
  extmapAllowMixed: boolean;
  /** `<rtcp-mux/>` inside the description: the one LJM turns into `a=rtcp-mux` (REQUIRED by Chrome). */
  rtcpMux: boolean;
  sources: Source[];
  ssrcGroups: SsrcGroup[];
}

/** DTLS `setup` role (RFC 4145). */
export type DtlsSetup = 'active' | 'passive' | 'actpass' | 'holdconn';

/** `<fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash setup>VALUE</fingerprint>` (XEP-0320). */
export interface Fingerprint {
  /** Hash function, e.g. `sha-256`. */
  hash: string;
  /** Colon-separated hex. */
  value: string;
  setup?: DtlsSetup;
  /** `required` attribute (XEP-0320). */
  required?: boolean;
  /** `cryptex="true"` (LJM adds `a=cryptex`; don't offer it). */
  cryptex?: boolean;
}

/** `<candidate>` (XEP-0176 §5). Field names match the bridge's Colibri `Candidate`. */
export interface Candidate {
  foundation: string;
  /** 1 = RTP (everything is rtcp-muxed). */
  component: number;
  /** `udp`, `tcp`, `ssltcp`. */
  protocol: string;
  priority: number;
  ip: string;
  port: number;
  /** `host`, `srflx`, `prflx`, `relay`. */
  type: string;
  /** ICE generation; 0 when omitted. */
  generation?: number;
  network?: number;
  id?: string;
  /** `rel-addr` (srflx/prflx/relay). */
  relAddr?: string;
  /** `rel-port`. */
  relPort?: number;
  /** `tcptype` for TCP candidates (`active`, `passive`, `so`). */
  tcptype?: string;
}

/** `<web-socket xmlns="http://jitsi.org/protocol/colibri" url [active]>`: the colibri-ws bridge channel. */
export interface WebSocketUrl {
  url: string;
  active?: boolean;
}

/** `<sctpmap xmlns="urn:xmpp:jingle:transports:dtls-sctp:1" number protocol streams>` (XEP-0343). */
export interface SctpMap {
  /** SCTP port. */
  number: number;
  protocol: string;
  streams?: number;
}

/** `<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1">` (XEP-0176). */
export interface IceUdpTransport {
  ufrag?: string;
  pwd?: string;
  /** `ice-generation` of an in-place ICE restart (PROTOCOL §4.8). */
  iceGeneration?: number;
  fingerprints: Fingerprint[];
  candidates: Candidate[];
  /** `<rtcp-mux/>` inside the transport (JVB sends it; LJM ignores it). */
  rtcpMux: boolean;
  /** colibri-ws URLs; several may be listed, the client uses the first usable one (PROTOCOL §4.3.3). */
  webSockets: WebSocketUrl[];
  sctpmap?: SctpMap;
}

/** `<content>` (XEP-0166 §7.3). */
export interface Content {
  name: ContentName;
  creator?: ContentCreator;
  senders?: ContentSenders;
  description?: RtpDescription;
  transport?: IceUdpTransport;
  /** `<initial-last-n xmlns="jitsi:colibri2" value>` (LJM puts it in the video content of session-accept). */
  initialLastN?: number;
}

/** `<group xmlns="urn:xmpp:jingle:apps:grouping:0" semantics>` (XEP-0338). */
export interface ContentGroup {
  semantics: 'BUNDLE' | (string & {});
  /** Content names. */
  contents: string[];
}

/** `<bridge-session xmlns="http://jitsi.org/protocol/focus" id [restart] [ice-restart] [region]>` (PROTOCOL §4.3). */
export interface BridgeSession {
  id: string;
  /** Client → focus session-terminate: wants a new session (ICE failure recovery). */
  restart?: boolean;
  /** Client → focus session-info: in-place ICE restart request. */
  iceRestart?: boolean;
  /** Bridge region, shown to the app. */
  region?: string;
}

/** XEP-0166 §7.4 reason conditions. */
export type ReasonCondition =
  | 'alternative-session'
  | 'busy'
  | 'cancel'
  | 'connectivity-error'
  | 'decline'
  | 'expired'
  | 'failed-application'
  | 'failed-transport'
  | 'general-error'
  | 'gone'
  | 'incompatible-parameters'
  | 'media-error'
  | 'security-error'
  | 'success'
  | 'timeout'
  | 'unsupported-applications'
  | 'unsupported-transports';

/** `<reason><CONDITION/>[<text>…</text>]</reason>`. */
export interface Reason {
  condition: ReasonCondition;
  text?: string;
  /** The `<sid>` of `alternative-session`. */
  alternativeSid?: string;
}

/** One source in the compact JSON encoding: `{"s": ssrc, "n": name, "m": msid, "v": "d"}`. */
export interface JsonSource {
  ssrc: number;
  name?: string;
  msid?: string;
  /** `"v": "d"`: a desktop (screen share) video source. Camera is implied for video otherwise. */
  desktop?: boolean;
}

/** One SSRC group in the compact JSON encoding: `["f"|"s", ssrc, ssrc, …]`. */
export interface JsonSsrcGroup {
  semantics: 'FID' | 'SIM';
  ssrcs: number[];
}

/** One owner's entry of the compact JSON encoding: `[videoSources, videoGroups, audioSources, audioGroups?]`. */
export interface JsonOwnerSources {
  video: JsonSource[];
  videoGroups: JsonSsrcGroup[];
  audio: JsonSource[];
  audioGroups: JsonSsrcGroup[];
}

/**
 * The compact source encoding `<json-message xmlns="http://jitsi.org/jitmeet">{"sources":{…}}</json-message>`
 * (PROTOCOL §4.4.3), keyed by owner endpoint id. Serialised in Map order; parsed in JSON.parse property order.
 */
export type JsonSources = Map<string, JsonOwnerSources>;

/** The `<jingle>` element of a Jingle IQ. */
export interface Jingle {
  action: JingleAction;
  sid: string;
  initiator?: string;
  responder?: string;
  contents: Content[];
  group?: ContentGroup;
  bridgeSession?: BridgeSession;
  reason?: Reason;
  /** Sources in the compact JSON encoding (`<json-message>`), instead of `<source>` elements. */
  jsonSources?: JsonSources;
  /**
   * Direct children of `<jingle>` this model does not interpret (`startmuted`, `traceparent`, session-info
   * payloads such as `ice-state` or `mute`, a `json-message` without sources), kept for round-trips and so the
   * session layer can answer session-info it does not understand with `unsupported-info` (XEP-0166 §7.2.13).
   */
  extensions?: Element[];
}
