/**
 * What an endpoint negotiated, read once from its Colibri2 `<media>` elements (PROTOCOL.md §5.3: "know which PT
 * is VP8/RTX/opus and which ext id is audio level / mid / TCC"): header extension ids, the VP8 and RTX payload
 * types and the RTCP feedback the endpoint accepts. All endpoints of a Jitsi conference share one offer, so these
 * are the same everywhere, but each endpoint keeps its own.
 */
import { HeaderExtensionUri } from '../rtp/header-ext.js';
import type { Media } from './types.js';

/** Negotiated media parameters of one endpoint; -1 = not negotiated. */
export interface EndpointMediaInfo {
  /** Whether `<media>` was ever given (without it: accept any video PT as VP8, no extensions, PLI). */
  known: boolean;
  audioLevelExtId: number;
  transportCcExtId: number;
  absSendTimeExtId: number;
  videoOrientationExtId: number;
  midExtId: number;
  /** VP8 payload types (empty: unknown, treat every video PT as VP8). */
  vp8PayloadTypes: Set<number>;
  /** Original payload type → its RTX payload type (`apt`). */
  rtxByApt: Map<number, number>;
  /** RTX payload type → original payload type. */
  aptByRtx: Map<number, number>;
  /** Video accepts `nack pli`. */
  pli: boolean;
  /** Video accepts `ccm fir`. */
  fir: boolean;
  /** Video accepts generic `nack`. */
  nack: boolean;
  /** transport-cc negotiated (rtcp-fb on any payload type, or the header extension). */
  transportCc: boolean;
  /** `goog-remb` negotiated. */
  remb: boolean;
  audioClockRateHz: number;
  videoClockRateHz: number;
}

/** Media info of an endpoint with no `<media>` yet. */
export function defaultMediaInfo(): EndpointMediaInfo {
  return {
    known: false,
    audioLevelExtId: -1,
    transportCcExtId: -1,
    absSendTimeExtId: -1,
    videoOrientationExtId: -1,
    midExtId: -1,
    vp8PayloadTypes: new Set(),
    rtxByApt: new Map(),
    aptByRtx: new Map(),
    pli: true,
    fir: false,
    nack: true,
    transportCc: false,
    remb: false,
    audioClockRateHz: 48_000,
    videoClockRateHz: 90_000,
  };
}

/** Reads `medias` (already validated) into a fresh {@link EndpointMediaInfo}. */
export function parseMedias(medias: readonly Media[]): EndpointMediaInfo {
  const info = defaultMediaInfo();
  info.known = true;
  info.pli = false;
  info.nack = false;
  for (const m of medias) {
    for (const ext of m.rtpHdrExts) {
      switch (ext.uri) {
        case HeaderExtensionUri.SsrcAudioLevel:
          if (m.type === 'audio') info.audioLevelExtId = ext.id;
          break;
        case HeaderExtensionUri.TransportCc:
          info.transportCcExtId = ext.id;
          info.transportCc = true;
          break;
        case HeaderExtensionUri.AbsSendTime:
          info.absSendTimeExtId = ext.id;
          break;
        case HeaderExtensionUri.VideoOrientation:
          info.videoOrientationExtId = ext.id;
          break;
        case HeaderExtensionUri.SdesMid:
          info.midExtId = ext.id;
          break;
      }
    }
    for (const pt of m.payloadTypes) {
      const name = pt.name.toLowerCase();
      if (m.type === 'audio' && name === 'opus') info.audioClockRateHz = pt.clockrate || 48_000;
      if (m.type !== 'video') continue;
      if (name === 'vp8') {
        info.vp8PayloadTypes.add(pt.id);
        info.videoClockRateHz = pt.clockrate || 90_000;
      }
      if (name === 'rtx') {
        const apt = Number(pt.parameters?.apt);
        if (Number.isInteger(apt) && apt >= 0 && apt < 128) {
          info.rtxByApt.set(apt, pt.id);
          info.aptByRtx.set(pt.id, apt);
        }
      }
      for (const fb of pt.rtcpFbs ?? []) {
        const type = fb.type.toLowerCase();
        const sub = fb.subtype?.toLowerCase();
        if (type === 'nack' && sub === 'pli') info.pli = true;
        else if (type === 'nack' && sub === undefined) info.nack = true;
        else if (type === 'ccm' && sub === 'fir') info.fir = true;
        else if (type === 'transport-cc') info.transportCc = true;
        else if (type === 'goog-remb') info.remb = true;
      }
    }
  }
  // Neither PLI nor FIR signalled: PLI is what every browser understands.
  if (!info.pli && !info.fir) info.pli = true;
  if (info.transportCcExtId < 0) info.transportCc = false;
  return info;
}
