/**
 * Jingle ↔ SDP for the headless test participant, with sdp-transform, as lib-jitsi-meet does it (PROTOCOL §4.6,
 * §4.11, §8): a Jingle offer (from the focus for the bridge, or from the other client for P2P) becomes a remote SDP for
 * werift; werift's local SDP gives the transport (ufrag, pwd, fingerprint, candidates) and codecs for our Jingle.
 *
 * Only Opus and VP8 (and their RTX) are shown to werift: that is what the participant sends.
 */
import { parse as parseSdp, write as writeSdp, type MediaAttributes, type SessionDescription } from 'sdp-transform';
import { expandJsonSources } from '../packages/focus/src/jingle/xml.js';
import type { Candidate, Content, DtlsSetup, IceUdpTransport, Jingle, PayloadType, RtpDescription, Source } from '../packages/focus/src/jingle/types.js';

export type Media = 'audio' | 'video';

/** Every source of a Jingle payload (standard `<source>` elements and compact JSON), with its media. */
export function sourcesOf(j: Jingle): Array<{ media: Media; source: Source }> {
  const contents: Content[] = [...j.contents, ...(j.jsonSources !== undefined ? expandJsonSources(j.jsonSources) : [])];
  const out: Array<{ media: Media; source: Source }> = [];
  for (const c of contents) {
    const media: string = c.description?.media ?? c.name;
    if (media !== 'audio' && media !== 'video') continue;
    for (const s of c.description?.sources ?? []) out.push({ media, source: s });
  }
  return out;
}

/** Opus/VP8 and the RTX payload types that repair them. */
export function usablePayloadTypes(d: RtpDescription): PayloadType[] {
  const main = d.payloadTypes.filter((p) => /^(opus|vp8)$/i.test(p.name));
  const mainIds = new Set(main.map((p) => String(p.id)));
  const rtx = d.payloadTypes.filter((p) => /^rtx$/i.test(p.name) && p.parameters.some((x) => x.name === 'apt' && mainIds.has(x.value)));
  return [...main, ...rtx];
}

function sdpCandidate(c: Candidate): NonNullable<MediaAttributes['candidates']>[number] {
  return {
    foundation: c.foundation,
    component: c.component,
    transport: c.protocol,
    priority: c.priority,
    ip: c.ip,
    port: c.port,
    type: c.type,
    ...(c.relAddr !== undefined ? { raddr: c.relAddr, rport: c.relPort ?? 0 } : {}),
    generation: c.generation ?? 0,
  };
}

/**
 * The SDP a Jingle offer stands for: one m-line per audio/video content (mid = content name), BUNDLE, the offer's
 * transport, codecs, header extensions, and every announced source with its msid (owner as cname).
 */
export function jingleToSdp(j: Jingle): string {
  const media = j.contents.filter((c) => c.description?.media === 'audio' || c.description?.media === 'video');
  const all = sourcesOf(j);
  const sdp: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: Date.now(), sessionVersion: 2, netType: 'IN', ipVer: 4, address: '0.0.0.0' },
    name: '-',
    timing: { start: 0, stop: 0 },
    groups: [{ type: 'BUNDLE', mids: media.map((c) => c.name).join(' ') }],
    msidSemantic: { semantic: 'WMS', token: '*' },
    media: [],
  };
  for (const c of media) {
    const d = c.description as RtpDescription;
    const t = c.transport;
    const fp = t?.fingerprints[0];
    if (t === undefined || fp === undefined || t.ufrag === undefined || t.pwd === undefined) throw new Error(`content ${c.name} has no usable transport`);
    const pts = usablePayloadTypes(d);
    const seen = new Set<number>();
    const ssrcs: NonNullable<MediaAttributes['ssrcs']> = [];
    for (const { media: m, source: s } of all) {
      if (m !== d.media || seen.has(s.ssrc)) continue;
      seen.add(s.ssrc);
      const owner = s.owner ?? 'jvb';
      ssrcs.push({ id: s.ssrc, attribute: 'cname', value: owner }, { id: s.ssrc, attribute: 'msid', value: s.msid ?? `${owner} ${s.name ?? owner}` });
    }
    sdp.media.push({
      type: d.media,
      port: 9,
      protocol: 'UDP/TLS/RTP/SAVPF',
      payloads: pts.map((p) => p.id).join(' '),
      connection: { version: 4, ip: '0.0.0.0' },
      rtcp: { port: 9, netType: 'IN', ipVer: 4, address: '0.0.0.0' },
      iceUfrag: t.ufrag,
      icePwd: t.pwd,
      fingerprint: { type: fp.hash, hash: fp.value },
      setup: fp.setup ?? 'actpass',
      candidates: t.candidates.map(sdpCandidate),
      endOfCandidates: 'end-of-candidates',
      mid: c.name,
      direction: 'sendrecv',
      rtcpMux: 'rtcp-mux',
      rtp: pts.map((p) => ({ payload: p.id, codec: p.name, rate: p.clockrate ?? 90_000, ...(p.channels !== undefined && p.channels > 1 ? { encoding: p.channels } : {}) })),
      fmtp: pts
        .filter((p) => p.parameters.some((x) => x.name !== undefined))
        .map((p) => ({ payload: p.id, config: p.parameters.filter((x) => x.name !== undefined).map((x) => `${x.name ?? ''}=${x.value}`).join(';') })),
      rtcpFb: pts.flatMap((p) => [...p.rtcpFbs, ...d.rtcpFbs].map((fb) => ({ payload: p.id, type: fb.type, ...(fb.subtype !== undefined ? { subtype: fb.subtype } : {}) }))),
      ext: d.rtpHdrExts.map((x) => ({ value: x.id, uri: x.uri })),
      ssrcs,
      ssrcGroups: d.ssrcGroups.map((g) => ({ semantics: g.semantics, ssrcs: g.ssrcs.join(' ') })),
    });
  }
  return writeSdp(sdp);
}

/**
 * The ICE/DTLS transport of a local (werift) SDP, as Jingle: ufrag, pwd, fingerprint, candidates. The fingerprint's
 * `setup` is the given one, or the SDP's own.
 */
export function sdpTransport(sdp: string, setup?: DtlsSetup): IceUdpTransport {
  const s = parseSdp(sdp);
  const m = s.media[0];
  const ufrag = m?.iceUfrag ?? s.iceUfrag;
  const pwd = m?.icePwd ?? s.icePwd;
  const fp = m?.fingerprint ?? s.fingerprint;
  if (ufrag === undefined || pwd === undefined || fp === undefined) throw new Error('local SDP has no ICE credentials or fingerprint');
  return {
    ufrag,
    pwd,
    fingerprints: [{ hash: fp.type, value: fp.hash, setup: setup ?? ((m?.setup ?? s.setup ?? 'actpass') as DtlsSetup) }],
    candidates: (m?.candidates ?? []).map((c, i) => ({
      foundation: String(c.foundation),
      component: c.component,
      protocol: c.transport.toLowerCase(),
      priority: c.priority,
      ip: c.ip,
      port: c.port,
      type: c.type,
      generation: 0,
      id: `c${i}`,
      ...(c.raddr !== undefined ? { relAddr: c.raddr, relPort: c.rport ?? 0 } : {}),
    })),
    rtcpMux: false,
    webSockets: [],
  };
}

/** The m-lines of a local SDP: mid and media kind, in order. */
export function sdpMids(sdp: string): Array<{ mid: string; media: Media }> {
  return parseSdp(sdp)
    .media.filter((m) => m.type === 'audio' || m.type === 'video')
    .map((m) => ({ mid: String(m.mid ?? ''), media: m.type as Media }));
}

/** Codecs of one m-line of a local SDP as Jingle payload types (Opus, VP8 and their RTX only). */
export function sdpPayloadTypes(sdp: string, mid: string): PayloadType[] {
  const m = parseSdp(sdp).media.find((x) => String(x.mid) === mid);
  if (m === undefined) return [];
  const pts: PayloadType[] = m.rtp.map((r) => ({
    id: r.payload,
    name: r.codec,
    clockrate: r.rate ?? 90_000,
    ...(r.encoding !== undefined && Number(r.encoding) > 1 ? { channels: Number(r.encoding) } : {}),
    parameters: (m.fmtp ?? [])
      .filter((f) => f.payload === r.payload)
      .flatMap((f) => f.config.split(';'))
      .filter((kv) => kv.includes('='))
      .map((kv) => {
        const [name = '', ...rest] = kv.split('=');
        return { name: name.trim(), value: rest.join('=').trim() };
      }),
    rtcpFbs: (m.rtcpFb ?? []).filter((f) => Number(f.payload) === r.payload).map((f) => ({ type: f.type, ...(f.subtype !== undefined ? { subtype: f.subtype } : {}) })),
  }));
  return usablePayloadTypes({ media: m.type as Media, payloadTypes: pts, rtcpFbs: [], rtpHdrExts: [], extmapAllowMixed: false, rtcpMux: true, sources: [], ssrcGroups: [] });
}
