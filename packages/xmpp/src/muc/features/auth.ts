/**
 * Room checks of the secure auth modes (see ../../auth/): in `secure-domain` and `jwt` mode only service admins (the
 * focus) create rooms directly, as Prosody's `restrict_room_creation = true` in Jitsi deployments (the focus creates
 * them for authenticated users, PROTOCOL-FEATURES §9.2); and a token holder may only enter the room its `room`
 * claim names (mod_token_verification: `cancel`/`not-allowed`, LJM: ROOM_CONNECT_NOT_ALLOWED_ERROR). Anonymous
 * mode: no effect.
 *
 * References: PROTOCOL.md §3.2, §3.3.9; PROTOCOL-FEATURES.md §9.1.
 */
import { StanzaError } from '../../stanza/errors.js';
import type { MucService } from '../index.js';

/** Install the auth checks. Called once by loadMuc(). */
export function loadAuthChecks(muc: MucService): void {
  const auth = muc.server.auth;
  if (!auth.secure) return;
  muc.events.on('muc-room-pre-create', ({ creator }) => {
    if (!muc.isAdmin(creator.bare)) throw new StanzaError('not-allowed', { type: 'cancel', text: 'Room creation is restricted' });
  }, 10);
  muc.events.on('muc-occupant-pre-join', ({ room, realJid, privileged }) => {
    if (!privileged) auth.checkRoomAccess(realJid, room.jid);
  }, 10);
}
