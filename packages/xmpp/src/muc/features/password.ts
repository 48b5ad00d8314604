/**
 * Password-protected rooms (muc#roomconfig_roomsecret, muc#roomconfig_passwordprotectedroom), after Prosody's
 * password.lib.lua: a join without the right `<password>` in its muc `<x>` gets auth/not-authorized (LJM:
 * PASSWORD_REQUIRED). Service admins (the focus) are exempt. The roomsecret field MUST be in the owner form or LJM
 * reports PASSWORD_NOT_SUPPORTED.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#enter-pw (§7.2.6)
 * - PROTOCOL.md §3.3.7 (lock room)
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { StanzaError } from '../../stanza/errors.js';
import { booleanField, field, textField } from '../forms.js';
import type { MucService } from '../index.js';

function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** Enforce room passwords and own muc#roomconfig_roomsecret/_passwordprotectedroom. Called once by loadMuc(). */
export function loadPassword(muc: MucService): void {
  muc.events.on('muc-config-form', ({ room, form }) => {
    form.cnode(field('muc#roomconfig_passwordprotectedroom', 'boolean', 'Password required to enter', room.config.password ? '1' : '0'));
    form.cnode(field('muc#roomconfig_roomsecret', 'text-private', 'Password', room.config.password));
  });
  muc.events.on('muc-config-submitted', ({ fields, config }) => {
    const secret = textField(fields, 'muc#roomconfig_roomsecret');
    const protectedRoom = booleanField(fields, 'muc#roomconfig_passwordprotectedroom');
    let password = secret ?? config.password;
    if (protectedRoom === false) password = '';
    config.password = password;
  });
  muc.events.on('muc-disco#info', ({ room, features }) => {
    features.push(room.config.password ? 'muc_passwordprotected' : 'muc_unsecured');
  });
  muc.events.on('muc-occupant-pre-join', ({ room, mucX, privileged }) => {
    const expected = room.config.password;
    if (!expected || privileged) return;
    const given = mucX?.getChildText('password') ?? '';
    if (!sameSecret(given, expected)) throw new StanzaError('not-authorized', { type: 'auth' });
  }, -20);
}
