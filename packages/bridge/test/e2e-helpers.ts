/**
 * Helpers for the end-to-end bridge tests: a {@link BridgeService} on loopback (real UDP port, real HTTP server for
 * colibri-ws), the SDP offer a Jitsi client would derive from the Jingle offer the focus builds out of the bridge's
 * reply (PROTOCOL.md §4.3, §4.11), browser stand-ins on two independent WebRTC stacks (werift and libdatachannel
 * through node-datachannel) that send synthetic media as raw RTP over their SRTP, colibri-ws clients, and media
 * pumps (Opus-like audio with RFC 6464 levels, VP8 simulcast from test/model-fakes.ts).
 *
 * The werift peers send and receive below werift's RTP senders/receivers, on its DTLS transport: `sendRtp(payload,
 * header)` keeps the SSRCs, sequence numbers and header extensions we give it (the RTCRtpSender would rewrite the
 * SSRC to its own), and `onRtp`/`onRtcp` see every decrypted packet whatever its SSRC. libdatachannel sends what it
 * is given on a track and delivers what it routes to a track by the SSRCs of the offer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PeerConnection, type Track } from 'node-datachannel';
import { pino } from 'pino';
import { RTCPeerConnection, RtpPacket, type RtcpPacket } from 'werift';
import { WebSocket } from 'ws';
import type { MediaSourceDesc, TransportDesc } from '../src/colibri/types.js';
import { HeaderExtensionUri } from '../src/rtp/header-ext.js';
import { createBridgeService, type BridgeService, type BridgeServiceConfigInput } from '../src/service.js';
import type { BridgeCertificate } from '../src/transport/certificate.js';
import type { RemoteTransportParams } from '../src/transport/endpoint-transport.js';
import {
  AudioSender,
  EXT_AUDIO_LEVEL,
  EXT_VIDEO_ORIENTATION,
  OPUS_PT,
  RTX_PT,
  type SsrcPlan,
  VP8_PT,
  Vp8SimulcastSender,
} from './model-fakes.js';
import { parseAnswer, waitFor } from './transport-helpers.js';

export { waitFor } from './transport-helpers.js';

export const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** ICE timings short enough for failure paths, long enough for a loaded 2-core machine. */
export const TEST_ICE = { consentIntervalMs: 1000, consentTimeoutMs: 10_000, connectTimeoutMs: 10_000 };

// ------------------------------------------------------------------------------------------------- service

/** A bridge service plus the HTTP server its colibri-ws handler is mounted on. */
export interface Harness {
  readonly svc: BridgeService;
  readonly http: Server;
  readonly httpPort: number;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 (upgrades go to the service, anything else is destroyed, as the server package
 * does) and the service on a free UDP port advertising 127.0.0.1 only.
 */
export async function startHarness(config: BridgeServiceConfigInput = {}, certificate?: BridgeCertificate): Promise<Harness> {
  let svc: BridgeService | undefined;
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  http.on('upgrade', (req, socket, head) => {
    if (svc === undefined || !svc.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const httpPort = (http.address() as AddressInfo).port;
  const service = await createBridgeService({
    config: {
      webSocketBaseUrl: `ws://127.0.0.1:${httpPort}/colibri-ws`,
      ...config,
      transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'], ice: TEST_ICE, ...config.transport },
    },
    log,
    ...(certificate !== undefined ? { certificate } : {}),
  });
  svc = service;
  return {
    svc: service,
    http,
    httpPort,
    async close() {
      await service.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

// ------------------------------------------------------------------------------------------------- offer

/** What a receiver is told about another endpoint's sources (non-rewriting mode: s0/r0 only, PROTOCOL.md §7.2). */
export interface RemoteSources {
  owner: string;
  audio?: number;
  video?: { ssrc: number; rtx: number };
}

/** The receiver-visible sources of an endpoint with `plan` (audio, video s0 and its RTX r0). */
export function remoteSourcesOf(owner: string, plan: SsrcPlan): RemoteSources {
  return { owner, audio: plan.audio, video: { ssrc: plan.video[0] as number, rtx: plan.rtx[0] as number } };
}

/**
 * The SDP offer lib-jitsi-meet builds from a Jingle session-initiate whose transport is the bridge's reply for this
 * endpoint: BUNDLEd audio + video, the bridge's ufrag/pwd/fingerprint (setup actpass) and every candidate, Jicofo's
 * payload types (opus 111, VP8 100, rtx 96) and extension ids, the bridge's feedback sources (`jvb-a0`/`jvb-v0`)
 * and the other endpoints' sources.
 */
export function buildJitsiOffer(t: TransportDesc, feedback: readonly MediaSourceDesc[] | undefined, remotes: readonly RemoteSources[]): string {
  const fp = t.fingerprints[0];
  if (fp === undefined) throw new Error('bridge transport without fingerprint');
  const transport = [
    `a=ice-ufrag:${t.ufrag}`,
    `a=ice-pwd:${t.pwd}`,
    `a=fingerprint:${fp.hash} ${fp.value}`,
    'a=setup:actpass',
    'a=rtcp-mux',
    ...t.candidates.map((c) => `a=candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type} generation ${c.generation}`),
    'a=end-of-candidates',
  ];
  const ssrc = (s: number, owner: string, kind: string): string[] => [`a=ssrc:${s} cname:${owner}`, `a=ssrc:${s} msid:${owner} ${owner}-${kind}`];
  const jvbAudio = feedback?.find((s) => s.type === 'audio')?.sources[0]?.ssrc;
  const jvbVideo = feedback?.find((s) => s.type === 'video')?.sources[0]?.ssrc;
  const audioSsrcs = [
    ...(jvbAudio !== undefined ? ssrc(jvbAudio, 'jvb', 'a0') : []),
    ...remotes.flatMap((r) => (r.audio !== undefined ? ssrc(r.audio, r.owner, 'a0') : [])),
  ];
  const videoSsrcs = [
    ...(jvbVideo !== undefined ? ssrc(jvbVideo, 'jvb', 'v0') : []),
    ...remotes.flatMap((r) =>
      r.video !== undefined ? [...ssrc(r.video.ssrc, r.owner, 'v0'), ...ssrc(r.video.rtx, r.owner, 'v0'), `a=ssrc-group:FID ${r.video.ssrc} ${r.video.rtx}`] : [],
    ),
  ];
  return [
    'v=0',
    `o=- ${Date.now()} 2 IN IP4 0.0.0.0`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=msid-semantic: WMS *',
    `m=audio 9 UDP/TLS/RTP/SAVPF ${OPUS_PT}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    ...transport,
    'a=mid:0',
    'a=sendrecv',
    `a=rtpmap:${OPUS_PT} opus/48000/2`,
    `a=fmtp:${OPUS_PT} minptime=10;useinbandfec=1`,
    `a=extmap:${EXT_AUDIO_LEVEL} ${HeaderExtensionUri.SsrcAudioLevel}`,
    ...audioSsrcs,
    `m=video 9 UDP/TLS/RTP/SAVPF ${VP8_PT} ${RTX_PT}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    ...transport,
    'a=mid:1',
    'a=sendrecv',
    `a=rtpmap:${VP8_PT} VP8/90000`,
    `a=rtcp-fb:${VP8_PT} ccm fir`,
    `a=rtcp-fb:${VP8_PT} nack`,
    `a=rtcp-fb:${VP8_PT} nack pli`,
    `a=rtcp-fb:${VP8_PT} goog-remb`,
    `a=rtpmap:${RTX_PT} rtx/90000`,
    `a=fmtp:${RTX_PT} apt=${VP8_PT}`,
    `a=extmap:${EXT_VIDEO_ORIENTATION} ${HeaderExtensionUri.VideoOrientation}`,
    ...videoSsrcs,
    '',
  ].join('\r\n');
}

// ------------------------------------------------------------------------------------------------- peers

/** A browser stand-in. */
export interface Peer {
  readonly id: string;
  readonly stack: 'werift' | 'libdatachannel';
  /** The client side of the answer (ufrag/pwd/fingerprint with setup), for the focus's `transport` update. */
  readonly answer: RemoteTransportParams;
  /** Every decrypted RTP packet received, in arrival order (copies). */
  readonly rtp: Buffer[];
  /** Every decrypted RTCP packet received (single packets for werift, compounds for libdatachannel). */
  readonly rtcp: Buffer[];
  /** True once the peer's side of ICE + DTLS is up. */
  connected(): boolean;
  /** Sends one plain RTP packet (the stack protects it). Dropped before the peer is connected. */
  sendRtp(buf: Buffer): void;
  /** Sends one plain (compound) RTCP packet. */
  sendRtcp(buf: Buffer): void;
  close(): Promise<void>;
}

/** werift answering `offer`; loopback only, no STUN servers, no candidates signalled back (as LJM). */
export async function createWeriftPeer(id: string, offer: string): Promise<Peer> {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
  });
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  const dt = pc.dtlsTransports[0];
  if (dt === undefined) throw new Error('werift has no DTLS transport');
  const rtp: Buffer[] = [];
  const rtcp: Buffer[] = [];
  dt.onRtp.subscribe((p) => void rtp.push(p.serialize()));
  dt.onRtcp.subscribe((p) => void rtcp.push(p.serialize()));
  return {
    id,
    stack: 'werift',
    answer: parseAnswer(pc.localDescription?.sdp ?? answer.sdp),
    rtp,
    rtcp,
    connected: () => dt.state === 'connected',
    sendRtp(buf) {
      if (dt.state !== 'connected') return;
      const p = RtpPacket.deSerialize(buf);
      void dt.sendRtp(p.payload, p.header);
    },
    sendRtcp(buf) {
      if (dt.state !== 'connected') return;
      // sendRtcp only serializes what it is given.
      void dt.sendRtcp([{ serialize: () => buf } as unknown as RtcpPacket]);
    },
    async close() {
      await pc.close().catch(() => {});
    },
  };
}

/** libdatachannel (node-datachannel) answering `offer`. */
export async function createDatachannelPeer(id: string, offer: string): Promise<Peer> {
  const pc = new PeerConnection(id, { iceServers: [], bindAddress: '127.0.0.1' });
  let sdp = '';
  const tracks: Track[] = [];
  const rtp: Buffer[] = [];
  const rtcp: Buffer[] = [];
  pc.onLocalDescription((d) => {
    sdp = d;
  });
  pc.onTrack((track) => {
    tracks.push(track);
    track.onMessage((msg) => {
      const b = Buffer.from(msg);
      const pt = b[1] ?? 0;
      if (pt >= 192 && pt <= 223) rtcp.push(b);
      else rtp.push(b);
    });
  });
  pc.setRemoteDescription(offer, 'Offer' as never);
  await waitFor(() => (sdp !== '' ? undefined : 'no answer from libdatachannel'));
  const open = (): Track | undefined => tracks.find((t) => t.isOpen());
  return {
    id,
    stack: 'libdatachannel',
    answer: parseAnswer(sdp),
    rtp,
    rtcp,
    connected: () => open() !== undefined,
    sendRtp(buf) {
      open()?.sendMessageBinary(buf);
    },
    sendRtcp(buf) {
      open()?.sendMessageBinary(buf);
    },
    async close() {
      for (const t of tracks) t.close();
      pc.close();
    },
  };
}

// ------------------------------------------------------------------------------------------------- media

/**
 * Opus-like audio every 20 ms and VP8 simulcast (three encodings) at 30 fps. Like Chrome, the video sends a key
 * frame first and then only when asked (PLI/FIR for that encoding's SSRC), unless `keyframeIntervalFrames` is given.
 */
export class MediaPump {
  readonly audio: AudioSender;
  readonly video: Vp8SimulcastSender;
  /** RFC 6464 level of the audio (0 loud … 127 silence). */
  level: number;
  /** False: key frame requests are counted but not answered (to hold a pending switch). */
  answerKeyframeRequests = true;
  /** Key frame requests seen so far. */
  keyframeRequests = 0;
  /** Video frames sent so far. */
  frames = 0;
  #rtcpSeen = 0;
  #timers: NodeJS.Timeout[] = [];
  readonly #counter: Vp8SimulcastSender;

  constructor(
    readonly peer: Peer,
    plan: SsrcPlan,
    opts: { level: number; keyframeIntervalFrames?: number },
  ) {
    this.level = opts.level;
    this.audio = new AudioSender(plan.audio);
    this.video = new Vp8SimulcastSender(plan, opts.keyframeIntervalFrames ?? 1_000_000);
    this.#counter = new Vp8SimulcastSender(plan);
  }

  start(): void {
    this.#timers.push(setInterval(() => this.peer.sendRtp(this.audio.packet(this.level)), 20));
    this.#timers.push(
      setInterval(() => {
        const fresh = this.peer.rtcp.slice(this.#rtcpSeen);
        this.#rtcpSeen = this.peer.rtcp.length;
        this.keyframeRequests += (this.answerKeyframeRequests ? this.video : this.#counter).handleRtcp(fresh);
        for (const p of this.video.frame()) this.peer.sendRtp(p);
        this.frames++;
      }, 33),
    );
  }

  stop(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }
}

/** SSRC of a raw RTP packet. */
export function ssrcOf(buf: Buffer): number {
  return buf.readUInt32BE(8);
}

// ------------------------------------------------------------------------------------------------- colibri-ws

/** A colibri-ws client (what LJM's BridgeChannel does). */
export interface ChannelClient {
  readonly ws: WebSocket;
  readonly messages: Array<Record<string, unknown>>;
  close: { code: number; reason: string } | undefined;
  send(msg: Record<string, unknown>): void;
  /** Received messages of one colibriClass. */
  of(colibriClass: string): Array<Record<string, unknown>>;
}

/** Opens the endpoint's colibri WebSocket URL (as given in the bridge's reply). */
export async function openChannel(url: string): Promise<ChannelClient> {
  const ws = new WebSocket(url);
  const c: ChannelClient = {
    ws,
    messages: [],
    close: undefined,
    send: (msg) => ws.send(JSON.stringify(msg)),
    of: (cls) => c.messages.filter((m) => m.colibriClass === cls),
  };
  ws.on('message', (data) => c.messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.on('close', (code, reason) => {
    c.close = { code, reason: reason.toString() };
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return c;
}

/** Attempts an upgrade that must fail; resolves with the HTTP status. */
export function rejectedStatus(url: string): Promise<number> {
  const ws = new WebSocket(url);
  return new Promise<number>((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('upgrade unexpectedly accepted'));
    });
    ws.on('error', () => undefined);
  });
}
