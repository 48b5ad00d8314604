/**
 * Jingle ⇄ SDP for the bridge (JVB) session, as lib-jitsi-meet does it. Pure: no DOM, no I/O (unit-tested in Node).
 *
 * - {@link RemoteDescription} turns the focus's session-initiate into the SDP offer the browser applies, and keeps
 *   it up to date with source-add / source-remove (PROTOCOL §4.11): one m-line per remote source ("explosion"), the
 *   bridge's placeholder sources (`jvb-a0`/`jvb-v0`, msid `mixedmslabel`) on the first, sendrecv, m-line of each
 *   media where the client sends its own media, every other m-line sendonly; all m-lines BUNDLEd on the bridge's
 *   ICE/DTLS transport. m-lines are never reordered or reused: a removed source's m-line is rejected (port 0).
 * - {@link answerToContents} turns the browser's answer into the session-accept / source-add contents (§4.6):
 *   codecs, header extensions, the client's ICE ufrag/pwd and DTLS fingerprint (`setup=active`), and the client's
 *   own sources with their names, msid and SSRC groups (no owner: the focus adds it).
 * - {@link addSimulcast} munges the answer's camera m-line to three SSRC-based VP8 simulcast layers with RTX, as
 *   LJM's `SdpSimulcast` does on Chrome (§7.1): `a=ssrc-group:SIM low mid high` plus one FID group per layer.
 *
 * References:
 * - /work/shared/PROTOCOL.md §4.4 (sources), §4.6 (session-accept), §4.7 (source-add/-remove), §4.11 (Jingle→SDP),
 *   §7.1 (simulcast as Chrome sends it)
 * - https://www.rfc-editor.org/rfc/rfc8829 (JSEP: m-line order, rejected m-sections §5.2.2), RFC 8843 (BUNDLE),
 *   RFC 5576 (`a=ssrc`, `a=ssrc-group`), RFC 4588 (RTX, FID), RFC 8830 (msid)
 */
import * as sdpTransform from 'sdp-transform';
import type {
  Candidate,
  Content,
  IceUdpTransport,
  Jingle,
  PayloadType,
  RtcpFb,
  RtpDescription,
  Source,
  SsrcGroup,
} from '@jitsi-one/focus';
import { expandJsonSources } from '@jitsi-one/focus';

export type MediaKind = 'audio' | 'video';

/** The owner of the bridge's placeholder (feedback) sources. */
export const BRIDGE_OWNER = 'jvb';

/** One remote source: a named audio or video source of one endpoint, with its SSRCs (primary first, then RTX). */
export interface RemoteSource {
  media: MediaKind;
  /** Source name `<endpoint>-<a|v><n>`. */
  name: string;
  /** Sending endpoint id (`jvb` for the bridge's placeholders). */
  owner: string;
  ssrcs: number[];
  /** Groups among {@link ssrcs} (one FID at most; SIM groups are dropped, see {@link remoteSourcesOf}). */
  groups: SsrcGroup[];
  /** `<stream-id> <track-id>`. */
  msid?: string;
  /** `camera` / `desktop` (video). */
  videoType?: string;
}

/** Every audio/video source of a Jingle payload (standard `<source>` elements and the compact JSON form). */
export function remoteSourcesOf(j: Jingle): RemoteSource[] {
  const contents = [...j.contents, ...(j.jsonSources !== undefined ? expandJsonSources(j.jsonSources) : [])];
  const out: RemoteSource[] = [];
  for (const c of contents) {
    const d = c.description;
    if (d === undefined || !isMediaKind(d.media)) continue;
    out.push(...groupSources(d.media, d.sources, d.ssrcGroups));
  }
  return out;
}

export function isMediaKind(m: string): m is MediaKind {
  return m === 'audio' || m === 'video';
}

/**
 * Groups `<source>` elements by owner and name. Receivers are only ever sent one primary SSRC plus its RTX per
 * source (§4.4.2); should a SIM group arrive anyway, only its first SSRC and that SSRC's FID partner are kept.
 */
export function groupSources(media: MediaKind, sources: readonly Source[], groups: readonly SsrcGroup[]): RemoteSource[] {
  const byKey = new Map<string, RemoteSource>();
  for (const s of sources) {
    const owner = s.owner ?? '';
    const name = s.name ?? `${owner}-${media}-${s.ssrc}`;
    const key = `${owner}\u0000${name}`;
    let r = byKey.get(key);
    if (r === undefined) {
      r = { media, name, owner, ssrcs: [], groups: [] };
      if (s.msid !== undefined) r.msid = s.msid;
      if (s.videoType !== undefined) r.videoType = s.videoType;
      byKey.set(key, r);
    }
    if (!r.ssrcs.includes(s.ssrc)) r.ssrcs.push(s.ssrc);
  }
  for (const r of byKey.values()) {
    const sim = groups.find((g) => g.semantics === 'SIM' && g.ssrcs.some((x) => r.ssrcs.includes(x)));
    const primary = sim?.ssrcs[0];
    const fids = groups.filter((g) => g.semantics === 'FID' && g.ssrcs.length === 2 && g.ssrcs.every((x) => r.ssrcs.includes(x)));
    if (primary !== undefined) {
      const fid = fids.find((g) => g.ssrcs[0] === primary);
      r.ssrcs = fid !== undefined ? [...fid.ssrcs] : [primary];
      r.groups = fid !== undefined ? [{ semantics: 'FID', ssrcs: [...fid.ssrcs] }] : [];
      continue;
    }
    const fid = fids[0];
    if (fid !== undefined) {
      // Primary first, RTX second, and nothing else: one m-line carries one stream and its retransmissions.
      r.ssrcs = [...fid.ssrcs];
      r.groups = [{ semantics: 'FID', ssrcs: [...fid.ssrcs] }];
    } else {
      r.ssrcs = r.ssrcs.slice(0, 1);
    }
  }
  return [...byKey.values()].filter((r) => r.ssrcs.length > 0);
}

/** True for the bridge's placeholder sources, which anchor the sendrecv m-lines and carry no participant media. */
export function isPlaceholder(s: RemoteSource): boolean {
  return s.owner === BRIDGE_OWNER || (s.msid ?? '').startsWith('mixedmslabel');
}

interface MediaTemplate {
  description: RtpDescription;
  transport: IceUdpTransport;
}

/** One m-line of the remote description. */
interface Slot {
  mid: string;
  media: MediaKind;
  /** The first m-line of its media: sendrecv, carries the placeholder and the client's own media. */
  main: boolean;
  /** An extra m-line for a local source (a screen share): recvonly on the bridge's side (LJM `addMlineForNewSource`). */
  local?: boolean;
  source: RemoteSource | undefined;
  rejected: boolean;
}

/**
 * The remote (bridge) side of the JVB session as an SDP offer, built from the session-initiate and kept current
 * with source-add / source-remove. Mids are `0`, `1`, … in m-line order.
 */
export class RemoteDescription {
  readonly #templates = new Map<MediaKind, MediaTemplate>();
  readonly #slots: Slot[] = [];
  readonly #sessionId: string;
  #version = 1;

  /** @throws Error when the offer has no audio or video content with an ICE/DTLS transport. */
  constructor(offer: Jingle, sessionId = String(Date.now())) {
    this.#sessionId = sessionId;
    for (const c of offer.contents) {
      const d = c.description;
      const t = c.transport;
      if (d === undefined || t === undefined || (d.media !== 'audio' && d.media !== 'video')) continue;
      if (this.#templates.has(d.media)) continue;
      if (t.ufrag === undefined || t.pwd === undefined || t.fingerprints.length === 0) {
        throw new Error(`the ${d.media} content has no ICE credentials or DTLS fingerprint`);
      }
      this.#templates.set(d.media, { description: d, transport: t });
    }
    if (this.#templates.size === 0) throw new Error('the offer has no audio or video content');
    const sources = remoteSourcesOf(offer);
    for (const media of this.#templates.keys()) {
      const placeholder = sources.find((s) => s.media === media && isPlaceholder(s));
      this.#slots.push({ mid: String(this.#slots.length), media, main: true, source: placeholder, rejected: false });
    }
    this.add(sources.filter((s) => !isPlaceholder(s)));
    this.#version = 1; // the first offer; every later change bumps the o= line's version
  }

  /** The media kinds the bridge offered, in offer order. */
  get medias(): MediaKind[] {
    return [...this.#templates.keys()];
  }

  /** The mid of the sendrecv m-line of `media` (where the client's own media goes). */
  mainMid(media: MediaKind): string | undefined {
    return this.#slots.find((s) => s.main && s.media === media)?.mid;
  }

  /**
   * Adds an m-line for an extra local source of `media` (a screen share, `<ep>-v1`), as LJM's
   * `SDP.addMlineForNewSource` does: a copy of the media's template, recvonly from the bridge's side, so the browser's
   * answer sends on it. Returns its mid.
   */
  addLocalMid(media: MediaKind): string {
    const mid = String(this.#slots.length);
    this.#slots.push({ mid, media, main: false, local: true, source: undefined, rejected: false });
    this.#version++;
    return mid;
  }

  /** Rejects an m-line added by {@link addLocalMid} (the local source stopped; m-lines are never reused). */
  removeLocalMid(mid: string): void {
    const slot = this.#slots.find((s) => s.mid === mid && s.local === true && !s.rejected);
    if (slot === undefined) return;
    slot.rejected = true;
    this.#version++;
  }

  /** The remote participant source received on m-line `mid` (undefined for placeholders and unknown mids). */
  sourceOfMid(mid: string): RemoteSource | undefined {
    const slot = this.#slots.find((s) => s.mid === mid && !s.rejected && !s.main);
    return slot?.source;
  }

  /** The active remote participant sources. */
  get sources(): RemoteSource[] {
    return this.#slots.filter((s) => !s.main && !s.rejected && s.source !== undefined).map((s) => s.source as RemoteSource);
  }

  /**
   * Adds sources, each on a new sendonly m-line. A source already present with the same SSRCs is ignored; one
   * whose SSRCs changed replaces the old (whose m-line is rejected). Sources of media the bridge did not offer are
   * ignored. Returns the sources actually added.
   */
  add(sources: readonly RemoteSource[]): RemoteSource[] {
    const added: RemoteSource[] = [];
    for (const s of sources) {
      if (isPlaceholder(s) || !this.#templates.has(s.media)) continue;
      const existing = this.#active().find((slot) => sameSource(slot.source, s) || slot.source?.ssrcs.some((x) => s.ssrcs.includes(x)));
      if (existing !== undefined) {
        if (sameSsrcs(existing.source, s) && sameSource(existing.source, s)) continue;
        existing.rejected = true;
      }
      this.#slots.push({ mid: String(this.#slots.length), media: s.media, main: false, source: s, rejected: false });
      added.push(s);
    }
    if (added.length > 0) this.#version++;
    return added;
  }

  /** Removes sources, matched by owner and name, else by any common SSRC. Returns the sources removed. */
  remove(sources: readonly RemoteSource[]): RemoteSource[] {
    const removed: RemoteSource[] = [];
    for (const s of sources) {
      for (const slot of this.#active()) {
        if (slot.source === undefined) continue;
        if (sameSource(slot.source, s) || slot.source.ssrcs.some((x) => s.ssrcs.includes(x))) {
          slot.rejected = true;
          removed.push(slot.source);
        }
      }
    }
    if (removed.length > 0) this.#version++;
    return removed;
  }

  /** Removes every source of an endpoint (it left the room: LJM drops its sources itself, §3.3.3). */
  removeOwner(owner: string): RemoteSource[] {
    return this.remove(this.sources.filter((s) => s.owner === owner));
  }

  /** The SDP offer (PROTOCOL §4.11). */
  toSdp(): string {
    const active = this.#slots.filter((s) => !s.rejected);
    const lines = [
      'v=0',
      `o=- ${this.#sessionId} ${this.#version} IN IP4 0.0.0.0`,
      's=-',
      't=0 0',
      `a=group:BUNDLE ${active.map((s) => s.mid).join(' ')}`,
      'a=msid-semantic: WMS *',
    ];
    for (const slot of this.#slots) lines.push(...this.#mediaSection(slot));
    return `${lines.join('\r\n')}\r\n`;
  }

  #active(): Slot[] {
    return this.#slots.filter((s) => !s.main && !s.rejected);
  }

  #mediaSection(slot: Slot): string[] {
    const { description: d, transport: t } = this.#templates.get(slot.media) as MediaTemplate;
    const pts = d.payloadTypes;
    const out = [
      `m=${slot.media} ${slot.rejected ? 0 : 9} UDP/TLS/RTP/SAVPF ${pts.map((p) => p.id).join(' ')}`,
      'c=IN IP4 0.0.0.0',
      'a=rtcp:9 IN IP4 0.0.0.0',
      `a=ice-ufrag:${t.ufrag ?? ''}`,
      `a=ice-pwd:${t.pwd ?? ''}`,
    ];
    for (const fp of t.fingerprints) out.push(`a=fingerprint:${fp.hash} ${fp.value}`);
    out.push(`a=setup:${t.fingerprints[0]?.setup ?? 'actpass'}`);
    if (!slot.rejected) out.push(...t.candidates.map(candidateLine));
    out.push(`a=mid:${slot.mid}`);
    out.push(slot.rejected ? 'a=inactive' : slot.main ? 'a=sendrecv' : slot.local === true ? 'a=recvonly' : 'a=sendonly');
    const msid = slot.source?.msid;
    if (!slot.rejected && msid !== undefined) out.push(`a=msid:${msid}`);
    out.push('a=rtcp-mux');
    for (const p of pts) out.push(...payloadLines(p, d.rtcpFbs));
    for (const x of d.rtpHdrExts) out.push(`a=extmap:${x.id} ${x.uri}`);
    if (d.extmapAllowMixed) out.push('a=extmap-allow-mixed');
    const s = slot.source;
    if (!slot.rejected && s !== undefined) {
      for (const g of s.groups) out.push(`a=ssrc-group:${g.semantics} ${g.ssrcs.join(' ')}`);
      for (const ssrc of s.ssrcs) {
        out.push(`a=ssrc:${ssrc} cname:${s.owner}`);
        if (msid !== undefined) out.push(`a=ssrc:${ssrc} msid:${msid}`);
      }
    }
    return out;
  }
}

function sameSource(a: RemoteSource | undefined, b: RemoteSource): boolean {
  return a !== undefined && a.owner === b.owner && a.name === b.name && a.media === b.media;
}

function sameSsrcs(a: RemoteSource | undefined, b: RemoteSource): boolean {
  return a !== undefined && a.ssrcs.length === b.ssrcs.length && a.ssrcs.every((x, i) => b.ssrcs[i] === x);
}

/** An `a=candidate:` line from a Jingle candidate (LJM `SDPUtil.candidateFromJingle`). */
export function candidateLine(c: Candidate): string {
  let line = `a=candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.ip} ${c.port} typ ${c.type}`;
  if (c.relAddr !== undefined) line += ` raddr ${c.relAddr} rport ${c.relPort ?? 0}`;
  if (c.tcptype !== undefined) line += ` tcptype ${c.tcptype}`;
  return `${line} generation ${c.generation ?? 0}`;
}

/** rtpmap, fmtp and rtcp-fb lines of one payload type (description-level feedback folded into each). */
export function payloadLines(p: PayloadType, descriptionFbs: readonly RtcpFb[]): string[] {
  const channels = p.channels !== undefined && p.channels > 1 ? `/${p.channels}` : '';
  const out = [`a=rtpmap:${p.id} ${p.name}/${p.clockrate ?? 90000}${channels}`];
  const fmtp = p.parameters.map((x) => (x.name !== undefined && x.name !== '' ? `${x.name}=${x.value}` : x.value));
  if (fmtp.length > 0) out.push(`a=fmtp:${p.id} ${fmtp.join(';')}`);
  for (const fb of [...p.rtcpFbs, ...descriptionFbs]) out.push(`a=rtcp-fb:${p.id} ${fb.type}${fb.subtype !== undefined ? ` ${fb.subtype}` : ''}`);
  return out;
}

// -------------------------------------------------------------------------------------------------------------
// The local answer

/** The name and video type the client gives to what it sends on an m-line. */
export interface LocalSourceName {
  name: string;
  videoType?: string;
}

type SdpMedia = sdpTransform.MediaDescription;

/**
 * The contents of a session-accept (or the sources of a source-add) from the browser's local answer: one `audio`
 * and one `video` content (PROTOCOL §4.6: "all m-lines of one media type are merged into one content"), each with the
 * codecs and header extensions of its first m-line, the client's transport, and the sources sent on the m-lines
 * named in `names` (by mid).
 */
export function answerToContents(sdp: string, names: ReadonlyMap<string, LocalSourceName>): Content[] {
  const session = sdpTransform.parse(sdp);
  const contents: Content[] = [];
  for (const media of ['audio', 'video'] as const) {
    const lines = session.media.filter((m) => m.type === media && m.port !== 0);
    const first = lines[0];
    if (first === undefined) continue;
    const description: RtpDescription = {
      media,
      payloadTypes: payloadTypesOf(first),
      rtcpFbs: [],
      rtpHdrExts: (first.ext ?? []).map((x) => ({ id: x.value, uri: x.uri })),
      extmapAllowMixed: first.extmapAllowMixed !== undefined || session.extmapAllowMixed !== undefined,
      rtcpMux: first.rtcpMux !== undefined,
      sources: [],
      ssrcGroups: [],
    };
    for (const m of lines) {
      const local = names.get(String(m.mid ?? ''));
      if (local === undefined || (m.direction !== 'sendrecv' && m.direction !== 'sendonly')) continue;
      const src = sendingSources(m, local);
      description.sources.push(...src.sources);
      description.ssrcGroups.push(...src.groups);
    }
    contents.push({ name: media, creator: 'responder', senders: 'both', description, transport: transportOf(session, first) });
  }
  return contents;
}

/** The payload types of an m-line, with their fmtp parameters and rtcp-fb (`*` feedback folded in). */
export function payloadTypesOf(m: SdpMedia): PayloadType[] {
  return m.rtp.map((r): PayloadType => {
    const p: PayloadType = { id: r.payload, name: r.codec, clockrate: r.rate ?? 90000, parameters: [], rtcpFbs: [] };
    const channels = Number(r.encoding);
    if (Number.isInteger(channels) && channels > 1) p.channels = channels;
    for (const f of m.fmtp.filter((x) => x.payload === r.payload)) {
      for (const kv of f.config.split(';')) {
        const i = kv.indexOf('=');
        if (kv.trim() === '') continue;
        p.parameters.push(i < 0 ? { value: kv.trim() } : { name: kv.slice(0, i).trim(), value: kv.slice(i + 1).trim() });
      }
    }
    for (const fb of (m.rtcpFb ?? []).filter((x) => String(x.payload) === String(r.payload) || x.payload === '*')) {
      p.rtcpFbs.push(fb.subtype !== undefined ? { type: fb.type, subtype: fb.subtype } : { type: fb.type });
    }
    return p;
  });
}

/** ICE credentials, DTLS fingerprint and setup role, and candidates of an m-line (media or session level). */
export function transportOf(session: sdpTransform.SessionDescription, m: SdpMedia): IceUdpTransport {
  const fp = m.fingerprint ?? session.fingerprint;
  const setup = m.setup ?? session.setup;
  return {
    ufrag: m.iceUfrag ?? session.iceUfrag,
    pwd: m.icePwd ?? session.icePwd,
    fingerprints: fp === undefined ? [] : [{ hash: fp.type, value: fp.hash, ...(isSetup(setup) ? { setup } : {}) }],
    candidates: (m.candidates ?? []).map((c, i): Candidate => {
      const out: Candidate = {
        foundation: String(c.foundation),
        component: c.component,
        protocol: c.transport.toLowerCase(),
        priority: c.priority,
        ip: c.ip,
        port: c.port,
        type: c.type,
        generation: c.generation ?? 0,
        id: `c${i}`,
      };
      if (c.raddr !== undefined) out.relAddr = c.raddr;
      if (c.rport !== undefined) out.relPort = c.rport;
      if (c.tcptype !== undefined) out.tcptype = c.tcptype;
      return out;
    }),
    rtcpMux: false,
    webSockets: [],
  };
}

function isSetup(s: string | undefined): s is 'active' | 'passive' | 'actpass' | 'holdconn' {
  return s === 'active' || s === 'passive' || s === 'actpass' || s === 'holdconn';
}

/** The sources (SSRCs with name, msid, videoType) and SSRC groups an m-line sends. */
export function sendingSources(m: SdpMedia, local: LocalSourceName): { sources: Source[]; groups: SsrcGroup[] } {
  const ssrcIds: number[] = [];
  const msids = new Map<number, string>();
  for (const a of m.ssrcs ?? []) {
    const id = Number(a.id);
    if (!ssrcIds.includes(id)) ssrcIds.push(id);
    if (a.attribute === 'msid' && a.value !== undefined) msids.set(id, a.value);
  }
  const firstMsid = m.msid?.[0];
  const mediaMsid = firstMsid === undefined ? undefined : firstMsid.appdata !== undefined ? `${firstMsid.id} ${firstMsid.appdata}` : firstMsid.id;
  const sources = ssrcIds.map((ssrc): Source => {
    const s: Source = { ssrc, name: local.name, parameters: [] };
    const msid = msids.get(ssrc) ?? mediaMsid;
    if (msid !== undefined) s.msid = msid;
    if (m.type === 'video') s.videoType = local.videoType ?? 'camera';
    return s;
  });
  const groups = (m.ssrcGroups ?? []).map((g): SsrcGroup => ({ semantics: g.semantics, ssrcs: g.ssrcs.split(' ').map(Number) }));
  return { sources, groups };
}

// -------------------------------------------------------------------------------------------------------------
// Simulcast

/** The SSRCs of the three simulcast layers, low → high, and their RTX partners (same order; empty without RTX). */
export interface SimulcastSsrcs {
  primaries: number[];
  rtx: number[];
}

/** Number of VP8 simulcast layers a camera is sent as (LJM: ÷4, ÷2, ÷1). */
export const SIMULCAST_LAYERS = 3;

/**
 * Adds SSRC-based simulcast to the m-line `mid` of a local description, as LJM's `SdpSimulcast` does for Chrome
 * (PROTOCOL §7.1): the SSRC the browser chose becomes the lowest layer; two more (and their RTX SSRCs, when RTX was
 * negotiated) are added with the same cname and msid; `a=ssrc-group:SIM` lists the layers low → high and one
 * `a=ssrc-group:FID` pairs each layer with its RTX. An m-line that already has a SIM group, or sends nothing, is left
 * alone. Pass the `previous` result on renegotiation so the layers keep their SSRCs.
 */
export function addSimulcast(
  sdp: string,
  mid: string,
  previous: SimulcastSsrcs | undefined,
  random: () => number = randomSsrc,
): { sdp: string; simulcast: SimulcastSsrcs | undefined } {
  const session = sdpTransform.parse(sdp);
  const m = session.media.find((x) => String(x.mid) === mid);
  if (m === undefined || m.ssrcs === undefined || m.ssrcs.length === 0) return { sdp, simulcast: undefined };
  const groups = (m.ssrcGroups ?? []).map((g) => ({ semantics: g.semantics, ssrcs: g.ssrcs.split(' ').map(Number) }));
  const existing = groups.find((g) => g.semantics === 'SIM');
  const fidOf = (p: number): number | undefined => groups.find((g) => g.semantics === 'FID' && g.ssrcs[0] === p)?.ssrcs[1];
  if (existing !== undefined) {
    const rtx = existing.ssrcs.map(fidOf).filter((x): x is number => x !== undefined);
    return { sdp, simulcast: { primaries: existing.ssrcs, rtx: rtx.length === existing.ssrcs.length ? rtx : [] } };
  }
  const secondaries = new Set(groups.filter((g) => g.semantics === 'FID').map((g) => g.ssrcs[1]));
  const primary = m.ssrcs.map((a) => Number(a.id)).find((id) => !secondaries.has(id));
  if (primary === undefined) return { sdp, simulcast: undefined };
  const rtx0 = fidOf(primary);
  const attrs = m.ssrcs.filter((a) => Number(a.id) === primary && (a.attribute === 'cname' || a.attribute === 'msid'));

  let layers: SimulcastSsrcs;
  if (previous !== undefined && previous.primaries[0] === primary && (rtx0 === undefined || previous.rtx[0] === rtx0)) {
    layers = previous;
  } else {
    const used = new Set<number>(m.ssrcs.map((a) => Number(a.id)));
    const fresh = (): number => {
      let x = random();
      while (used.has(x) || x === 0) x = random();
      used.add(x);
      return x;
    };
    const primaries = [primary];
    const rtx = rtx0 === undefined ? [] : [rtx0];
    for (let i = 1; i < SIMULCAST_LAYERS; i++) {
      primaries.push(fresh());
      if (rtx0 !== undefined) rtx.push(fresh());
    }
    layers = { primaries, rtx };
  }

  const ssrcLines: sdpTransform.MediaDescription['ssrcs'] = [];
  const newGroups: Array<{ semantics: string; ssrcs: string }> = [{ semantics: 'SIM', ssrcs: layers.primaries.join(' ') }];
  layers.primaries.forEach((p, i) => {
    for (const a of attrs) ssrcLines.push({ id: p, attribute: a.attribute, ...(a.value !== undefined ? { value: a.value } : {}) });
    const r = layers.rtx[i];
    if (r !== undefined) {
      for (const a of attrs) ssrcLines.push({ id: r, attribute: a.attribute, ...(a.value !== undefined ? { value: a.value } : {}) });
      newGroups.push({ semantics: 'FID', ssrcs: `${p} ${r}` });
    }
  });
  m.ssrcs = ssrcLines;
  m.ssrcGroups = newGroups;
  return { sdp: sdpTransform.write(session), simulcast: layers };
}

function randomSsrc(): number {
  const a = new Uint32Array(1);
  crypto.getRandomValues(a);
  return a[0] ?? 1;
}

// -------------------------------------------------------------------------------------------------------------
// Local source changes

/** What changed between two sets of local contents: sources to announce (source-add) and to withdraw. */
export interface LocalSourceDiff {
  added: Content[];
  removed: Content[];
}

/**
 * Compares the client's sources in two answers (by name and SSRC set): a new or changed source goes to `added`
 * (with its groups), a vanished or changed one to `removed`. Empty contents are left out.
 */
export function diffLocalSources(before: readonly Content[], after: readonly Content[]): LocalSourceDiff {
  const index = (contents: readonly Content[]): Map<string, { media: MediaKind; sources: Source[]; groups: SsrcGroup[] }> => {
    const out = new Map<string, { media: MediaKind; sources: Source[]; groups: SsrcGroup[] }>();
    for (const c of contents) {
      const d = c.description;
      if (d === undefined || (d.media !== 'audio' && d.media !== 'video')) continue;
      for (const s of d.sources) {
        const key = s.name ?? String(s.ssrc);
        let e = out.get(key);
        if (e === undefined) {
          e = { media: d.media, sources: [], groups: [] };
          out.set(key, e);
        }
        e.sources.push(s);
      }
      for (const [, e] of out) {
        if (e.media !== d.media) continue;
        const ssrcs = new Set(e.sources.map((s) => s.ssrc));
        e.groups = d.ssrcGroups.filter((g) => g.ssrcs.every((x) => ssrcs.has(x)));
      }
    }
    return out;
  };
  const a = index(before);
  const b = index(after);
  const same = (x: Source[], y: Source[]): boolean => x.length === y.length && x.every((s) => y.some((t) => t.ssrc === s.ssrc));
  const added: Array<{ media: MediaKind; sources: Source[]; groups: SsrcGroup[] }> = [];
  const removed: Array<{ media: MediaKind; sources: Source[]; groups: SsrcGroup[] }> = [];
  for (const [name, e] of b) {
    const old = a.get(name);
    if (old === undefined) added.push(e);
    else if (!same(old.sources, e.sources)) {
      removed.push(old);
      added.push(e);
    }
  }
  for (const [name, e] of a) if (!b.has(name)) removed.push(e);
  return { added: toContents(added), removed: toContents(removed) };
}

function toContents(entries: ReadonlyArray<{ media: MediaKind; sources: Source[]; groups: SsrcGroup[] }>): Content[] {
  const out: Content[] = [];
  for (const media of ['audio', 'video'] as const) {
    const mine = entries.filter((e) => e.media === media);
    if (mine.length === 0) continue;
    const description: RtpDescription = {
      media,
      payloadTypes: [],
      rtcpFbs: [],
      rtpHdrExts: [],
      extmapAllowMixed: false,
      rtcpMux: false,
      sources: mine.flatMap((e) => e.sources),
      ssrcGroups: mine.flatMap((e) => e.groups),
    };
    out.push({ name: media, description });
  }
  return out;
}
