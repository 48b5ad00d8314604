/**
 * Pure builders for what the focus sends: the session-initiate offer and source-add/source-remove. No I/O; the
 * session layer wraps the returned {@link Jingle} with {@link serializeJingle} into an IQ.
 *
 * Codec and header-extension choices follow Jicofo's `JingleOfferFactory`/`CodecUtil` (PROTOCOL §4.3.1, §4.3.2),
 * shaped per participant by the features it advertised in disco#info (§3.4.2). Remote sources always go out with
 * simulcast stripped: one primary SSRC plus at most one RTX SSRC in one FID group per source, never a SIM group
 * (§4.4.2, §9f item 2), each with name, `ssrc-info` owner and msid (§4.4.1), after the bridge's `jvb-a0`/`jvb-v0`
 * placeholder sources that anchor the client's sendrecv m-lines.
 *
 * References:
 * - PROTOCOL.md §4.3 (offer structure), §4.3.1 (codecs), §4.3.2 (header extensions), §4.3.3 (transport), §4.3.4
 *   (data channel), §4.4 (sources), §4.5 (complete example), §4.7 (source-add/remove), §4.11 (what LJM requires)
 * - Jicofo `jicofo/src/main/java/org/jitsi/jicofo/codec/JingleOfferFactory.java`,
 *   `jicofo-common/src/main/kotlin/org/jitsi/jicofo/codec/CodecUtil.kt`, `jicofo-common/.../xmpp/Features.kt`
 */
import {
  type EndpointSourceSet,
  type SourceMap,
  sourceMapToJingle,
  sourceMapToJsonSources,
  stripSimulcast,
} from '../sources.js';
import { emptyDescription } from './xml.js';
import type {
  Candidate,
  Content,
  Fingerprint,
  IceUdpTransport,
  Jingle,
  PayloadType,
  RtcpFb,
  RtpDescription,
  RtpHdrExt,
  Source,
} from './types.js';

// ---------------------------------------------------------------------------------------------------------------
// Participant features (disco#info, PROTOCOL §3.4.2)

/** What a participant's client supports, from its disco#info features. */
export interface ParticipantFeatures {
  /** `urn:xmpp:jingle:apps:rtp:audio` */
  audio: boolean;
  /** `urn:xmpp:jingle:apps:rtp:video` */
  video: boolean;
  /** `urn:xmpp:jingle:transports:dtls-sctp:1` */
  sctp: boolean;
  /** `urn:ietf:rfc:4588` */
  rtx: boolean;
  /** `http://jitsi.org/tcc` */
  tcc: boolean;
  /** `http://jitsi.org/remb` */
  remb: boolean;
  /** `http://jitsi.org/opus-red` */
  opusRed: boolean;
  /** `http://jitsi.org/json-encoded-sources` */
  jsonSources: boolean;
  /** `http://jitsi.org/source-name` */
  sourceNames: boolean;
  /** `http://jitsi.org/ssrc-rewriting-1` */
  ssrcRewriting: boolean;
}

/** disco#info feature URIs per {@link ParticipantFeatures} field. */
export const FEATURE_URIS: Readonly<Record<keyof ParticipantFeatures, string>> = {
  audio: 'urn:xmpp:jingle:apps:rtp:audio',
  video: 'urn:xmpp:jingle:apps:rtp:video',
  sctp: 'urn:xmpp:jingle:transports:dtls-sctp:1',
  rtx: 'urn:ietf:rfc:4588',
  tcc: 'http://jitsi.org/tcc',
  remb: 'http://jitsi.org/remb',
  opusRed: 'http://jitsi.org/opus-red',
  jsonSources: 'http://jitsi.org/json-encoded-sources',
  sourceNames: 'http://jitsi.org/source-name',
  ssrcRewriting: 'http://jitsi.org/ssrc-rewriting-1',
};

/** What this LJM always advertises (PROTOCOL §3.4.2): assume it when the focus does not query disco#info. */
export const DEFAULT_FEATURES: Readonly<ParticipantFeatures> = {
  audio: true,
  video: true,
  sctp: true,
  rtx: true,
  tcc: true,
  remb: true,
  opusRed: false,
  jsonSources: true,
  sourceNames: true,
  ssrcRewriting: false,
};

/** Jicofo's fallback when the disco#info query fails: audio, video and SCTP only. */
export const FALLBACK_FEATURES: Readonly<ParticipantFeatures> = {
  audio: true,
  video: true,
  sctp: true,
  rtx: false,
  tcc: false,
  remb: false,
  opusRed: false,
  jsonSources: false,
  sourceNames: false,
  ssrcRewriting: false,
};

/** Features from the `<feature var>` values of a disco#info result. */
export function featuresFromDisco(vars: Iterable<string>): ParticipantFeatures {
  const set = new Set(vars);
  const out = {} as ParticipantFeatures;
  for (const key of Object.keys(FEATURE_URIS) as (keyof ParticipantFeatures)[]) out[key] = set.has(FEATURE_URIS[key]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Codec configuration (PROTOCOL §4.3.1, §4.3.2)

/** A video codec with its payload type and, optionally, its RTX payload type. */
export interface VideoCodecConfig {
  pt: number;
  /** RTX payload type; omit for no RTX. */
  rtxPt?: number;
}

/** What the focus offers. Omitting a codec or header extension disables it. */
export interface OfferConfig {
  audio: {
    opus?: {
      pt: number;
      /** `minptime` fmtp. */
      minptime: number;
      /** `useinbandfec=1` (not offered together with RED, to avoid double FEC). */
      useInbandFec: boolean;
      /** RED (RFC 2198) over Opus, offered before Opus, only to clients with `opus-red`. */
      red?: { pt: number };
    };
    telephoneEvent?: { pt: number };
    /** `description@maxptime`. */
    maxptime?: number;
  };
  /** Offered in this order (Jicofo preference: AV1, VP8, H264, VP9); RTX after all primaries. */
  video: { av1?: VideoCodecConfig; vp8?: VideoCodecConfig; h264?: VideoCodecConfig; vp9?: VideoCodecConfig };
  /** Header extension ids; ids are the same for every participant so the bridge never remaps. */
  rtpHdrExts: {
    audioLevel?: number;
    mid?: number;
    absSendTime?: number;
    /** Offered only when {@link OfferConfig.tcc} and the client has TCC. */
    tcc?: number;
    av1DependencyDescriptor?: number;
    videoLayersAllocation?: number;
    toffset?: number;
    framemarking?: number;
    videoContentType?: number;
    rid?: number;
  };
  /** `<extmap-allow-mixed/>` in both descriptions. */
  extmapAllowMixed: boolean;
  /** Transport-wide congestion control (rtcp-fb `transport-cc` + hdrext), if the client supports it. */
  tcc: boolean;
  /** `goog-remb` rtcp-fb, if the client supports REMB and TCC is not used. */
  remb: boolean;
}

/**
 * This project's offer (PROTOCOL §4.3.1 "Recommendation", reproduces the §4.5 example): Opus 111 + telephone-event
 * 126, VP8 100 + RTX 96, only `ssrc-audio-level`, REMB and no TCC (the bridge sends REMB, §7.6).
 */
export const DEFAULT_OFFER_CONFIG: Readonly<OfferConfig> = {
  audio: {
    opus: { pt: 111, minptime: 10, useInbandFec: true },
    telephoneEvent: { pt: 126 },
    maxptime: 60,
  },
  video: { vp8: { pt: 100, rtxPt: 96 } },
  rtpHdrExts: { audioLevel: 1 },
  extmapAllowMixed: true,
  tcc: false,
  remb: true,
};

/** Jicofo's default offer with everything enabled (`reference.conf`; RED stays off as in Jicofo). */
export const JICOFO_OFFER_CONFIG: Readonly<OfferConfig> = {
  audio: {
    opus: { pt: 111, minptime: 10, useInbandFec: true },
    telephoneEvent: { pt: 126 },
    maxptime: 60,
  },
  video: {
    av1: { pt: 41, rtxPt: 42 },
    vp8: { pt: 100, rtxPt: 96 },
    h264: { pt: 107, rtxPt: 99 },
    vp9: { pt: 101, rtxPt: 97 },
  },
  rtpHdrExts: { audioLevel: 1, mid: 10, absSendTime: 3, tcc: 5, av1DependencyDescriptor: 11 },
  extmapAllowMixed: true,
  tcc: true,
  remb: true,
};

/** Header extension URIs (PROTOCOL §4.3.2). */
export const HDREXT_URIS = {
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  tcc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  av1DependencyDescriptor: 'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension',
  videoLayersAllocation: 'http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00',
  toffset: 'urn:ietf:params:rtp-hdrext:toffset',
  framemarking: 'http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07',
  videoContentType: 'http://www.webrtc.org/experiments/rtp-hdrext/video-content-type',
  rid: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
} as const satisfies Record<keyof OfferConfig['rtpHdrExts'], string>;

// ---------------------------------------------------------------------------------------------------------------
// Offer

/** The bridge's transport for one endpoint (structurally the bridge's Colibri `TransportDesc`). */
export interface BridgeTransport {
  ufrag: string;
  pwd: string;
  /** DTLS fingerprints; `setup` defaults to `actpass` (the bridge becomes DTLS server, §4.3.3). */
  fingerprints: Fingerprint[];
  /** Every bridge candidate: candidates sent later are ignored by LJM (§4.8). */
  candidates: Candidate[];
  /** colibri-ws URL with the endpoint's password. */
  webSocketUrl?: string;
}

/** The bridge's RTCP sender SSRCs, announced as the `jvb-a0`/`jvb-v0` placeholder sources (§4.4.2). */
export interface FeedbackSources {
  audio?: number;
  video?: number;
}

/** Owner of the placeholder sources. */
export const FEEDBACK_OWNER = 'jvb';

/** Input of {@link buildOffer}. */
export interface OfferOptions {
  /** Jingle session id (random alphanumeric). */
  sid: string;
  /** `jingle@initiator`: the focus's real full JID (informational for the client). */
  initiator?: string;
  bridgeTransport: BridgeTransport;
  /** `<bridge-session id>`: REQUIRED in practice for ICE-failure recovery (§4.3 item 3). */
  bridgeSessionId: string;
  /** `<bridge-session region>`. */
  region?: string;
  /** Default {@link DEFAULT_OFFER_CONFIG}. */
  config?: OfferConfig;
  feedbackSources?: FeedbackSources;
  /**
   * The other participants' sources (never the receiver's own). Simulcast is stripped here, so full sets may be
   * passed.
   */
  remoteSources?: SourceMap;
  /** The receiver's capabilities. Default {@link DEFAULT_FEATURES}. */
  features?: ParticipantFeatures;
  /** Offer a `data` content (SCTP bridge channel) to clients that support it. Default false (§4.3.4, §10.2). */
  sctp?: boolean;
  /** Use the compact `<json-message>` source encoding with clients that support it. Default false. */
  jsonSources?: boolean;
  /** Use SSRC-rewriting mode with clients that support it: only placeholder sources in the offer. Default false. */
  ssrcRewriting?: boolean;
}

function fb(type: string, subtype?: string): RtcpFb {
  return subtype === undefined ? { type } : { type, subtype };
}

function payloadType(id: number, name: string, clockrate: number, channels?: number): PayloadType {
  const pt: PayloadType = { id, name, clockrate, parameters: [], rtcpFbs: [] };
  if (channels !== undefined) pt.channels = channels;
  return pt;
}

/** Which optional features this participant gets. */
interface Effective {
  rtx: boolean;
  tcc: boolean;
  remb: boolean;
  opusRed: boolean;
}

function effective(config: OfferConfig, features: ParticipantFeatures): Effective {
  const tcc = config.tcc && features.tcc;
  return {
    rtx: features.rtx,
    tcc,
    // PROTOCOL §4.3.1: goog-remb only when the client supports REMB and TCC is not in use.
    remb: config.remb && features.remb && !tcc,
    opusRed: config.audio.opus?.red !== undefined && features.opusRed,
  };
}

/** CodecUtil.createAudioPayloadTypeExtensions. */
function audioPayloadTypes(config: OfferConfig, eff: Effective): PayloadType[] {
  const out: PayloadType[] = [];
  const opus = config.audio.opus;
  if (opus) {
    if (opus.red && eff.opusRed) {
      // RED first so it is the selected codec; value-only fmtp "111/111" (RFC 2198).
      const red = payloadType(opus.red.pt, 'red', 48000, 2);
      red.parameters.push({ value: `${opus.pt}/${opus.pt}` });
      out.push(red);
    }
    // Opus is always signalled with 2 channels.
    const pt = payloadType(opus.pt, 'opus', 48000, 2);
    pt.parameters.push({ name: 'minptime', value: String(opus.minptime) });
    if (opus.useInbandFec && !eff.opusRed) pt.parameters.push({ name: 'useinbandfec', value: '1' });
    if (eff.tcc) pt.rtcpFbs.push(fb('transport-cc'));
    out.push(pt);
  }
  if (config.audio.telephoneEvent) out.push(payloadType(config.audio.telephoneEvent.pt, 'telephone-event', 8000));
  return out;
}

/** CodecUtil.createVideoPayloadTypeExtensions. */
function videoPayloadTypes(config: OfferConfig, eff: Effective): PayloadType[] {
  const videoFbs = (): RtcpFb[] => {
    const fbs = [fb('ccm', 'fir'), fb('nack'), fb('nack', 'pli')];
    if (eff.remb) fbs.push(fb('goog-remb'));
    if (eff.tcc) fbs.push(fb('transport-cc'));
    return fbs;
  };
  const { av1, vp8, h264, vp9 } = config.video;
  const out: PayloadType[] = [];
  const primary = (c: VideoCodecConfig | undefined, name: string, params: PayloadType['parameters'] = []): void => {
    if (!c) return;
    const pt = payloadType(c.pt, name, 90000);
    pt.rtcpFbs = videoFbs();
    pt.parameters = params;
    out.push(pt);
  };
  primary(av1, 'AV1');
  primary(vp8, 'VP8');
  // (sic) three parameters packed into one value, as Jicofo does.
  primary(h264, 'H264', [
    { name: 'profile-level-id', value: '42e01f;level-asymmetry-allowed=1;packetization-mode=1;' },
  ]);
  primary(vp9, 'VP9');
  if (eff.rtx) {
    const rtx = (c: VideoCodecConfig | undefined, withFbs: boolean): void => {
      if (!c || c.rtxPt === undefined) return;
      const pt = payloadType(c.rtxPt, 'rtx', 90000);
      pt.parameters.push({ name: 'apt', value: String(c.pt) });
      if (withFbs) pt.rtcpFbs.push(fb('ccm', 'fir'), fb('nack'), fb('nack', 'pli'));
      out.push(pt);
    };
    // Jicofo order: AV1, VP8, VP9, H264 (H264's RTX without rtcp-fb).
    rtx(av1, true);
    rtx(vp8, true);
    rtx(vp9, true);
    rtx(h264, false);
  }
  return out;
}

/** CodecUtil.createAudioRtpHdrExtExtensions / createVideoRtpHdrExtExtensions, in Jicofo's order. */
function hdrExts(config: OfferConfig, eff: Effective, media: 'audio' | 'video'): RtpHdrExt[] {
  const ids = config.rtpHdrExts;
  const order: (keyof OfferConfig['rtpHdrExts'])[] =
    media === 'audio'
      ? ['audioLevel', 'mid', 'tcc']
      : [
          'videoLayersAllocation',
          'av1DependencyDescriptor',
          'toffset',
          'mid',
          'absSendTime',
          'framemarking',
          'videoContentType',
          'rid',
          'tcc',
        ];
  const out: RtpHdrExt[] = [];
  for (const key of order) {
    const id = ids[key];
    if (id === undefined) continue;
    if (key === 'tcc' && !eff.tcc) continue;
    out.push({ id, uri: HDREXT_URIS[key] });
  }
  return out;
}

function bridgeIceTransport(t: BridgeTransport): IceUdpTransport {
  return {
    ufrag: t.ufrag,
    pwd: t.pwd,
    fingerprints: t.fingerprints.map((f) => ({ ...f, setup: f.setup ?? 'actpass' })),
    candidates: t.candidates.map((c) => ({ ...c, generation: c.generation ?? 0 })),
    rtcpMux: true,
    webSockets: t.webSocketUrl !== undefined ? [{ url: t.webSocketUrl }] : [],
  };
}

/** The `jvb-a0`/`jvb-v0` placeholder sources (§4.4.2). */
function feedbackSourceSet(fs: FeedbackSources | undefined): EndpointSourceSet {
  const set: EndpointSourceSet = { sources: [], groups: [] };
  if (fs?.audio !== undefined) {
    set.sources.push({ ssrc: fs.audio, name: 'jvb-a0', mediaType: 'audio', msid: 'mixedmslabel mixedlabelaudio0' });
  }
  if (fs?.video !== undefined) {
    set.sources.push({ ssrc: fs.video, name: 'jvb-v0', mediaType: 'video', msid: 'mixedmslabel mixedlabelvideo0' });
  }
  return set;
}

/** Placeholders as Jicofo writes them: no videoType (LJM treats mixedmslabel sources specially). */
function feedbackJingleSources(fs: FeedbackSources | undefined, media: 'audio' | 'video'): Source[] {
  const ssrc = fs?.[media];
  if (ssrc === undefined) return [];
  const name = media === 'audio' ? 'jvb-a0' : 'jvb-v0';
  const msid = media === 'audio' ? 'mixedmslabel mixedlabelaudio0' : 'mixedmslabel mixedlabelvideo0';
  return [{ ssrc, name, owner: FEEDBACK_OWNER, msid, parameters: [] }];
}

/** Every owner's set with simulcast stripped, in map order. */
function stripAll(map: SourceMap | undefined): Map<string, EndpointSourceSet> {
  const out = new Map<string, EndpointSourceSet>();
  for (const [owner, set] of map ?? []) out.set(owner, stripSimulcast(set));
  return out;
}

/**
 * Build the session-initiate for one participant (Jicofo `JingleOfferFactory.createOffer` + the sources and
 * bridge extensions of `ParticipantInviteRunnable`): audio/video (and optionally data) contents with identical
 * bridge transports, `rtcp-mux`, BUNDLE group, `<bridge-session>`, the placeholder sources first, then the other
 * participants' sources with simulcast stripped (standard `<source>`s, or `<json-message>` when chosen).
 */
export function buildOffer(options: OfferOptions): Jingle {
  const config = options.config ?? DEFAULT_OFFER_CONFIG;
  const features = options.features ?? DEFAULT_FEATURES;
  const eff = effective(config, features);
  const useJson = options.jsonSources === true && features.jsonSources;
  const rewriting = options.ssrcRewriting === true && features.ssrcRewriting;
  const remote = rewriting ? new Map<string, EndpointSourceSet>() : stripAll(options.remoteSources);
  const remoteContents = useJson ? [] : sourceMapToJingle(remote);
  const remoteDescription = (media: 'audio' | 'video'): RtpDescription | undefined =>
    remoteContents.find((c) => c.name === media)?.description;

  const contents: Content[] = [];
  const rtpContent = (media: 'audio' | 'video'): Content => {
    const d: RtpDescription = emptyDescription(media);
    if (media === 'audio') {
      if (config.audio.maxptime !== undefined) d.maxptime = config.audio.maxptime;
      d.payloadTypes = audioPayloadTypes(config, eff);
    } else {
      d.payloadTypes = videoPayloadTypes(config, eff);
    }
    d.rtpHdrExts = hdrExts(config, eff, media);
    d.extmapAllowMixed = config.extmapAllowMixed;
    d.rtcpMux = true;
    if (!useJson) {
      const remoteSources = remoteDescription(media)?.sources ?? [];
      d.sources = [...feedbackJingleSources(options.feedbackSources, media), ...remoteSources];
      d.ssrcGroups = remoteDescription(media)?.ssrcGroups ?? [];
    }
    return {
      name: media,
      creator: 'initiator',
      senders: 'both',
      description: d,
      transport: bridgeIceTransport(options.bridgeTransport),
    };
  };
  if (features.audio && config.audio.opus) contents.push(rtpContent('audio'));
  if (features.video && Object.values(config.video).some((c) => c !== undefined)) contents.push(rtpContent('video'));
  if (options.sctp === true && features.sctp) {
    const transport = bridgeIceTransport(options.bridgeTransport);
    transport.sctpmap = { number: 5000, protocol: 'webrtc-datachannel', streams: 1024 };
    contents.push({
      name: 'data',
      creator: 'initiator',
      senders: 'both',
      description: emptyDescription('application'),
      transport,
    });
  }

  const jingle: Jingle = {
    action: 'session-initiate',
    sid: options.sid,
    contents,
    group: { semantics: 'BUNDLE', contents: contents.map((c) => c.name) },
    bridgeSession: { id: options.bridgeSessionId },
  };
  if (options.initiator !== undefined) jingle.initiator = options.initiator;
  if (options.region !== undefined && jingle.bridgeSession) jingle.bridgeSession.region = options.region;
  if (useJson) {
    const all = new Map<string, EndpointSourceSet>([[FEEDBACK_OWNER, feedbackSourceSet(options.feedbackSources)]]);
    for (const [owner, set] of remote) all.set(owner, set);
    jingle.jsonSources = sourceMapToJsonSources(all);
  }
  return jingle;
}

// ---------------------------------------------------------------------------------------------------------------
// source-add / source-remove

/**
 * The payload of a focus → client source-add or source-remove (PROTOCOL §4.7): the given owners' sources with
 * simulcast stripped (the receiver only ever knew the stripped view, so removals list the same SSRCs), as standard
 * `<source>` contents with owner/name/msid, or as `<json-message>` when `jsonSources` is set.
 */
export function sourcesToJingleAdd(
  sources: SourceMap,
  options: { jsonSources?: boolean } = {},
): Pick<Jingle, 'contents' | 'jsonSources'> {
  const stripped = stripAll(sources);
  if (options.jsonSources === true) return { contents: [], jsonSources: sourceMapToJsonSources(stripped) };
  return { contents: sourceMapToJingle(stripped) };
}

/** A complete focus → client `source-add`/`source-remove` (no initiator, as Jicofo sends it). */
export function buildSourceUpdate(
  action: 'source-add' | 'source-remove',
  sid: string,
  sources: SourceMap,
  options: { jsonSources?: boolean } = {},
): Jingle {
  return { action, sid, ...sourcesToJingleAdd(sources, options) };
}
