/**
 * The focus ⇄ bridge seam: the Colibri2 API the focus calls (in process: the bridge's `Bridge`; later an XMPP
 * client could implement the same), and the conversions from the focus's Jingle/source model to Colibri2 shapes.
 *
 * References: PROTOCOL.md §5.1/§5.2; `@jitsi-one/bridge` `colibri/types.ts`.
 */
import type {
  ConferenceModified,
  ConferenceModify,
  Fingerprint as ColibriFingerprint,
  IceUdpTransport as ColibriIceUdp,
  Media,
  MediaSourceDesc,
} from '@jitsi-one/bridge';
import type { FeedbackSources } from './jingle/offer.js';
import type { Content, Jingle } from './jingle/types.js';
import type { EndpointSourceSet } from './sources.js';

/** What the focus needs from a bridge. `Bridge` (in process) satisfies it. Throws on errors. */
export interface ColibriApi {
  conferenceModify(req: ConferenceModify): ConferenceModified;
}

/** The endpoint's complete source set as Colibri2 `<media-source>`s (one per source name). */
export function toMediaSources(owner: string, set: EndpointSourceSet): MediaSourceDesc[] {
  const byName = new Map<string, MediaSourceDesc>();
  for (const s of set.sources) {
    let ms = byName.get(s.name);
    if (!ms) {
      ms = { type: s.mediaType, id: s.name, owner, sources: [], ssrcGroups: [] };
      if (s.videoType !== undefined) ms.videoType = s.videoType;
      byName.set(s.name, ms);
    }
    ms.sources.push({ ssrc: s.ssrc, name: s.name, ...(s.videoType !== undefined ? { videoType: s.videoType } : {}) });
  }
  const nameOf = new Map(set.sources.map((s) => [s.ssrc, s.name]));
  for (const g of set.groups) {
    const first = g.ssrcs[0];
    const name = first === undefined ? undefined : nameOf.get(first);
    const ms = name === undefined ? undefined : byName.get(name);
    ms?.ssrcGroups?.push({ semantics: g.semantics, ssrcs: [...g.ssrcs] });
  }
  return [...byName.values()];
}

/** The `<media>` of an endpoint from the offer the focus sent it (payload types and header extensions). */
export function mediasFromOffer(offer: Jingle): Media[] {
  const out: Media[] = [];
  for (const c of offer.contents) {
    const d = c.description;
    if (!d || (d.media !== 'audio' && d.media !== 'video')) continue;
    out.push({
      type: d.media,
      payloadTypes: d.payloadTypes.map((pt) => {
        const parameters: Record<string, string> = {};
        for (const p of pt.parameters) if (p.name !== undefined) parameters[p.name] = p.value;
        return {
          id: pt.id,
          name: pt.name,
          clockrate: pt.clockrate ?? (d.media === 'audio' ? 48000 : 90000),
          ...(pt.channels !== undefined ? { channels: pt.channels } : {}),
          parameters,
          rtcpFbs: pt.rtcpFbs.map((f) => (f.subtype !== undefined ? { type: f.type, subtype: f.subtype } : { type: f.type })),
        };
      }),
      rtpHdrExts: d.rtpHdrExts.map((h) => ({ id: h.id, uri: h.uri })),
      extmapAllowMixed: d.extmapAllowMixed,
    });
  }
  return out;
}

/** The bridge's feedback sources (`jvb-a0`/`jvb-v0`) from a reply. */
export function feedbackFrom(sources: readonly MediaSourceDesc[] | undefined): FeedbackSources | undefined {
  if (!sources || sources.length === 0) return undefined;
  const audio = sources.find((s) => s.type === 'audio')?.sources[0]?.ssrc;
  const video = sources.find((s) => s.type === 'video')?.sources[0]?.ssrc;
  return { ...(audio !== undefined ? { audio } : {}), ...(video !== undefined ? { video } : {}) };
}

/**
 * The client's ICE/DTLS parameters from a session-accept (the first content with a transport; LJM sends the same
 * in every content). Undefined if there is no ufrag/pwd or no usable fingerprint.
 */
export function clientTransport(contents: readonly Content[]): ColibriIceUdp | undefined {
  const t = contents.find((c) => c.transport?.ufrag !== undefined)?.transport;
  if (!t || t.ufrag === undefined || t.pwd === undefined) return undefined;
  const fingerprints: ColibriFingerprint[] = [];
  for (const f of t.fingerprints) {
    const setup = f.setup === 'holdconn' ? undefined : f.setup;
    fingerprints.push({ hash: f.hash, value: f.value, ...(setup !== undefined ? { setup } : {}) });
  }
  if (fingerprints.length === 0) return undefined;
  const candidates = t.candidates.map((c) => ({
    foundation: c.foundation,
    component: c.component,
    protocol: c.protocol,
    priority: c.priority,
    ip: c.ip,
    port: c.port,
    type: c.type,
    generation: c.generation ?? 0,
  }));
  return { ufrag: t.ufrag, pwd: t.pwd, fingerprints, candidates };
}
