/**
 * A headless Jitsi participant for whole-stack tests: what lib-jitsi-meet does on the wire, without a browser.
 *
 * - XMPP over WebSocket (RFC 7395) with anonymous SASL (the scripted {@link TestClient} of the xmpp package);
 * - the conference IQ to `focus.<domain>`, then the MUC join with LJM's presence payload (PROTOCOL.md §3.1, §3.4.1);
 * - answers every IQ the focus sends: disco#info with LJM's features (§3.4.2), `result` for everything else;
 * - on Jingle session-initiate (§4.3, §4.5): converts the offer to SDP as LJM does (§4.11; audio + video, BUNDLE,
 *   the bridge's ufrag/pwd/fingerprint/candidates, the offered codecs and header extensions, the remote sources),
 *   lets a werift RTCPeerConnection answer it, and sends session-accept (§4.6) with its own transport (ufrag, pwd,
 *   fingerprint setup=active, no candidates) and sources: audio `<ep>-a0` and video `<ep>-v0` (one SSRC + RTX);
 * - opens the colibri-ws bridge channel from the offer and sends ReceiverVideoConstraints (§6);
 * - tracks the remote sources announced in the offer and in source-add / source-remove (§4.7), and drops a leaver's
 *   sources on its unavailable presence as LJM does (§3.3.3);
 * - once ICE + DTLS are up, sends synthetic media below werift's RTP sender (as packages/bridge/test/e2e-helpers.ts
 *   does): Opus-like audio every 20 ms with the ssrc-audio-level extension (RFC 6464) and VP8 at 30 fps with a full
 *   payload descriptor (PictureID, TL0PICIDX) and a key frame first and every 30 frames;
 * - counts every decrypted RTP packet it receives, by SSRC.
 */
import { RTCPeerConnection, RtpPacket, type RTCDtlsTransport } from 'werift';
import WebSocket from 'ws';
import { type Element, NS_MUC, XmlStreamParser } from '@jitsi-one/xmpp';
import { TestClient } from '../packages/xmpp/test/client.js';
import { expandJsonSources, parseJingle, serializeJingle, emptyDescription } from '../packages/focus/src/jingle/xml.js';
import type { Content, IceUdpTransport, Jingle, PayloadType, RtpDescription, RtpHdrExt, Source } from '../packages/focus/src/jingle/types.js';

const NS_JINGLE = 'urn:xmpp:jingle:1';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const NS_FOCUS = 'http://jitsi.org/protocol/focus';
const URI_AUDIO_LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** What this LJM answers to disco#info (PROTOCOL §3.4.2, defaults: no SSRC rewriting). */
export const LJM_FEATURES = [
  'urn:xmpp:jingle:1',
  'urn:xmpp:jingle:apps:rtp:1',
  'urn:xmpp:jingle:transports:ice-udp:1',
  'urn:xmpp:jingle:apps:dtls:0',
  'urn:xmpp:jingle:transports:dtls-sctp:1',
  'urn:xmpp:jingle:apps:rtp:audio',
  'urn:xmpp:jingle:apps:rtp:video',
  'http://jitsi.org/json-encoded-sources',
  'urn:ietf:rfc:4588',
  'http://jitsi.org/remb',
  'http://jitsi.org/tcc',
  'http://jitsi.org/source-name',
  'http://jitsi.org/receive-multiple-video-streams',
  'http://jabber.org/protocol/caps',
];

export interface ParticipantOptions {
  /** XMPP WebSocket URL (`RunningServer.wsUrl`). */
  wsUrl: string;
  domain: string;
  focusDomain: string;
  /** Bare room JID. */
  room: string;
  /** MUC nick = endpoint id (LJM: 8 hex digits). */
  nick: string;
  /** This participant's SSRCs: audio, video and video RTX. */
  ssrcs: { audio: number; video: number; rtx: number };
  /** When true, a session-initiate is recorded but not answered until {@link Participant.answerOffer} (default false). */
  holdOffer?: boolean;
}

/** The sources of one remote endpoint as announced by the focus (offer / source-add, minus source-remove). */
export interface RemoteEndpointSources {
  audio: Set<number>;
  video: Set<number>;
}

/** A tiny RTP builder (one-byte header extensions, RFC 8285). */
function rtpPacket(o: { pt: number; seq: number; ts: number; ssrc: number; marker?: boolean; ext?: Array<[number, number[]]>; payload: number[] }): Buffer {
  const ext = o.ext ?? [];
  let extBytes: number[] = [];
  if (ext.length > 0) {
    for (const [id, data] of ext) extBytes.push((id << 4) | (data.length - 1), ...data);
    while (extBytes.length % 4 !== 0) extBytes.push(0);
    extBytes = [0xbe, 0xde, (extBytes.length / 4) >> 8, (extBytes.length / 4) & 0xff, ...extBytes];
  }
  const b = Buffer.alloc(12 + extBytes.length + o.payload.length);
  b[0] = 0x80 | (ext.length > 0 ? 0x10 : 0);
  b[1] = (o.marker ? 0x80 : 0) | o.pt;
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.ts >>> 0, 4);
  b.writeUInt32BE(o.ssrc >>> 0, 8);
  Buffer.from(extBytes).copy(b, 12);
  Buffer.from(o.payload).copy(b, 12 + extBytes.length);
  return b;
}

/** True for the first packet of a VP8 key frame (RFC 7741 §4.2–4.3: S=1, PID 0, payload header P=0). */
/** Poll `check` until it returns undefined (condition met); fail with its last reason after `timeoutMs`. */
export async function waitFor(check: () => string | undefined, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason = check();
  while (reason !== undefined) {
    if (Date.now() > deadline) throw new Error(`timed out: ${reason}`);
    await new Promise((r) => setTimeout(r, 20));
    reason = check();
  }
}

export function isVp8KeyFrame(payload: Buffer): boolean {
  const b0 = payload[0];
  if (b0 === undefined || (b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false;
  let i = 1;
  if ((b0 & 0x80) !== 0) {
    const x = payload[i++] ?? 0;
    if ((x & 0x80) !== 0) i += ((payload[i] ?? 0) & 0x80) !== 0 ? 2 : 1;
    if ((x & 0x40) !== 0) i++;
    if ((x & 0x30) !== 0) i++;
  }
  const h = payload[i];
  return h !== undefined && (h & 0x01) === 0 && payload[i + 3] === 0x9d && payload[i + 4] === 0x01 && payload[i + 5] === 0x2a;
}

function sdpCandidateLines(t: IceUdpTransport): string[] {
  return t.candidates.map(
    (c) => `a=candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type}` +
      (c.relAddr !== undefined ? ` raddr ${c.relAddr} rport ${c.relPort ?? 0}` : '') + ` generation ${c.generation ?? 0}`,
  );
}

/** Codecs this stand-in handles (what werift is shown of the offer). */
function usablePayloadTypes(d: RtpDescription): PayloadType[] {
  const main = d.payloadTypes.filter((p) => /^(opus|vp8)$/i.test(p.name));
  const mainIds = new Set(main.map((p) => String(p.id)));
  const rtx = d.payloadTypes.filter((p) => /^rtx$/i.test(p.name) && p.parameters.some((x) => x.name === 'apt' && mainIds.has(x.value)));
  return [...main, ...rtx];
}

/** The SDP LJM derives from a JVB session-initiate (PROTOCOL §4.11), audio and video only. */
export function jingleToSdp(j: Jingle, remote: readonly Source[]): string {
  const media = j.contents.filter((c) => c.description !== undefined && (c.description.media === 'audio' || c.description.media === 'video'));
  const lines = ['v=0', `o=- ${Date.now()} 2 IN IP4 0.0.0.0`, 's=-', 't=0 0', `a=group:BUNDLE ${media.map((c) => c.name).join(' ')}`, 'a=msid-semantic: WMS *'];
  for (const c of media) {
    const d = c.description as RtpDescription;
    const t = c.transport;
    const fp = t?.fingerprints[0];
    if (t === undefined || fp === undefined || t.ufrag === undefined || t.pwd === undefined) throw new Error(`content ${c.name} has no usable transport`);
    const pts = usablePayloadTypes(d);
    lines.push(
      `m=${d.media} 9 UDP/TLS/RTP/SAVPF ${pts.map((p) => p.id).join(' ')}`,
      'c=IN IP4 0.0.0.0',
      'a=rtcp:9 IN IP4 0.0.0.0',
      `a=ice-ufrag:${t.ufrag}`,
      `a=ice-pwd:${t.pwd}`,
      `a=fingerprint:${fp.hash} ${fp.value}`,
      'a=setup:actpass',
      ...sdpCandidateLines(t),
      'a=end-of-candidates',
      `a=mid:${c.name}`,
      'a=sendrecv',
      'a=rtcp-mux',
    );
    for (const p of pts) {
      lines.push(`a=rtpmap:${p.id} ${p.name}/${p.clockrate ?? 90000}${p.channels !== undefined && p.channels > 1 ? `/${p.channels}` : ''}`);
      const fmtp = p.parameters.filter((x) => x.name !== undefined).map((x) => `${x.name}=${x.value}`);
      if (fmtp.length > 0) lines.push(`a=fmtp:${p.id} ${fmtp.join(';')}`);
      for (const fb of [...p.rtcpFbs, ...d.rtcpFbs]) lines.push(`a=rtcp-fb:${p.id} ${fb.type}${fb.subtype !== undefined ? ` ${fb.subtype}` : ''}`);
    }
    for (const x of d.rtpHdrExts) lines.push(`a=extmap:${x.id} ${x.uri}`);
    const kind = d.media === 'audio' ? 'audio' : 'video';
    const own = [...d.sources, ...remote.filter((s) => (s.name ?? '').includes(kind === 'audio' ? '-a' : '-v'))];
    const seen = new Set<number>();
    for (const s of own) {
      if (seen.has(s.ssrc)) continue;
      seen.add(s.ssrc);
      const owner = s.owner ?? 'jvb';
      lines.push(`a=ssrc:${s.ssrc} cname:${owner}`, `a=ssrc:${s.ssrc} msid:${s.msid ?? `${owner} ${s.name ?? owner}`}`);
    }
    for (const g of d.ssrcGroups) lines.push(`a=ssrc-group:${g.semantics} ${g.ssrcs.join(' ')}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Every source of a Jingle payload (standard `<source>` elements and compact JSON), with the content name. */
function sourcesOf(j: Jingle): Array<{ media: 'audio' | 'video'; source: Source }> {
  const contents: Content[] = [...j.contents, ...(j.jsonSources !== undefined ? expandJsonSources(j.jsonSources) : [])];
  const out: Array<{ media: 'audio' | 'video'; source: Source }> = [];
  for (const c of contents) {
    const media = c.description?.media ?? c.name;
    if (media !== 'audio' && media !== 'video') continue;
    for (const s of c.description?.sources ?? []) out.push({ media, source: s });
  }
  return out;
}

export class Participant {
  readonly client: TestClient;
  readonly opts: ParticipantOptions;
  readonly occupantJid: string;
  readonly focusOccupant: string;
  /** The offer, once received. */
  offer: Jingle | undefined;
  /** The focus's answer to our session-accept. */
  acceptResult: Element | undefined;
  /** Remote sources by owner endpoint id (offer + source-add − source-remove). */
  readonly remote = new Map<string, RemoteEndpointSources>();
  /** Jingle actions received from the focus, in order. */
  readonly jingleLog: Array<{ action: string; owners: string[] }> = [];
  /** Decrypted RTP received, by SSRC (packet counts). */
  readonly received = new Map<number, number>();
  /** What was received per SSRC: payload types, packets with the audio-level extension, VP8 key frames. */
  readonly details = new Map<number, { pts: Set<number>; withAudioLevel: number; vp8KeyFrames: number }>();
  /** When (performance.now()) the first packet of a VP8 key frame arrived, by SSRC. */
  readonly firstKeyFrameAt = new Map<number, number>();
  /** When (performance.now()) the XMPP connection was opened (set by {@link join}). */
  openedAt = 0;
  /** Things that went wrong outside an awaited call (reported by tests). */
  readonly problems: string[] = [];
  /** The colibri-ws bridge channel (undefined until opened). */
  channel: WebSocket | undefined;
  readonly channelMessages: Array<Record<string, unknown>> = [];
  pc: RTCPeerConnection | undefined;
  #dt: RTCDtlsTransport | undefined;
  #timers: NodeJS.Timeout[] = [];
  #left = false;
  #accepted: Promise<void> | undefined;
  #audioLevelId = 1;
  #audio = { seq: 1000, ts: 50_000 };
  #video = { seq: 2000, ts: 90_000, pic: 0x1234, tl0: 0, frames: 0 };
  sentPackets = 0;

  private constructor(client: TestClient, opts: ParticipantOptions) {
    this.client = client;
    this.opts = opts;
    this.occupantJid = `${opts.room}/${opts.nick}`;
    this.focusOccupant = `${opts.room}/focus`;
    // A second parser on the same socket: every stanza is seen once, in order, whoever else waits for it.
    const parser = new XmlStreamParser(
      'framed',
      { element: (el) => this.#onStanza(el), error: (err) => this.problems.push(`parse error: ${err.message}`) },
      { maxStanzaSize: 10_000_000 },
    );
    client.ws.on('message', (d) => parser.write(d.toString()));
  }

  /** Connects, asks the focus for the conference, joins the room (does not wait for the Jingle session). */
  static async join(opts: ParticipantOptions): Promise<Participant> {
    const openedAt = performance.now();
    const client = await TestClient.connect({ wsUrl: opts.wsUrl, domain: opts.domain });
    const p = new Participant(client, opts);
    p.openedAt = openedAt;
    const res = await client.iq(
      `<iq type="set" id="${client.nextId()}" to="${opts.focusDomain}"><conference xmlns="${NS_FOCUS}" room="${opts.room}" machine-uid="m-${opts.nick}"><property name="rtcstatsEnabled" value="false"/><property name="startAudioMuted" value="9"/><property name="startVideoMuted" value="9"/></conference></iq>`,
    );
    const conf = res.getChild('conference', NS_FOCUS);
    if (res.attrs.type !== 'result' || conf?.attrs.ready !== 'true') throw new Error(`conference IQ refused: ${res.toString()}`);
    const sourceInfo = JSON.stringify({ [`${opts.nick}-a0`]: { muted: false }, [`${opts.nick}-v0`]: { muted: false, videoType: 'camera' } });
    client.send(
      `<presence to="${p.occupantJid}"><x xmlns="${NS_MUC}"/><stats-id>stats-${opts.nick}</stats-id>` +
        `<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://jitsi.org/jitsi-meet" ver="cvjWXufsg4xT62Ec2mlATkFZ9lk="/>` +
        `<SourceInfo>${sourceInfo}</SourceInfo><nick xmlns="http://jabber.org/protocol/nick">${opts.nick}</nick>` +
        `<jitsi_participant_codecList>vp8,vp9,h264</jitsi_participant_codecList></presence>`,
    );
    await client.expect(
      (s) => s.name === 'presence' && s.attrs.from === p.occupantJid && s.attrs.type === undefined &&
        (s.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChildren('status') ?? []).some((st) => st.attrs.code === '110'),
    );
    return p;
  }

  get endpointId(): string {
    return this.opts.nick;
  }

  /** True once werift's ICE + DTLS are up. */
  connected(): boolean {
    return this.#dt?.state === 'connected';
  }

  /** Resolves once session-accept was answered `result` (rejects on error). */
  accepted(): Promise<void> {
    return this.#accepted ?? Promise.reject(new Error(`${this.opts.nick}: no session-initiate yet`));
  }

  /** Packets received on `ssrc` so far. */
  count(ssrc: number): number {
    return this.received.get(ssrc) ?? 0;
  }

  #onStanza(el: Element): void {
    // LJM drops a leaver's remote sources itself on MUC_MEMBER_LEFT (the focus sends no source-remove, §3.1, §3.3.3).
    if (el.name === 'presence' && el.attrs.type === 'unavailable') {
      const from = String(el.attrs.from ?? '');
      if (from.startsWith(`${this.opts.room}/`)) this.remote.delete(from.slice(this.opts.room.length + 1));
      return;
    }
    if (el.name !== 'iq') return;
    const from = el.attrs.from as string | undefined;
    const type = el.attrs.type as string | undefined;
    if (type !== 'get' && type !== 'set') return;
    const id = el.attrs.id as string;
    const disco = el.getChild('query', NS_DISCO_INFO);
    if (type === 'get' && disco !== undefined) {
      const node = disco.attrs.node !== undefined ? ` node="${String(disco.attrs.node)}"` : '';
      this.client.send(
        `<iq type="result" id="${id}" to="${from ?? ''}"><query xmlns="${NS_DISCO_INFO}"${node}>${LJM_FEATURES.map((f) => `<feature var="${f}"/>`).join('')}</query></iq>`,
      );
      return;
    }
    // Ack first (LJM acks Jingle before acting on it, §4.6 step 1), then act.
    this.client.send(`<iq type="result" id="${id}" to="${from ?? ''}"/>`);
    const jingleEl = el.getChild('jingle', NS_JINGLE);
    if (jingleEl === undefined) return;
    let j: Jingle;
    try {
      j = parseJingle(el);
    } catch (err) {
      this.problems.push(`unparseable Jingle from ${from ?? '?'}: ${(err as Error).message}`);
      return;
    }
    const srcs = sourcesOf(j);
    this.jingleLog.push({ action: j.action, owners: [...new Set(srcs.map((s) => s.source.owner ?? '?'))] });
    if (from !== this.focusOccupant) this.problems.push(`Jingle ${j.action} from ${from ?? '?'}, not ${this.focusOccupant}`);
    switch (j.action) {
      case 'session-initiate':
        this.offer = j;
        this.#addSources(srcs);
        if (this.opts.holdOffer !== true) this.answerOffer();
        break;
      case 'source-add':
        this.#addSources(srcs);
        break;
      case 'source-remove':
        for (const { media, source } of srcs) {
          const e = this.remote.get(source.owner ?? '?');
          e?.[media].delete(source.ssrc);
          if (e !== undefined && e.audio.size === 0 && e.video.size === 0) this.remote.delete(source.owner ?? '?');
        }
        break;
      case 'session-terminate':
        this.problems.push(`session-terminate received: ${j.reason?.condition ?? ''} ${j.reason?.text ?? ''}`);
        break;
      default:
        break;
    }
  }

  /** Answers the received offer with the normal session-accept (automatic unless `holdOffer`). */
  answerOffer(): Promise<void> {
    if (this.#accepted !== undefined) return this.#accepted;
    const offer = this.offer;
    if (offer === undefined) return Promise.reject(new Error(`${this.opts.nick}: no session-initiate yet`));
    this.#accepted = this.#answer(offer);
    this.#accepted.catch((err: Error) => this.problems.push(`session-initiate handling failed: ${err.message}`));
    return this.#accepted;
  }

  /** Sends an IQ (string XML with an `id`) and resolves with its result or error. */
  iq(stanza: string): Promise<Element> {
    return this.client.iq(stanza);
  }

  /**
   * Vanishes without leaving: stops media and the peer connection, and stops reading its XMPP WebSocket (so neither
   * WebSocket pings nor XEP-0199 pings are answered) with no unavailable presence and no close. With
   * `terminate: true` the TCP connection is also destroyed at once. {@link leave} cleans up afterwards.
   */
  async cut(opts: { terminate?: boolean } = {}): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.channel?.terminate();
    this.client.ws.pause();
    if (opts.terminate === true) this.client.ws.terminate();
    await this.pc?.close().catch(() => undefined);
  }

  #addSources(srcs: Array<{ media: 'audio' | 'video'; source: Source }>): void {
    for (const { media, source } of srcs) {
      const owner = source.owner ?? '?';
      if (owner === 'jvb') continue;
      let e = this.remote.get(owner);
      if (e === undefined) {
        e = { audio: new Set(), video: new Set() };
        this.remote.set(owner, e);
      }
      e[media].add(source.ssrc);
    }
  }

  async #answer(offer: Jingle): Promise<void> {
    const ws = offer.contents.find((c) => c.transport?.webSockets[0] !== undefined)?.transport?.webSockets[0]?.url;
    if (ws !== undefined) this.#openChannel(ws);
    const remoteSources = sourcesOf(offer).map((s) => s.source).filter((s) => s.owner !== undefined && s.owner !== 'jvb');
    const sdp = jingleToSdp(offer, remoteSources);
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1',
    });
    this.pc = pc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const local = pc.localDescription?.sdp ?? answer.sdp;
    const dt = pc.dtlsTransports[0];
    if (dt === undefined) throw new Error('werift has no DTLS transport');
    this.#dt = dt;
    dt.onRtp.subscribe((p) => {
      const ssrc = p.header.ssrc;
      this.received.set(ssrc, (this.received.get(ssrc) ?? 0) + 1);
      let d = this.details.get(ssrc);
      if (d === undefined) {
        d = { pts: new Set(), withAudioLevel: 0, vp8KeyFrames: 0 };
        this.details.set(ssrc, d);
      }
      d.pts.add(p.header.payloadType);
      if (p.header.extensions.some((x) => x.id === this.#audioLevelId && x.payload.length >= 1)) d.withAudioLevel++;
      if (isVp8KeyFrame(p.payload)) {
        d.vp8KeyFrames++;
        if (!this.firstKeyFrameAt.has(ssrc)) this.firstKeyFrameAt.set(ssrc, performance.now());
      }
    });
    const get = (name: string): string => {
      const m = new RegExp(`^a=${name}:(.+)$`, 'm').exec(local);
      if (m?.[1] === undefined) throw new Error(`werift answer has no a=${name}`);
      return m[1].trim();
    };
    const [hash, value] = get('fingerprint').split(' ');
    if (hash === undefined || value === undefined) throw new Error('bad fingerprint in werift answer');
    const transport: IceUdpTransport = {
      ufrag: get('ice-ufrag'),
      pwd: get('ice-pwd'),
      fingerprints: [{ hash, value, setup: 'active' }],
      candidates: [],
      rtcpMux: false,
      webSockets: [],
    };

    const { nick } = this.opts;
    const { audio, video, rtx } = this.opts.ssrcs;
    const contents: Content[] = [];
    for (const c of offer.contents) {
      const d = c.description;
      if (d === undefined || (d.media !== 'audio' && d.media !== 'video')) continue;
      const desc: RtpDescription = { ...emptyDescription(d.media), rtcpMux: true };
      desc.payloadTypes = usablePayloadTypes(d);
      desc.rtpHdrExts = d.rtpHdrExts.map((x): RtpHdrExt => ({ id: x.id, uri: x.uri }));
      if (d.media === 'audio') {
        this.#audioLevelId = d.rtpHdrExts.find((x) => x.uri === URI_AUDIO_LEVEL)?.id ?? this.#audioLevelId;
        desc.sources = [{ ssrc: audio, name: `${nick}-a0`, owner: nick, msid: `${nick}-audio-1-1 track-a-${nick}`, parameters: [] }];
      } else {
        const msid = `${nick}-video-1-1 track-v-${nick}`;
        desc.sources = [video, rtx].map((ssrc): Source => ({ ssrc, name: `${nick}-v0`, videoType: 'camera', owner: nick, msid, parameters: [] }));
        desc.ssrcGroups = [{ semantics: 'FID', ssrcs: [video, rtx] }];
      }
      contents.push({ name: c.name, creator: 'responder', senders: 'both', description: desc, transport });
    }
    const accept: Jingle = {
      action: 'session-accept',
      sid: offer.sid,
      ...(offer.initiator !== undefined ? { initiator: offer.initiator } : {}),
      responder: this.client.jid,
      group: { semantics: 'BUNDLE', contents: ['audio', 'video', 'data'] },
      contents,
    };
    const id = this.client.nextId();
    const res = await this.client.iq(`<iq type="set" id="${id}" to="${this.focusOccupant}">${serializeJingle(accept).toString()}</iq>`);
    this.acceptResult = res;
    if (res.attrs.type !== 'result') throw new Error(`session-accept refused: ${res.toString()}`);
    this.#startMedia();
  }

  #openChannel(url: string): void {
    const ws = new WebSocket(url);
    this.channel = ws;
    ws.on('message', (d) => {
      try {
        this.channelMessages.push(JSON.parse(String(d)) as Record<string, unknown>);
      } catch {
        this.problems.push('bridge channel sent non-JSON');
      }
    });
    ws.on('error', (err) => this.problems.push(`bridge channel error: ${err.message}`));
    ws.on('open', () => {
      // What LJM sends once the channel is open (§6.2).
      ws.send(JSON.stringify({ colibriClass: 'ReceiverVideoConstraints', lastN: -1, defaultConstraints: { maxHeight: 720 }, constraints: {} }));
    });
  }

  #send(buf: Buffer): void {
    const dt = this.#dt;
    if (dt === undefined || dt.state !== 'connected' || this.#left) return;
    const p = RtpPacket.deSerialize(buf);
    this.sentPackets++;
    dt.sendRtp(p.payload, p.header).catch(() => undefined);
  }

  #startMedia(): void {
    const audioPt = usablePayloadTypes(this.offer?.contents.find((c) => c.description?.media === 'audio')?.description ?? emptyDescription('audio')).find((p) => /opus/i.test(p.name))?.id ?? 111;
    const videoPt = usablePayloadTypes(this.offer?.contents.find((c) => c.description?.media === 'video')?.description ?? emptyDescription('video')).find((p) => /vp8/i.test(p.name))?.id ?? 100;
    const level = 0x80 | 20; // voice activity, -20 dBov
    this.#timers.push(
      setInterval(() => {
        const a = this.#audio;
        this.#send(rtpPacket({ pt: audioPt, seq: a.seq, ts: a.ts, ssrc: this.opts.ssrcs.audio, ext: [[this.#audioLevelId, [level]]], payload: [0xfc, 0xff, 0xfe, 0x01] }));
        a.seq = (a.seq + 1) & 0xffff;
        a.ts = (a.ts + 960) >>> 0;
      }, 20),
    );
    this.#timers.push(
      setInterval(() => {
        const v = this.#video;
        const key = v.frames % 30 === 0;
        v.frames++;
        v.tl0 = (v.tl0 + 1) & 0xff;
        const desc = [0x90, 0xe0, 0x80 | ((v.pic >> 8) & 0x7f), v.pic & 0xff, v.tl0, 0x00];
        // RFC 7741 payload descriptor (X, S, PID 0; I with 15-bit PictureID, L TL0PICIDX, T TID 0), then the VP8
        // payload header: key frame with start code and 640x360, or an inter frame.
        const body = key ? [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, 0xaa, 0xbb] : [0x11, 0x02, 0x00, 0xaa, 0xbb, 0xcc];
        this.#send(rtpPacket({ pt: videoPt, seq: v.seq, ts: v.ts, ssrc: this.opts.ssrcs.video, marker: true, payload: [...desc, ...body] }));
        v.seq = (v.seq + 1) & 0xffff;
        v.ts = (v.ts + 3000) >>> 0;
        v.pic = (v.pic + 1) & 0x7fff;
      }, 33),
    );
  }

  /** Leaves the room (unavailable presence), stops media, closes the peer connection, channel and socket. */
  async leave(): Promise<void> {
    if (this.#left) {
      if (this.client.ws.readyState !== WebSocket.CLOSED) this.client.ws.terminate();
      return;
    }
    this.#left = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    if (!this.client.closed) this.client.send(`<presence to="${this.occupantJid}" type="unavailable"/>`);
    this.channel?.terminate();
    await this.pc?.close().catch(() => undefined);
    this.client.close();
  }
}
