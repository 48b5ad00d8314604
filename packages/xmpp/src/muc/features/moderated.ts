/**
 * Moderated rooms (muc#roomconfig_moderatedroom): occupants without an affiliation join as visitors and may not send
 * groupchat messages until a moderator gives them voice (role participant). The default role itself is computed by
 * Room.defaultRole(); this file owns the configuration field and the disco feature.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#moderatedroom, #grantvoice
 */
import { registerBooleanOption } from '../forms.js';
import type { MucService } from '../index.js';

/** Own muc#roomconfig_moderatedroom and the muc_moderated/muc_unmoderated feature. Called once by loadMuc(). */
export function loadModerated(muc: MucService): void {
  registerBooleanOption(muc, {
    field: 'muc#roomconfig_moderatedroom',
    label: 'Make room moderated',
    key: 'moderated',
    features: ['muc_moderated', 'muc_unmoderated'],
  });
}
