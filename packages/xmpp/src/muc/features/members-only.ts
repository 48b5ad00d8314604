/**
 * Members-only rooms (muc#roomconfig_membersonly): only members, admins and owners (and service admins) may join;
 * others get auth/registration-required (LJM: ROOM_CONNECT_MEMBERS_ONLY_ERROR). When a room becomes members-only,
 * occupants without an affiliation are removed with status 322 (XEP-0045 §9.x, as Prosody does).
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#enter-members (§7.2.7), #registrar-statuscodes (322)
 * - PROTOCOL.md §3.3.9, §9e (lobby)
 */
import { StanzaError } from '../../stanza/errors.js';
import { registerBooleanOption } from '../forms.js';
import type { MucService } from '../index.js';

/** Enforce members-only rooms and own muc#roomconfig_membersonly. Called once by loadMuc(). */
export function loadMembersOnly(muc: MucService): void {
  registerBooleanOption(muc, {
    field: 'muc#roomconfig_membersonly',
    label: 'Make room members-only',
    key: 'membersOnly',
    features: ['muc_membersonly', 'muc_open'],
  });
  muc.events.on('muc-occupant-pre-join', ({ room, affiliation, privileged }) => {
    if (!room.config.membersOnly || privileged) return;
    if (affiliation === 'none') throw new StanzaError('registration-required', { type: 'auth' });
  }, -5);
  muc.events.on('muc-config-changed', ({ room, previous }) => {
    if (previous.membersOnly || !room.config.membersOnly) return;
    for (const o of [...room.occupants.values()]) {
      if (o.affiliation === 'none' && !o.privileged) room.leave(o, { reason: 'members-only', codes: ['322'] });
    }
  });
}
