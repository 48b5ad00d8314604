/**
 * Public/hidden rooms (muc#roomconfig_publicroom): public rooms are listed in the service's disco#items.
 * Rooms are hidden by default: meeting names are the only secret of an anonymous Jitsi deployment.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#disco-rooms, #registrar-formtype-owner (muc_public, muc_hidden)
 */
import { booleanField, field } from '../forms.js';
import type { MucService } from '../index.js';

/** Own muc#roomconfig_publicroom and the muc_public/muc_hidden feature. Called once by loadMuc(). */
export function loadPublic(muc: MucService): void {
  muc.events.on('muc-config-form', ({ room, form }) => {
    form.cnode(field('muc#roomconfig_publicroom', 'boolean', 'Make room publicly searchable', room.config.public ? '1' : '0'));
  });
  muc.events.on('muc-config-submitted', ({ fields, config }) => {
    const v = booleanField(fields, 'muc#roomconfig_publicroom');
    if (v !== undefined) config.public = v;
  });
  muc.events.on('muc-disco#info', ({ room, features }) => {
    features.push(room.config.public ? 'muc_public' : 'muc_hidden');
  });
}
