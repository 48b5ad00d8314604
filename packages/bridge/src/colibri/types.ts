/**
 * The focus ⇄ bridge contract in Colibri2 shape (`jitsi:colibri2`), camelCased. The in-process API takes and
 * returns exactly these objects; a later XMPP transport (colibri2 IQs) maps them one-to-one to XML, so nothing
 * here may depend on bridge internals.
 *
 * Shapes follow jitsi-xmpp-extensions' `colibri2/json/Colibri2JSONSerializer.kt` and PROTOCOL.md §5.1/§5.2
 * (`<conference-modify>` / `<conference-modified>`). Differences on purpose:
 * - `sources` of the reply sits on {@link ConferenceModified} (as `<sources>` does in the IQ), not per endpoint.
 * - `MediaSourceDesc.owner` is optional: the endpoint that carries a source owns it.
 *
 * References: PROTOCOL.md §5.1, §5.2, §5.3; XE `colibri2/*.java`; JVB `Colibri2ConferenceHandler.kt`.
 */

/** Media kinds of Colibri2 `<media type>` and `<media-source type>`. */
export type MediaType = 'audio' | 'video';

/** One `rtcp-fb` of a payload type (`<rtcp-fb type="nack" subtype="pli"/>`). */
export interface RtcpFb {
  /** e.g. `nack`, `ccm`, `goog-remb`, `transport-cc`. */
  type: string;
  /** e.g. `pli` (with `nack`), `fir` (with `ccm`). */
  subtype?: string;
}

/** A `<payload-type>` copied from the Jingle offer. */
export interface PayloadType {
  /** RTP payload type number (0–127). */
  id: number;
  /** Codec name as in SDP (`opus`, `VP8`, `rtx`, …). Compared case-insensitively. */
  name: string;
  /** Clock rate in Hz. */
  clockrate: number;
  /** Audio channels. */
  channels?: number;
  /** fmtp parameters, e.g. `{ apt: '100' }` for RTX. */
  parameters?: Record<string, string>;
  /** rtcp-fb lines of this payload type. */
  rtcpFbs?: RtcpFb[];
}

/** A `<rtp-hdrext>` (RFC 8285 extmap) copied from the Jingle offer. */
export interface RtpHdrExt {
  /** Extension id (1–14 one-byte, up to 255 two-byte). */
  id: number;
  /** Extension URI. */
  uri: string;
}

/** `<media>` of an endpoint: what was negotiated for one media type. */
export interface Media {
  type: MediaType;
  payloadTypes: PayloadType[];
  rtpHdrExts: RtpHdrExt[];
  /** `<extmap-allow-mixed/>`. */
  extmapAllowMixed?: boolean;
}

/** DTLS fingerprint (`<fingerprint hash setup>`). */
export interface Fingerprint {
  /** Hash function, e.g. `sha-256`. */
  hash: string;
  /** Colon-separated upper-case hex. */
  value: string;
  /** DTLS role of the side that sent it. */
  setup?: 'active' | 'passive' | 'actpass';
}

/** ICE candidate (`<candidate>` of ice-udp:1). */
export interface Candidate {
  foundation: string;
  component: number;
  /** `udp` (we never offer TCP). */
  protocol: string;
  priority: number;
  ip: string;
  port: number;
  /** `host`, `srflx`, `prflx`, `relay`. */
  type: string;
  generation: number;
  network?: number;
  id?: string;
  /** Related address (srflx/relay). */
  relAddr?: string;
  relPort?: number;
}

/** `<transport xmlns="urn:xmpp:jingle:transports:ice-udp:1">`. */
export interface IceUdpTransport {
  ufrag: string;
  pwd: string;
  fingerprints: Fingerprint[];
  candidates?: Candidate[];
}

/** `<transport>` of a Colibri2 endpoint in a request. */
export interface TransportModify {
  /** The bridge is the ICE controlling agent (Jicofo: true). */
  iceControlling?: boolean;
  /** The client's ICE credentials, fingerprint and (rarely) candidates, after session-accept. */
  iceUdp?: IceUdpTransport;
  /** `<sctp/>`: not supported (the bridge channel is colibri-ws); ignored. */
  sctp?: unknown;
}

/** `<source>` inside a `<media-source>` (urn:xmpp:jingle:apps:rtp:ssma:0). */
export interface SourceDesc {
  /** 32-bit SSRC. */
  ssrc: number;
  /** Source name (`<ep>-v0`); informational, the media-source id is what counts. */
  name?: string;
  /** `camera` / `desktop` on the primary source of video. */
  videoType?: string;
}

/** `<ssrc-group semantics>`. */
export interface SsrcGroupDesc {
  /** `SIM`: simulcast encodings, low → high. `FID`: [primary, rtx]. */
  semantics: 'SIM' | 'FID';
  ssrcs: number[];
}

/** `<media-source type id>`: one named source of an endpoint with all its SSRCs and groups. */
export interface MediaSourceDesc {
  type: MediaType;
  /** Source name, e.g. `3f2a9c1e-v0`. */
  id: string;
  /** Owner endpoint id; defaults to the endpoint carrying it (a different value is a bad request). */
  owner?: string;
  /** `camera` (default) or `desktop` (also read from the primary `<source videoType>`). */
  videoType?: string;
  sources: SourceDesc[];
  ssrcGroups?: SsrcGroupDesc[];
}

/** `<force-mute audio video>`. */
export interface ForceMute {
  audio?: boolean;
  video?: boolean;
}

/**
 * Endpoint capabilities. `source-names` is mandatory in Colibri2 (we always behave so); `ssrc-rewriting` (the
 * Colibri2 name) and `ssrc-rewriting-1` (the client feature suffix) both switch SSRC-rewriting mode on.
 */
export type Capability = 'source-names' | 'ssrc-rewriting' | 'ssrc-rewriting-1' | 'private-address-connectivity' | (string & {});

/** `<endpoint>` of a `<conference-modify>`. */
export interface EndpointModify {
  /** Endpoint id (the MUC nick). */
  id: string;
  /** Create the endpoint (conflict if it exists). */
  create?: boolean;
  /** Expire the endpoint (a no-op if it doesn't exist). Excludes every other field. */
  expire?: boolean;
  medias?: Media[];
  transport?: TransportModify;
  /** The endpoint's complete source set (not a delta). */
  sources?: MediaSourceDesc[];
  forceMute?: ForceMute;
  statsId?: string;
  /** `visitor` for visitors (they send no media). */
  mucRole?: string;
  capabilities?: Capability[];
  /** `<initial-last-n value>`: lastN before the first ReceiverVideoConstraints. */
  initialLastN?: number;
}

/** `<conference-modify>`. */
export interface ConferenceModify {
  /** Meeting id (UUID, the room's `muc#roominfo_meetingId`). */
  meetingId: string;
  /** Room JID. */
  name?: string;
  /** Create the conference (`conference_already_exists` if it exists). */
  create?: boolean;
  /** Expire the whole conference. */
  expire?: boolean;
  endpoints?: EndpointModify[];
  /** Relays (bridge cascading): not supported; a non-empty list is `feature_not_implemented`. */
  relays?: unknown[];
}

/** The bridge's transport for one endpoint, as the focus puts it in every Jingle content. */
export interface TransportDesc extends IceUdpTransport {
  /** The bridge's candidates (all of them: the client ignores later ones). */
  candidates: Candidate[];
  /** Always true (`<rtcp-mux/>`). */
  rtcpMux: true;
  /** colibri-ws URL with the endpoint's password, when the bridge knows its public base URL. */
  webSocketUrl?: string;
}

/** `<endpoint>` of a `<conference-modified>`. */
export interface EndpointModified {
  id: string;
  /** Present when the endpoint was created (or its transport touched). */
  transport?: TransportDesc;
}

/** `<conference-modified>`. */
export interface ConferenceModified {
  meetingId: string;
  endpoints: EndpointModified[];
  /**
   * The bridge's feedback sources `jvb-a0` / `jvb-v0` (its RTCP SSRCs), present when the conference or an endpoint
   * was created; the focus turns them into the offer's `jvb` placeholder sources.
   */
  sources?: MediaSourceDesc[];
}
