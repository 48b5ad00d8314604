/**
 * Public/hidden rooms (muc#roomconfig_publicroom): public rooms are listed in the service's disco#items.
 * Rooms are hidden by default: meeting names are the only secret of an anonymous Jitsi deployment.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#disco-rooms, #registrar-formtype-owner (muc_public, muc_hidden)
 */
import { registerBooleanOption } from '../forms.js';
import type { MucService } from '../index.js';

/** Own muc#roomconfig_publicroom and the muc_public/muc_hidden feature. Called once by loadMuc(). */
export function loadPublic(muc: MucService): void {
  registerBooleanOption(muc, {
    field: 'muc#roomconfig_publicroom',
    label: 'Make room publicly searchable',
    key: 'public',
    features: ['muc_public', 'muc_hidden'],
  });
}
