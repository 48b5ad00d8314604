/**
 * Moderator actions, as lib-jitsi-meet sends them; the server enforces who may do what. Pure (ltx elements).
 *
 * - Mute someone's microphone or camera: an IQ to the focus's occupant JID (`room/focus`) with
 *   `<mute xmlns="http://jitsi.org/jitmeet/audio|video" jid="room/<nick>">true</mute>` (PROTOCOL §3.5). Only
 *   moderators may mute others, nobody may unmute someone else.
 * - Kick: muc#admin `<item nick="<nick>" role="none"><reason>…</reason></item>` to the room (PROTOCOL §3.3.7,
 *   PROTOCOL-FEATURES §3.1).
 * - Grant moderator: muc#admin `<item affiliation="owner" jid="<bare real JID>">` to the room, as
 *   `JitsiConference.grantOwner` does (PROTOCOL-FEATURES §3.2); the MUC then makes the occupant a moderator.
 *
 * References: /work/shared/PROTOCOL.md §3.3.4, §3.3.7, §3.5; /work/shared/PROTOCOL-FEATURES.md §3
 */
import { type Element, NS_MUC_ADMIN, xml } from '@jitsi-one/xmpp';

export const NS_MUTE_AUDIO = 'http://jitsi.org/jitmeet/audio';
export const NS_MUTE_VIDEO = 'http://jitsi.org/jitmeet/video';
export const NS_MUTE_DESKTOP = 'http://jitsi.org/jitmeet/desktop';

/** What a moderator can mute. */
export type MuteMedia = 'audio' | 'video' | 'desktop';

const MUTE_NS: Record<MuteMedia, string> = { audio: NS_MUTE_AUDIO, video: NS_MUTE_VIDEO, desktop: NS_MUTE_DESKTOP };

/** LJM's default kick reason. */
export const KICK_REASON = 'You have been kicked.';

/** The mute request to the focus (`focusOccupantJid` = `room/focus`) for occupant `room/<nick>`. */
export function buildMuteIq(focusOccupantJid: string, roomJid: string, nick: string, media: MuteMedia): Element {
  return xml('iq', { type: 'set', to: focusOccupantJid }, xml('mute', { xmlns: MUTE_NS[media], jid: `${roomJid}/${nick}` }, 'true'));
}

/** The media a focus mute command is about, or undefined when `el` is not one. */
export function muteMediaOf(el: Element): MuteMedia | undefined {
  for (const [media, ns] of Object.entries(MUTE_NS) as Array<[MuteMedia, string]>) if (el.name === 'mute' && el.attrs.xmlns === ns) return media;
  return undefined;
}

/** Kick: role `none` by nick. */
export function buildKickIq(roomJid: string, nick: string, reason = KICK_REASON): Element {
  return xml('iq', { type: 'set', to: roomJid }, xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { nick, role: 'none' }, xml('reason', null, reason))));
}

/** Grant moderator: affiliation `owner` for the occupant's bare real JID. */
export function buildGrantOwnerIq(roomJid: string, realJid: string): Element {
  const bare = realJid.split('/')[0] ?? realJid;
  return xml(
    'iq',
    { type: 'set', to: roomJid },
    xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { affiliation: 'owner', jid: bare }, xml('reason', null, "Your affiliation has been changed to 'owner'."))),
  );
}

/** A short sentence for a refused moderator action, from the IQ error's condition and text. */
export function moderationErrorText(action: string, condition: string, text?: string): string {
  const why =
    condition === 'forbidden' || condition === 'not-allowed'
      ? 'you are not allowed to do that'
      : condition === 'item-not-found'
        ? 'that participant is no longer in the meeting'
        : condition === 'remote-server-timeout'
          ? 'the server did not answer'
          : condition;
  return `Could not ${action}: ${why}${text !== undefined && text !== '' ? ` (${text})` : ''}.`;
}
