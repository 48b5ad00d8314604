/**
 * Room size limit: `limits.maxOccupantsPerRoom` from the server config, and muc#roomconfig_maxusers if an owner set
 * a lower one. A join into a full room gets cancel/service-unavailable (LJM: ROOM_MAX_USERS_ERROR). Service admins
 * (the focus) neither count nor are refused.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#enter-maxusers (§7.2.10)
 */
import { StanzaError } from '../../stanza/errors.js';
import { field, textField } from '../forms.js';
import type { MucService } from '../index.js';

/** Enforce the room size limit and own muc#roomconfig_maxusers. Called once by loadMuc(). */
export function loadMaxOccupants(muc: MucService): void {
  const serverLimit = muc.server.config.limits.maxOccupantsPerRoom;
  muc.events.on('muc-config-form', ({ room, form }) => {
    form.cnode(field('muc#roomconfig_maxusers', 'text-single', `Maximum number of occupants (0 = ${serverLimit})`, String(room.config.maxUsers)));
  });
  muc.events.on('muc-config-submitted', ({ fields, config }) => {
    const v = textField(fields, 'muc#roomconfig_maxusers');
    if (v === undefined) return;
    const t = v.trim();
    const n = t === '' || t === 'none' ? 0 : Number(t);
    if (!Number.isInteger(n) || n < 0) throw new StanzaError('not-acceptable', { text: 'muc#roomconfig_maxusers: not a number' });
    config.maxUsers = n;
  });
  muc.events.on('muc-occupant-pre-join', ({ room, privileged }) => {
    if (privileged) return;
    const limit = room.config.maxUsers > 0 ? Math.min(room.config.maxUsers, serverLimit) : serverLimit;
    if (room.countedSize >= limit) throw new StanzaError('service-unavailable', { type: 'cancel', text: 'The room is full' });
  }, -10);
}
