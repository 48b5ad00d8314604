/**
 * muc#admin: role changes (kick, voice, moderator) and affiliation changes (member, admin, owner, outcast = ban) and
 * the lists, with XEP-0045's permission rules as Prosody applies them:
 * - roles: the actor must be a moderator occupant; owners' and admins' roles cannot be changed (not-allowed); giving
 *   or taking the moderator role needs an owner or admin (forbidden);
 * - affiliations: the actor must be an owner or admin; only owners may touch owner/admin affiliations (forbidden);
 *   the last owner cannot lose ownership (conflict); service admins' implicit ownership cannot be changed.
 * Service admins (muc.admins) act as owners, occupants or not. Items of one request are applied in order; the first
 * refusal stops the rest and is the answer (earlier items stay applied, as in Prosody).
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#kick (§8.2), #grantvoice (§8.3), #grantmod (§9.6), #ban (§9.1),
 *   #grantmember (§9.3), #grantowner (§10.3), #modifymod (§9.8)
 * - PROTOCOL.md §3.3.7
 */
import type { StanzaEvent } from '../../host.js';
import { StanzaError } from '../../stanza/errors.js';
import { Jid } from '../../stanza/jid.js';
import { NS_MUC_ADMIN } from '../../stanza/ns.js';
import { type Element, child, elements, xml } from '../../stanza/xml.js';
import type { MucService } from '../index.js';
import { AFFILIATIONS, type Affiliation, type Occupant, ROLES, type Role } from '../occupant.js';
import type { Room } from '../room.js';

interface Actor {
  jid: Jid;
  occupant: Occupant | undefined;
  affiliation: Affiliation;
  privileged: boolean;
}

/** Register the muc#admin IQ handlers (roles, affiliations, lists). Called once by loadMuc(). */
export function loadAdmin(muc: MucService): void {
  const context = (e: StanzaEvent): { room: Room; actor: Actor; items: Element[] } => {
    const room = muc.rooms.get(e.to.bare);
    if (!room) throw new StanzaError('item-not-found');
    const query = child(e.stanza, 'query', NS_MUC_ADMIN);
    const items = query ? elements(query).filter((i) => i.name === 'item') : [];
    if (items.length === 0) throw new StanzaError('bad-request', { text: 'No items' });
    const actor = {
      jid: e.from,
      occupant: room.getOccupantByRealJid(e.from.full),
      affiliation: room.getAffiliation(e.from.bare),
      privileged: muc.isAdmin(e.from.bare),
    };
    return { room, actor, items };
  };

  const checkRole = (room: Room, actor: Actor, target: Occupant, role: Role): void => {
    if (actor.privileged) return;
    if (!actor.occupant || actor.occupant.role !== 'moderator') throw new StanzaError('forbidden', { type: 'auth', text: 'Only moderators may change roles' });
    const targetAffiliation = room.getAffiliation(target.bareJid);
    if (targetAffiliation === 'owner' || targetAffiliation === 'admin') throw new StanzaError('not-allowed', { text: "Owners' and admins' roles cannot be changed" });
    if ((target.role === 'moderator' || role === 'moderator') && actor.affiliation !== 'owner' && actor.affiliation !== 'admin') {
      throw new StanzaError('forbidden', { type: 'auth', text: 'Only owners and admins may grant or revoke moderator' });
    }
  };

  const checkAffiliation = (room: Room, actor: Actor, target: string, affiliation: Affiliation): void => {
    if (muc.isAdmin(target)) throw new StanzaError('not-allowed', { text: 'Service administrators are always owners' });
    if (actor.affiliation !== 'owner' && actor.affiliation !== 'admin') throw new StanzaError('forbidden', { type: 'auth', text: 'Only owners and admins may change affiliations' });
    const current = room.getAffiliation(target);
    if (current === affiliation) return;
    const privilegedChange = current === 'owner' || current === 'admin' || affiliation === 'owner' || affiliation === 'admin';
    if (privilegedChange && actor.affiliation !== 'owner') throw new StanzaError('forbidden', { type: 'auth', text: 'Only owners may change owner and admin affiliations' });
    if (current === 'owner' && room.jidsWithAffiliation('owner').length <= 1) throw new StanzaError('conflict', { text: 'The room must keep an owner' });
  };

  muc.host.iq('set', 'bare', NS_MUC_ADMIN, 'query', (e) => {
    const { room, actor, items } = context(e);
    for (const item of items) {
      if (room.destroyed) break;
      const reason = item.getChildText('reason') ?? undefined;
      const { nick, jid, role, affiliation } = item.attrs as Record<string, string | undefined>;
      if (affiliation !== undefined) {
        if (!AFFILIATIONS.includes(affiliation as Affiliation)) throw new StanzaError('bad-request', { text: 'Unknown affiliation' });
        let target: string | undefined;
        if (jid !== undefined) {
          const parsed = Jid.tryParse(jid);
          if (!parsed) throw new StanzaError('jid-malformed');
          target = parsed.bare;
        } else if (nick !== undefined) target = room.getOccupant(nick)?.bareJid;
        if (target === undefined) throw new StanzaError(nick !== undefined ? 'item-not-found' : 'bad-request');
        checkAffiliation(room, actor, target, affiliation as Affiliation);
        room.setAffiliation(target, affiliation as Affiliation, { actor: actor.occupant, actorJid: actor.jid, reason });
      } else if (role !== undefined) {
        if (!ROLES.includes(role as Role)) throw new StanzaError('bad-request', { text: 'Unknown role' });
        if (nick === undefined) throw new StanzaError('bad-request', { text: 'A role change needs a nick' });
        const target = room.getOccupant(nick);
        if (!target) throw new StanzaError('item-not-found');
        checkRole(room, actor, target, role as Role);
        room.setRole(target, role as Role, { actor: actor.occupant, actorJid: actor.jid, reason });
      } else {
        throw new StanzaError('bad-request', { text: 'An item needs a role or an affiliation' });
      }
    }
    return true;
  });

  muc.host.iq('get', 'bare', NS_MUC_ADMIN, 'query', (e) => {
    const { room, actor, items } = context(e);
    const mayList = actor.privileged || actor.occupant?.role === 'moderator' || actor.affiliation === 'owner' || actor.affiliation === 'admin';
    if (!mayList) throw new StanzaError('forbidden', { type: 'auth', text: 'Only moderators may list' });
    const q = xml('query', { xmlns: NS_MUC_ADMIN });
    for (const item of items) {
      const { role, affiliation } = item.attrs as Record<string, string | undefined>;
      if (affiliation !== undefined) {
        if (!AFFILIATIONS.includes(affiliation as Affiliation) || affiliation === 'none') throw new StanzaError('bad-request', { text: 'Unknown affiliation' });
        for (const jid of room.jidsWithAffiliation(affiliation as Affiliation)) q.cnode(xml('item', { affiliation, jid }));
      } else if (role !== undefined) {
        if (!ROLES.includes(role as Role) || role === 'none') throw new StanzaError('bad-request', { text: 'Unknown role' });
        for (const o of room.occupants.values()) {
          if (o.role === role) q.cnode(xml('item', { affiliation: o.affiliation, role: o.role, nick: o.nick, jid: o.realJid.full }));
        }
      } else {
        throw new StanzaError('bad-request', { text: 'An item needs a role or an affiliation' });
      }
    }
    return q;
  });
}
