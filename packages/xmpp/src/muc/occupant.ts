/**
 * A MUC occupant: one real full JID in one room under one nick, with its role, affiliation and latest presence.
 *
 * The presence payload is state, not delta (PROTOCOL.md §3.3.1): every available presence from the client replaces
 * it. The presence other occupants see is serialized once per change and cached, so a joiner receives n cached
 * strings instead of n fresh serializations.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#roles, #affil
 */
import type { Jid } from '../stanza/jid.js';
import { NS_CLIENT, NS_MUC, NS_MUC_USER } from '../stanza/ns.js';
import { type Element, xml } from '../stanza/xml.js';
import { Outgoing, toAttr } from './outgoing.js';
import type { Room } from './room.js';

/** XEP-0045 §5.1 roles. */
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';
/** XEP-0045 §5.2 affiliations. */
export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';

export const ROLES: readonly Role[] = ['moderator', 'participant', 'visitor', 'none'];
export const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];

/** XEP-0045 §5.1.1 default role for an affiliation (moderated rooms lower `none` to visitor separately). */
export function defaultRole(affiliation: Affiliation): Role {
  switch (affiliation) {
    case 'owner':
    case 'admin':
      return 'moderator';
    case 'member':
    case 'none':
      return 'participant';
    case 'outcast':
      return 'none';
  }
}

/** Plain snapshot of an occupant (tests, introspection). */
export interface OccupantInfo {
  nick: string;
  jid: string;
  realJid: string;
  role: Role;
  affiliation: Affiliation;
  privileged: boolean;
}

export class Occupant {
  readonly room: Room;
  /** The client's real full JID. */
  readonly realJid: Jid;
  /** The client's bare JID (affiliation key). */
  readonly bareJid: string;
  /** Service admin (muc.admins): not counted against size limits. */
  readonly privileged: boolean;
  /** ms since epoch (server clock). */
  readonly joinedAt: number;
  /** ` to="<real jid>"`, escaped once for fan-out. */
  readonly toAttr: string;
  #jid: Jid;
  #role: Role;
  #affiliation: Affiliation;
  #payload: Element[] = [];
  #presence: Outgoing | undefined;

  constructor(room: Room, jid: Jid, realJid: Jid, opts: { role: Role; affiliation: Affiliation; privileged: boolean; joinedAt: number }) {
    this.room = room;
    this.#jid = jid;
    this.realJid = realJid;
    this.bareJid = realJid.bare;
    this.#role = opts.role;
    this.#affiliation = opts.affiliation;
    this.privileged = opts.privileged;
    this.joinedAt = opts.joinedAt;
    this.toAttr = toAttr(realJid.full);
  }

  /** The occupant JID, room@service/nick. */
  get jid(): Jid {
    return this.#jid;
  }

  get nick(): string {
    return this.#jid.resource;
  }

  get role(): Role {
    return this.#role;
  }

  get affiliation(): Affiliation {
    return this.#affiliation;
  }

  get isModerator(): boolean {
    return this.#role === 'moderator';
  }

  /** The latest presence payload (the client's children minus its muc/muc#user `<x>`). Do not mutate. */
  get payload(): readonly Element[] {
    return this.#payload;
  }

  /** @internal Room bookkeeping: use Room.setRole() to change and broadcast. */
  updateRole(role: Role): void {
    this.#role = role;
    this.#presence = undefined;
  }

  /** @internal Room bookkeeping: use Room.setAffiliation(). */
  updateAffiliation(affiliation: Affiliation): void {
    this.#affiliation = affiliation;
    this.#presence = undefined;
  }

  /** @internal Room bookkeeping (nick change). */
  rename(jid: Jid): void {
    this.#jid = jid;
    this.#presence = undefined;
  }

  /** @internal Replace the presence payload with the children of a client presence. */
  setPayload(stanza: Element): void {
    const payload: Element[] = [];
    for (const c of stanza.children) {
      if (typeof c === 'string') continue;
      const e = c as Element;
      // The client's join <x xmlns=muc> (with a password) and any muc#user <x> it made up are never forwarded.
      if (e.name === 'x' && (e.attrs.xmlns === NS_MUC_USER || e.attrs.xmlns === NS_MUC)) continue;
      payload.push(e);
    }
    this.#payload = payload;
    this.#presence = undefined;
  }

  /** `<item affiliation role jid/>` as everybody sees it (the room is non-anonymous). */
  item(role: Role = this.#role): Element {
    return xml('item', { affiliation: this.#affiliation, role, jid: this.realJid.full });
  }

  /**
   * The available presence from this occupant, without `to`: muc#user `<x>` first (LJM takes the first `x` in the
   * stanza, PROTOCOL.md §3.3.1), then the payload. `codes` are status codes (self copies: 110).
   */
  presence(codes: readonly string[] = []): Element {
    const x = xml('x', { xmlns: NS_MUC_USER }, this.item());
    for (const code of codes) x.cnode(xml('status', { code }));
    const p = xml('presence', { xmlns: NS_CLIENT, from: this.#jid.full }, x);
    // Shared, not cloned: the payload is only ever serialized (fallback routing clones).
    for (const c of this.#payload) p.children.push(c);
    return p;
  }

  /** The cached presence other occupants get (serialized once per change). */
  presenceOut(): Outgoing {
    return (this.#presence ??= new Outgoing(this.presence()));
  }

  info(): OccupantInfo {
    return {
      nick: this.nick,
      jid: this.#jid.full,
      realJid: this.realJid.full,
      role: this.#role,
      affiliation: this.#affiliation,
      privileged: this.privileged,
    };
  }
}
