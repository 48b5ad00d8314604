/**
 * Moderated rooms (muc#roomconfig_moderatedroom): occupants without an affiliation join as visitors and may not send
 * groupchat messages until a moderator gives them voice (role participant). The default role itself is computed by
 * Room.defaultRole(); this file owns the configuration field and the disco feature.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#moderatedroom, #grantvoice
 */
import { booleanField, field } from '../forms.js';
import type { MucService } from '../index.js';

/** Own muc#roomconfig_moderatedroom and the muc_moderated/muc_unmoderated feature. Called once by loadMuc(). */
export function loadModerated(muc: MucService): void {
  muc.events.on('muc-config-form', ({ room, form }) => {
    form.cnode(field('muc#roomconfig_moderatedroom', 'boolean', 'Make room moderated', room.config.moderated ? '1' : '0'));
  });
  muc.events.on('muc-config-submitted', ({ fields, config }) => {
    const v = booleanField(fields, 'muc#roomconfig_moderatedroom');
    if (v !== undefined) config.moderated = v;
  });
  muc.events.on('muc-disco#info', ({ room, features }) => {
    features.push(room.config.moderated ? 'muc_moderated' : 'muc_unmoderated');
  });
}
