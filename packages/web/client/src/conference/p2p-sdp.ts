/**
 * Jingle ⇄ SDP for the direct (P2P) session between two clients, exactly as lib-jitsi-meet's `SDP.ts` does it with
 * `isP2P` (PROTOCOL §8), so that our client and LJM can be each other's peer. Pure: no DOM, no I/O.
 *
 * Unlike the bridge session (sdp.ts), a P2P description is the browser's own, one content per m-line:
 *
 * - content `name` is the m-line's **mid** (`0`, `1`, …; LJM declines offers whose first content is not `0`/`1`),
 *   `creator` is `initiator` or `responder` (who writes it), and the BUNDLE `<group>` lists the mids;
 * - content `senders` carries the SDP direction **literally**, as LJM maps it both ways: `sendrecv` ⇄ `both`,
 *   `sendonly` ⇄ `initiator`, `recvonly` ⇄ `responder`, `inactive` ⇄ `none` (whoever wrote it), and a port-0 m-line
 *   is `rejected`. So the receiver rebuilds the sender's own direction, which is what a remote description needs;
 * - each description lists the payload types with their rtcp-fb, header extensions, `rtcp-mux`, and the sources
 *   the m-line sends: `<source ssrc name videoType>` with only an `msid` parameter, and the FID group. There is no
 *   `ssrc-info owner`: the owner of every remote source is the peer (the `from` of its IQs). No simulcast in P2P;
 * - each transport carries ICE ufrag/pwd, the DTLS fingerprint with its `setup` and the candidates gathered so far;
 *   later candidates trickle in `transport-info` (see {@link candidateFromLine}).
 *
 * {@link P2pRemoteDescription} keeps the peer's side as the SDP this browser applies, and changes it with the
 * peer's source-add / source-remove as LJM's `SDP.updateRemoteSources` does for P2P: a new source goes on the first
 * m-line of its media that sends nothing yet, else on a new m-line appended at the end (both peers append, so mids
 * agree). LJM renegotiates P2P by applying the remote description as an **offer** and answering it, whichever side
 * initiated the session; the P2P session does the same.
 *
 * References:
 * - /work/shared/PROTOCOL.md §8 (P2P), §4.4.1 (source attributes); LJM `modules/sdp/SDP.ts` (`toJingle`,
 *   `fromJingle`, `jingle2media`, `updateRemoteSources`), `SDPUtil.candidateToJingle` / `candidateFromJingle`,
 *   `SDPDiffer.toJingle`
 * - https://www.rfc-editor.org/rfc/rfc8829 (JSEP), RFC 8843 (BUNDLE), RFC 8839 (ICE candidate grammar, §5.1)
 * - https://xmpp.org/extensions/xep-0166.html, XEP-0167, XEP-0176 (ICE-UDP), XEP-0320 (DTLS), XEP-0338, XEP-0339
 */
import * as sdpTransform from 'sdp-transform';
import type {
  Candidate,
  Content,
  ContentCreator,
  ContentGroup,
  ContentSenders,
  IceUdpTransport,
  RtpDescription,
  Source,
} from '@jitsi-one/focus';
import {
  type LocalSourceName,
  type MediaKind,
  type RemoteSource,
  candidateLine,
  groupSources,
  isMediaKind,
  payloadLines,
  payloadTypesOf,
  sendingSources,
  transportOf,
} from './sdp.js';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** LJM's `senders` for an SDP direction (literal, see the module comment). */
export function sendersOf(direction: Direction): ContentSenders {
  switch (direction) {
    case 'sendrecv':
      return 'both';
    case 'sendonly':
      return 'initiator';
    case 'recvonly':
      return 'responder';
    case 'inactive':
      return 'none';
  }
}

/** The SDP direction LJM writes for a content's `senders` (`jingle2media`); undefined when absent or rejected. */
export function directionOf(senders: ContentSenders | undefined): Direction | undefined {
  switch (senders) {
    case 'both':
      return 'sendrecv';
    case 'initiator':
      return 'sendonly';
    case 'responder':
      return 'recvonly';
    case 'none':
      return 'inactive';
    default:
      return undefined;
  }
}

// -------------------------------------------------------------------------------------------------------------
// The local description → Jingle

/** The contents and BUNDLE group of a P2P session-initiate or session-accept. */
export interface P2pJingleContents {
  contents: Content[];
  group: ContentGroup | undefined;
}

/**
 * The P2P contents of a local description (LJM `SDP.toJingle` with `isP2P`): one content per m-line, named by its
 * mid; the sources of the m-lines named in `names` (by mid). Data (SCTP) m-lines are left out: the P2P connection
 * carries no data channel.
 */
export function localP2pContents(sdp: string, creator: ContentCreator, names: ReadonlyMap<string, LocalSourceName>): P2pJingleContents {
  const session = sdpTransform.parse(sdp);
  const contents: Content[] = [];
  for (const m of session.media) {
    if (!isMediaKind(m.type) || m.mid === undefined) continue;
    const mid = String(m.mid);
    const description: RtpDescription = {
      media: m.type,
      payloadTypes: payloadTypesOf(m),
      rtcpFbs: [],
      rtpHdrExts: (m.ext ?? []).map((x) => ({ id: x.value, uri: x.uri })),
      extmapAllowMixed: m.extmapAllowMixed !== undefined || session.extmapAllowMixed !== undefined,
      rtcpMux: m.rtcpMux !== undefined,
      sources: [],
      ssrcGroups: [],
    };
    const local = names.get(mid);
    if (local !== undefined && (m.ssrcs?.length ?? 0) > 0) {
      const sent = sendingSources(m, local);
      description.sources = sent.sources;
      description.ssrcGroups = sent.groups;
    }
    const direction = (m.direction ?? 'sendrecv') as Direction;
    contents.push({
      name: mid,
      creator,
      senders: m.port === 0 ? 'rejected' : sendersOf(direction),
      description,
      transport: transportOf(session, m),
    });
  }
  const bundle = (session.groups ?? []).find((g) => g.type === 'BUNDLE');
  // LJM lists every m-line's mid in the P2P group (its BUNDLE line lists them all: max-bundle).
  const group = bundle === undefined ? undefined : { semantics: 'BUNDLE', contents: contents.map((c) => c.name) };
  return { contents, group };
}

/**
 * Local source changes between two P2P descriptions (LJM `notifyMySSRCUpdate` / `SDPDiffer` with `isP2P`): per mid,
 * the sources whose SSRCs appeared (`added`) or disappeared (`removed`), as source-add / source-remove contents
 * named by mid. Descriptions carry only sources and groups.
 */
export function diffP2pSources(before: readonly Content[], after: readonly Content[]): { added: Content[]; removed: Content[] } {
  const minus = (a: readonly Content[], b: readonly Content[]): Content[] => {
    const out: Content[] = [];
    for (const c of a) {
      const d = c.description;
      if (d === undefined) continue;
      const other = new Set(b.find((x) => x.name === c.name)?.description?.sources.map((s) => s.ssrc) ?? []);
      const sources = d.sources.filter((s) => !other.has(s.ssrc));
      if (sources.length === 0) continue;
      const ssrcs = new Set(sources.map((s) => s.ssrc));
      const ssrcGroups = d.ssrcGroups.filter((g) => g.ssrcs.every((x) => ssrcs.has(x)));
      out.push({ name: c.name, description: { ...emptyRtp(d.media), sources, ssrcGroups } });
    }
    return out;
  };
  return { added: minus(after, before), removed: minus(before, after) };
}

function emptyRtp(media: RtpDescription['media']): RtpDescription {
  return { media, payloadTypes: [], rtcpFbs: [], rtpHdrExts: [], extmapAllowMixed: false, rtcpMux: false, sources: [], ssrcGroups: [] };
}

// -------------------------------------------------------------------------------------------------------------
// Candidates

/**
 * A Jingle candidate from an ICE candidate attribute (`candidate:…`, with or without `a=`), as LJM's
 * `SDPUtil.candidateToJingle` makes it: foundation, component, protocol (lower case), priority, ip, port, type,
 * rel-addr/rel-port, tcptype, generation (0 unless given), network 1 and a random id. Undefined if it is not one.
 */
export function candidateFromLine(line: string, random: () => number = Math.random): Candidate | undefined {
  const text = line.replace(/^a=/, '').replace(/\r?\n$/, '').trim();
  if (!text.startsWith('candidate:')) return undefined;
  const f = text.slice('candidate:'.length).split(/\s+/);
  if (f.length < 8 || f[6] !== 'typ') return undefined;
  const [foundation, component, protocol, priority, ip, port, , type] = f as [string, string, string, string, string, string, string, string];
  const c: Candidate = {
    foundation,
    component: Number(component),
    protocol: protocol.toLowerCase(),
    priority: Number(priority),
    ip,
    port: Number(port),
    type,
    generation: 0,
    network: 1,
    id: random().toString(36).slice(2, 12),
  };
  if (!Number.isInteger(c.component) || !Number.isInteger(c.priority) || !Number.isInteger(c.port)) return undefined;
  for (let i = 8; i + 1 < f.length; i += 2) {
    const v = f[i + 1] as string;
    switch (f[i]) {
      case 'raddr':
        c.relAddr = v;
        break;
      case 'rport':
        c.relPort = Number(v);
        break;
      case 'generation':
        c.generation = Number(v);
        break;
      case 'tcptype':
        c.tcptype = v;
        break;
      default:
        break; // ufrag, network-id, network-cost: not carried in Jingle (LJM drops them too)
    }
  }
  return c;
}

/** The ICE candidate attribute (`candidate:…`, no `a=`) for `RTCPeerConnection.addIceCandidate`. */
export function candidateAttribute(c: Candidate): string {
  return candidateLine(c).slice(2);
}

// -------------------------------------------------------------------------------------------------------------
// The peer's description

interface Section {
  mid: string;
  media: MediaKind;
  description: RtpDescription;
  transport: IceUdpTransport;
  direction: Direction;
  rejected: boolean;
}

/**
 * The peer's side of a P2P session as the SDP this browser applies (LJM `SDP.fromJingle` with `isP2P`): one m-line
 * per content in content order, mids from the content names, the BUNDLE group from the Jingle `<group>`.
 */
export class P2pRemoteDescription {
  readonly #owner: string;
  readonly #sessionId: string;
  readonly #sections: Section[] = [];
  #group: string[];
  #version = 2;

  /**
   * @param contents the peer's session-initiate or session-accept contents
   * @param owner the peer's endpoint id (owner of every source it sends)
   * @throws Error when no audio/video content has ICE credentials and a DTLS fingerprint
   */
  constructor(contents: readonly Content[], group: ContentGroup | undefined, owner: string, sessionId = String(Date.now())) {
    this.#owner = owner;
    this.#sessionId = sessionId;
    for (const c of contents) {
      const d = c.description;
      const t = c.transport;
      if (d === undefined || !isMediaKind(d.media)) continue;
      if (t === undefined || t.ufrag === undefined || t.pwd === undefined || t.fingerprints.length === 0) {
        throw new Error(`content ${c.name} has no ICE credentials or DTLS fingerprint`);
      }
      this.#sections.push({
        mid: c.name,
        media: d.media,
        description: structuredClone(d),
        transport: structuredClone(t),
        direction: directionOf(c.senders) ?? 'sendrecv',
        rejected: c.senders === 'rejected',
      });
    }
    if (this.#sections.length === 0) throw new Error('no audio or video content');
    const mids = this.#sections.map((s) => s.mid);
    this.#group = group?.semantics === 'BUNDLE' ? group.contents.filter((m) => mids.includes(m)) : mids;
  }

  /** The mids, in m-line order. */
  get mids(): string[] {
    return this.#sections.map((s) => s.mid);
  }

  /** The media of m-line `mid`. */
  mediaOf(mid: string): MediaKind | undefined {
    return this.#sections.find((s) => s.mid === mid)?.media;
  }

  /** The peer's source sent on m-line `mid` (its first named source, with RTX), if any. */
  sourceOfMid(mid: string): RemoteSource | undefined {
    const s = this.#sections.find((x) => x.mid === mid);
    if (s === undefined || s.rejected || s.description.sources.length === 0) return undefined;
    const owned = s.description.sources.map((src) => ({ ...src, owner: this.#owner }));
    return groupSources(s.media, owned, s.description.ssrcGroups)[0];
  }

  /** Every source the peer sends, by mid. */
  get sources(): Map<string, RemoteSource> {
    const out = new Map<string, RemoteSource>();
    for (const s of this.#sections) {
      const src = this.sourceOfMid(s.mid);
      if (src !== undefined) out.set(s.mid, src);
    }
    return out;
  }

  /**
   * Applies the peer's source-add (LJM `updateRemoteSources` for P2P): each content's sources go on the m-line its
   * name names when that one sends nothing yet, else on the first m-line of its media without sources, else on a
   * new m-line appended with the next mid (its codecs copied from the first m-line of that media, `sendonly`). An
   * existing m-line that was `recvonly`/`inactive` becomes `sendrecv` when we send that media, else `sendonly`
   * (LJM `getDesiredMediaDirection`). Returns the mids changed.
   */
  addSources(contents: readonly Content[], weSend: (media: MediaKind) => boolean): string[] {
    const changed: string[] = [];
    for (const c of contents) {
      const d = c.description;
      if (d === undefined || !isMediaKind(d.media) || d.sources.length === 0) continue;
      const media = d.media;
      const known = new Set(this.#sections.flatMap((s) => s.description.sources.map((x) => x.ssrc)));
      const sources = d.sources.filter((s) => !known.has(s.ssrc));
      if (sources.length === 0) continue;
      const free = (s: Section): boolean => s.media === media && !s.rejected && s.description.sources.length === 0;
      let section = this.#sections.find((s) => s.mid === c.name && free(s)) ?? this.#sections.find(free);
      if (section === undefined) {
        if (!this.#sections.some((s) => s.media === media)) continue;
        const mid = /^\d+$/.test(c.name) && !this.mids.includes(c.name) ? c.name : String(this.#sections.length);
        section = this.#append(mid, media, 'sendonly');
      } else if (section.direction === 'recvonly' || section.direction === 'inactive') {
        section.direction = weSend(media) ? 'sendrecv' : 'sendonly';
      }
      section.description.sources.push(...sources.map((s) => structuredClone(s)));
      const ssrcs = new Set(section.description.sources.map((s) => s.ssrc));
      section.description.ssrcGroups.push(...d.ssrcGroups.filter((g) => g.ssrcs.every((x) => ssrcs.has(x))));
      changed.push(section.mid);
    }
    if (changed.length > 0) this.#version++;
    return changed;
  }

  /**
   * An m-line on which the peer is to receive a new source of ours (a screen share), as LJM's
   * `addMlineForNewSource` adds it for P2P: appended with the next mid, `recvonly` from the peer's side, codecs
   * copied from the first m-line of that media. Returns its mid.
   */
  addLocalMline(media: MediaKind): string {
    const mid = String(this.#sections.length);
    this.#append(mid, media, 'recvonly');
    this.#version++;
    return mid;
  }

  #append(mid: string, media: MediaKind, direction: Direction): Section {
    const template = this.#sections.find((s) => s.media === media) ?? (this.#sections[0] as Section);
    const section: Section = {
      mid,
      media,
      description: { ...structuredClone(template.description), media, sources: [], ssrcGroups: [] },
      transport: structuredClone(template.transport),
      direction,
      rejected: false,
    };
    this.#sections.push(section);
    this.#group.push(mid);
    return section;
  }

  /**
   * Applies the peer's source-remove: the SSRCs (and groups using them) leave their m-line, whose direction
   * becomes `recvonly` when we send that media, else `inactive` (m-lines are kept: P2P reuses them). Returns the
   * sources that went away entirely.
   */
  removeSources(contents: readonly Content[], weSend: (media: MediaKind) => boolean): RemoteSource[] {
    const gone = new Set(contents.flatMap((c) => c.description?.sources.map((s) => s.ssrc) ?? []));
    const removed: RemoteSource[] = [];
    for (const s of this.#sections) {
      if (!s.description.sources.some((x) => gone.has(x.ssrc))) continue;
      const before = this.sourceOfMid(s.mid);
      s.description.sources = s.description.sources.filter((x) => !gone.has(x.ssrc));
      s.description.ssrcGroups = s.description.ssrcGroups.filter((g) => !g.ssrcs.some((x) => gone.has(x)));
      if (s.description.sources.length === 0) {
        s.direction = weSend(s.media) ? 'recvonly' : 'inactive';
        if (before !== undefined) removed.push(before);
      }
    }
    if (gone.size > 0) this.#version++;
    return removed;
  }

  /** The SDP (LJM `jingle2media` per content). */
  toSdp(): string {
    const lines = ['v=0', `o=- ${this.#sessionId} ${this.#version} IN IP4 0.0.0.0`, 's=-', 't=0 0'];
    if (this.#group.length > 0) lines.push(`a=group:BUNDLE ${this.#group.join(' ')}`);
    lines.push('a=msid-semantic: WMS *');
    for (const s of this.#sections) lines.push(...mediaSection(s));
    return `${lines.join('\r\n')}\r\n`;
  }
}

function mediaSection(s: Section): string[] {
  const d = s.description;
  const t = s.transport;
  const out = [
    `m=${s.media} ${s.rejected ? 0 : 9} UDP/TLS/RTP/SAVPF ${d.payloadTypes.map((p) => p.id).join(' ')}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${t.ufrag ?? ''}`,
    `a=ice-pwd:${t.pwd ?? ''}`,
  ];
  for (const fp of t.fingerprints) {
    out.push(`a=fingerprint:${fp.hash} ${fp.value}`);
    if (fp.setup !== undefined) out.push(`a=setup:${fp.setup}`);
  }
  for (const c of t.candidates) out.push(candidateLine(c));
  out.push(`a=${s.rejected ? 'inactive' : s.direction}`, `a=mid:${s.mid}`);
  if (d.rtcpMux) out.push('a=rtcp-mux');
  for (const p of d.payloadTypes) out.push(...payloadLines(p, d.rtcpFbs));
  for (const x of d.rtpHdrExts) out.push(`a=extmap:${x.id} ${x.uri}`);
  if (d.extmapAllowMixed) out.push('a=extmap-allow-mixed');
  if (!s.rejected) {
    for (const g of d.ssrcGroups) out.push(`a=ssrc-group:${g.semantics} ${g.ssrcs.join(' ')}`);
    for (const src of d.sources) out.push(...ssrcLines(src));
  }
  return out;
}

function ssrcLines(s: Source): string[] {
  // LJM writes one a=ssrc line per <parameter>; msid is the one that matters (track ↔ stream).
  const out: string[] = [];
  if (s.msid !== undefined) out.push(`a=ssrc:${s.ssrc} msid:${s.msid}`);
  for (const p of s.parameters) if (p.name !== undefined && p.name !== '') out.push(`a=ssrc:${s.ssrc} ${p.name}${p.value !== '' ? `:${p.value}` : ''}`);
  if (out.length === 0) out.push(`a=ssrc:${s.ssrc} cname:${s.name ?? s.ssrc}`);
  return out;
}
