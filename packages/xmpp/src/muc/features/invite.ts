/**
 * Mediated invitations: `<message to=room><x xmlns=muc#user><invite to=jid><reason/></invite></x></message>` from an
 * occupant is forwarded from the room to the invitee. In members-only rooms only moderators may invite, and the
 * invitee becomes a member (Jitsi's lobby approval, PROTOCOL.md §9e step 5).
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#invite-mediated (§7.8.2)
 */
import { StanzaError } from '../../stanza/errors.js';
import { NS_CLIENT, NS_MUC_USER } from '../../stanza/ns.js';
import { xml } from '../../stanza/xml.js';
import type { MucService } from '../index.js';

/** Forward mediated invitations; in members-only rooms, moderators only, and the invitee becomes a member. Called once by loadMuc(). */
export function loadInvite(muc: MucService): void {
  muc.events.on('muc-invite', ({ room, occupant, from, invite, invitee }) => {
    if (!occupant) throw new StanzaError('not-acceptable', { text: 'Only occupants may invite' });
    if (room.config.membersOnly) {
      if (!occupant.isModerator) throw new StanzaError('forbidden', { type: 'auth', text: 'Only moderators may invite to a members-only room' });
      if (room.getAffiliation(invitee.bare) === 'none') room.setAffiliation(invitee.bare, 'member', { actor: occupant });
    }
    const reason = invite.getChildText('reason');
    const x = xml('x', { xmlns: NS_MUC_USER }, xml('invite', { from: from.full }, reason !== null ? xml('reason', null, reason) : undefined));
    if (room.config.password) x.cnode(xml('password', null, room.config.password));
    muc.server.sendFrom(room.jid, xml('message', { xmlns: NS_CLIENT, from: room.jid.bare, to: invitee.full }, x));
    return true;
  });
}
