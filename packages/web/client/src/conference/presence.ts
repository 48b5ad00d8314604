/**
 * MUC presence as lib-jitsi-meet writes and reads it. Pure (ltx elements, no DOM).
 *
 * Every presence the client sends carries its whole state (§3.3.1: "the payload is state, not delta"): `stats-id`,
 * entity caps, the codec list, `SourceInfo` (mute state and video type per source name) and the display name in
 * `<nick>`. Remote mute indicators come from the other occupants' `SourceInfo`, exactly as LJM's do, so clients of
 * either kind see each other's mute state.
 *
 * References:
 * - /work/shared/PROTOCOL.md §3.3.1 (join, self-presence status 110), §3.3.3 (leave), §3.4.1 (payload), §3.4.2
 *   (disco#info features)
 * - https://xmpp.org/extensions/xep-0045.html §7.2 (entering a room), §7.14 (exiting)
 * - https://xmpp.org/extensions/xep-0115.html §5 (caps verification string)
 * - https://xmpp.org/extensions/xep-0172.html (user nickname)
 */
import { type Element, NS_CAPS, NS_MUC, NS_MUC_USER, xml } from '@jitsi-one/xmpp';

export const NS_NICK = 'http://jabber.org/protocol/nick';
/** LJM's caps node. */
export const CAPS_NODE = 'https://jitsi.org/jitsi-meet';

/**
 * The disco#info features this client answers with (PROTOCOL §3.4.2). They shape the focus's offer: audio, video,
 * RTX, REMB, JSON-encoded sources and source names; no SCTP (the bridge channel is colibri-ws), no SSRC rewriting
 * (remote sources come as Jingle source-add), no TCC (the bridge does REMB).
 */
export const CLIENT_FEATURES: readonly string[] = [
  'urn:xmpp:jingle:1',
  'urn:xmpp:jingle:apps:rtp:1',
  'urn:xmpp:jingle:transports:ice-udp:1',
  'urn:xmpp:jingle:apps:dtls:0',
  'urn:xmpp:jingle:apps:rtp:audio',
  'urn:xmpp:jingle:apps:rtp:video',
  'http://jitsi.org/json-encoded-sources',
  'urn:ietf:rfc:4588',
  'http://jitsi.org/remb',
  'http://jitsi.org/source-name',
  'http://jitsi.org/receive-multiple-video-streams',
  'http://jabber.org/protocol/caps',
];

/** The XEP-0115 §5.1 verification string S for a client with no identities and {@link CLIENT_FEATURES}. */
export function capsString(features: readonly string[] = CLIENT_FEATURES): string {
  return [...features].sort().map((f) => `${f}<`).join('');
}

/** Mute state and video type of one source, keyed by source name in `SourceInfo`. */
export interface SourceInfoEntry {
  muted: boolean;
  videoType?: string;
}

/** What the local participant publishes. */
export interface LocalPresence {
  endpointId: string;
  displayName: string;
  statsId: string;
  /** XEP-0115 `ver` (base64 SHA-1 of {@link capsString}); omitted when unknown. */
  capsVer?: string;
  /** The local sources; absent kinds are not listed. */
  audio?: { muted: boolean };
  video?: { muted: boolean };
  /** A screen share (`<ep>-v1`, videoType `desktop`), while sharing. */
  desktop?: { muted: boolean };
  /**
   * Raised hand as Jitsi Meet publishes it (`jitsi_participant_raisedHand`): the time it was raised (ms since epoch),
   * or 0 once lowered; undefined = never raised (element omitted).
   */
  raisedHand?: number;
}

/** The presence element of the raised-hand participant property (PROTOCOL §3.4.1, PROTOCOL-FEATURES §8). */
export const RAISED_HAND_ELEMENT = 'jitsi_participant_raisedHand';

/** `SourceInfo` JSON for the local sources (`<ep>-a0`, `<ep>-v0`). */
export function sourceInfoOf(p: LocalPresence): Record<string, SourceInfoEntry> {
  const out: Record<string, SourceInfoEntry> = {};
  if (p.audio !== undefined) out[`${p.endpointId}-a0`] = { muted: p.audio.muted };
  if (p.video !== undefined) out[`${p.endpointId}-v0`] = { muted: p.video.muted, videoType: 'camera' };
  if (p.desktop !== undefined) out[`${p.endpointId}-v1`] = { muted: p.desktop.muted, videoType: 'desktop' };
  return out;
}

/**
 * The presence to `room/nick`: the join presence when `join` (with `<x xmlns="…muc"/>`, §3.3.1), otherwise an
 * update (§3.3.2). Element order follows LJM.
 */
export function buildPresence(occupantJid: string, p: LocalPresence, join: boolean): Element {
  return xml(
    'presence',
    { to: occupantJid },
    join ? xml('x', { xmlns: NS_MUC }) : undefined,
    xml('stats-id', null, p.statsId),
    p.capsVer !== undefined ? xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver: p.capsVer }) : undefined,
    xml('jitsi_participant_codecList', null, 'vp8'),
    xml('SourceInfo', null, JSON.stringify(sourceInfoOf(p))),
    p.raisedHand !== undefined ? xml(RAISED_HAND_ELEMENT, null, String(p.raisedHand)) : undefined,
    p.displayName !== '' ? xml('nick', { xmlns: NS_NICK }, p.displayName) : undefined,
  );
}

/** An occupant as seen in a presence from the room. */
export interface OccupantPresence {
  /** Occupant nick = endpoint id. */
  nick: string;
  /** `type="unavailable"`: the occupant left. */
  unavailable: boolean;
  /** Status code 110: this presence is about us. */
  self: boolean;
  displayName: string | undefined;
  sourceInfo: Record<string, SourceInfoEntry>;
  role: string | undefined;
  affiliation: string | undefined;
  /** The occupant's real JID (non-anonymous rooms; the focus is recognised by it). */
  realJid: string | undefined;
  /** When the hand was raised (ms since epoch; 1 for Jitsi Meet's legacy `true`), 0 when not raised. */
  raisedHand: number;
  /** MUC status codes (e.g. 307 kicked, 110 self). */
  statusCodes: string[];
  /** For a kick (307): the actor's nick and the reason, when given. */
  actorNick: string | undefined;
  reason: string | undefined;
}

/**
 * Reads a presence from `room/nick`. Undefined for presences from elsewhere, errors, and presences without the
 * muc#user `<x>` (LJM ignores those, §3.3.1).
 */
export function parseOccupantPresence(presence: Element, roomJid: string): OccupantPresence | undefined {
  const from = String(presence.attrs.from ?? '');
  if (!from.startsWith(`${roomJid}/`)) return undefined;
  const type = presence.attrs.type as string | undefined;
  if (type !== undefined && type !== 'unavailable') return undefined;
  const x = presence.getChild('x', NS_MUC_USER);
  if (x === undefined) return undefined;
  const item = x.getChild('item');
  const codes = x.getChildren('status').map((s) => String(s.attrs.code ?? ''));
  return {
    nick: from.slice(roomJid.length + 1),
    unavailable: type === 'unavailable',
    self: codes.includes('110'),
    displayName: presence.getChild('nick', NS_NICK)?.getText() || undefined,
    sourceInfo: parseSourceInfo(presence.getChildText('SourceInfo')),
    role: item?.attrs.role as string | undefined,
    affiliation: item?.attrs.affiliation as string | undefined,
    realJid: item?.attrs.jid as string | undefined,
    raisedHand: parseRaisedHand(presence.getChildText(RAISED_HAND_ELEMENT)),
    statusCodes: codes,
    actorNick: item?.getChild('actor')?.attrs.nick as string | undefined,
    reason: item?.getChildText('reason') || undefined,
  };
}

/** `jitsi_participant_raisedHand` as Jitsi Meet reads it: a timestamp, `true` (1), or `false`/`0`/empty (lowered). */
export function parseRaisedHand(value: string | null | undefined): number {
  const v = (value ?? '').trim();
  if (v === 'true') return 1;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** Parses `SourceInfo` JSON leniently: anything malformed is ignored. */
export function parseSourceInfo(json: string | null | undefined): Record<string, SourceInfoEntry> {
  if (json === null || json === undefined || json === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const out: Record<string, SourceInfoEntry> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'object' || v === null) continue;
    const e = v as { muted?: unknown; videoType?: unknown };
    out[name] = { muted: e.muted === true, ...(typeof e.videoType === 'string' ? { videoType: e.videoType } : {}) };
  }
  return out;
}

/**
 * Whether an occupant's source of `kind` is off: muted, or not announced at all. A participant without a camera
 * shows as camera-off, as in Jitsi Meet.
 */
export function isSourceOff(o: Pick<OccupantPresence, 'nick' | 'sourceInfo'>, kind: 'audio' | 'video'): boolean {
  const e = o.sourceInfo[`${o.nick}-${kind === 'audio' ? 'a' : 'v'}0`];
  return e === undefined || e.muted;
}

/** Whether an occupant is sharing its screen: a `-v1` (or any desktop-type) source announced and not muted. */
export function isSharingScreen(o: Pick<OccupantPresence, 'nick' | 'sourceInfo'>): boolean {
  return Object.entries(o.sourceInfo).some(([name, e]) => name.startsWith(`${o.nick}-v`) && name !== `${o.nick}-v0` && e.videoType === 'desktop' && !e.muted);
}
