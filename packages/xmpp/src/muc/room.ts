/**
 * A MUC room: occupants (by nick and by real full JID), affiliations (by bare JID), configuration, subject, history,
 * and the presence/message flows of XEP-0045. Policy (passwords, members-only, limits, history, subject rights…)
 * lives in `features/`, which hook the room events this class fires (events.ts).
 *
 * Rooms are temporary and non-anonymous: created by the first join (instant, never locked), dropped with all their
 * state when the last occupant leaves.
 *
 * Fan-out serializes each stanza once (outgoing.ts). Every occupant's presence is cached, so a join costs the n
 * cached presences to the joiner plus one serialization broadcast to the n-1 others.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#enter (§7.2), #changepres (§7.7), #changenick (§7.6), #exit (§7.14),
 *   #message (§7.4), #privatemessage (§7.5), #kick (§8.2), #destroyroom (§10.9)
 * - PROTOCOL.md §3.3 (what lib-jitsi-meet sends and expects)
 */
import type { Logger } from 'pino';
import type { Origin } from '../session.js';
import { StanzaError } from '../stanza/errors.js';
import type { Jid } from '../stanza/jid.js';
import { NS_CLIENT, NS_DATA, NS_DISCO_INFO, NS_MUC, NS_MUC_ROOMINFO, NS_MUC_USER } from '../stanza/ns.js';
import { type Element, xml } from '../stanza/xml.js';
import { type LeaveReason, MucEvents, type MucEventMap } from './events.js';
import { formType } from './forms.js';
import type { MucService } from './index.js';
import { type Affiliation, Occupant, type OccupantInfo, type Role, defaultRole } from './occupant.js';
import { Outgoing, deliver } from './outgoing.js';

/** Room configuration (muc#roomconfig); each field is owned by a feature. */
export interface RoomConfig {
  /** Natural-language name (muc#roomconfig_roomname); '' = the room's localpart. */
  name: string;
  /** muc#roomconfig_roomdesc. */
  description: string;
  /** Listed in the service's disco#items (muc#roomconfig_publicroom). */
  public: boolean;
  /** Only members (and owners/admins) may join (muc#roomconfig_membersonly). */
  membersOnly: boolean;
  /** New occupants without affiliation join as visitors (muc#roomconfig_moderatedroom). */
  moderated: boolean;
  /** Participants (not only moderators) may change the subject (muc#roomconfig_changesubject). */
  changeSubject: boolean;
  /** Join password; '' = none (muc#roomconfig_roomsecret + _passwordprotectedroom). */
  password: string;
  /** Room size limit below the server's `limits.maxOccupantsPerRoom`; 0 = the server limit only. */
  maxUsers: number;
}

export const DEFAULT_ROOM_CONFIG: Readonly<RoomConfig> = {
  name: '',
  description: '',
  public: false,
  membersOnly: false,
  moderated: false,
  changeSubject: false,
  password: '',
  maxUsers: 0,
};

/** The current subject and who set it. */
export interface Subject {
  text: string;
  /** Occupant JID (room/nick) of the setter. */
  from: string;
  /** ms since epoch. */
  at: number;
}

/** One stored groupchat message (serialized without `to`, with its `<delay>`). */
export interface HistoryEntry {
  out: Outgoing;
  /** ms since epoch. */
  at: number;
  /** Serialized length (for `maxchars`). */
  chars: number;
}

/** What a join needs (built by the service from the client's presence). */
export interface JoinRequest {
  origin: Origin | undefined;
  stanza: Element;
  mucX: Element | undefined;
  realJid: Jid;
  occupantJid: Jid;
  /** This join creates the room (the service registers it once the join is admitted). */
  creating: boolean;
}

export interface LeaveOptions {
  reason: LeaveReason;
  /** Status codes for everybody (307 kick, 301 ban, 321/322 affiliation/members-only, 333 error). */
  codes?: readonly string[];
  /** Who did it (kicks and bans): `<actor nick>` if it is an occupant. */
  actor?: Occupant | undefined;
  /** `<reason>` inside `<item>`. */
  reasonText?: string | undefined;
  /** The leaving client's own `<status>` text elements, forwarded. */
  status?: readonly Element[];
}

/** Plain snapshot of a room (tests, metrics). */
export interface RoomSnapshot {
  jid: string;
  meetingId: string | undefined;
  createdAt: number;
  config: RoomConfig;
  subject: Subject | undefined;
  occupants: OccupantInfo[];
  affiliations: Record<string, Affiliation>;
  historyLength: number;
}

export class Room {
  readonly service: MucService;
  /** Bare room JID, exactly as the creator addressed it (after JID prep). */
  readonly jid: Jid;
  /** Observers of this room only; run before the service bus. */
  readonly events = new MucEvents();
  /** ms since epoch (server clock). */
  readonly createdAt: number;
  readonly log: Logger;
  /** XEP-0045 muc#roominfo_meetingId (set by features/meeting-id.ts when the room is created). */
  meetingId: string | undefined;
  config: RoomConfig = { ...DEFAULT_ROOM_CONFIG };
  subject: Subject | undefined;
  /** Stored groupchat messages (features/history.ts), oldest first. */
  readonly history: HistoryEntry[] = [];
  readonly #occupants = new Map<string, Occupant>();
  readonly #byReal = new Map<string, Occupant>();
  readonly #affiliations = new Map<string, Affiliation>();
  /** Occupants counted against the size limits (service admins are not). */
  #counted = 0;
  #destroyed = false;

  constructor(service: MucService, jid: Jid) {
    this.service = service;
    this.jid = jid;
    this.createdAt = service.server.now();
    this.log = service.log.child({ room: jid.bare });
  }

  /** The room's localpart. */
  get localpart(): string {
    return this.jid.local;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Number of occupants. */
  get size(): number {
    return this.#occupants.size;
  }

  /** Occupants counted against `maxOccupantsPerRoom`/`maxUsers` (service admins excluded). */
  get countedSize(): number {
    return this.#counted;
  }

  /** Occupants by nick. */
  get occupants(): ReadonlyMap<string, Occupant> {
    return this.#occupants;
  }

  /** Stored affiliations by bare JID ('none' is never stored; service admins are implicit owners). */
  get affiliations(): ReadonlyMap<string, Affiliation> {
    return this.#affiliations;
  }

  getOccupant(nick: string): Occupant | undefined {
    return this.#occupants.get(nick);
  }

  getOccupantByRealJid(fullJid: string): Occupant | undefined {
    return this.#byReal.get(fullJid);
  }

  occupantList(): OccupantInfo[] {
    return [...this.#occupants.values()].map((o) => o.info());
  }

  /** A bare JID's affiliation: service admins are owners, others as stored, default none. */
  getAffiliation(bareJid: string): Affiliation {
    if (this.service.isAdmin(bareJid)) return 'owner';
    return this.#affiliations.get(bareJid) ?? 'none';
  }

  /** The role an occupant with `affiliation` gets by default in this room. */
  defaultRole(affiliation: Affiliation): Role {
    const role = defaultRole(affiliation);
    return role === 'participant' && affiliation === 'none' && this.config.moderated ? 'visitor' : role;
  }

  // ---------------------------------------------------------------- events

  /** Fire a decision event (room bus, then service bus); StanzaErrors thrown by handlers propagate. */
  fire<K extends keyof MucEventMap>(name: K, event: MucEventMap[K]): unknown {
    const r = this.events.fire(name, event);
    return r !== undefined ? r : this.service.events.fire(name, event);
  }

  /** Emit a fact (room bus, then service bus); handler errors are logged. */
  emit<K extends keyof MucEventMap>(name: K, event: MucEventMap[K]): unknown {
    const r = this.events.emit(name, event, this.log);
    return r !== undefined ? r : this.service.events.emit(name, event, this.log);
  }

  // ---------------------------------------------------------------- delivery

  /** Send a prepared stanza to one occupant. */
  send(out: Outgoing, to: Occupant): void {
    this.service.dispatch(() => deliver(this.service.server, out, to.realJid.full, to.toAttr, this.jid));
  }

  /** Send a prepared stanza to every occupant except `except`. Serialized once. */
  broadcast(out: Outgoing, except?: Occupant): void {
    this.service.dispatch(() => {
      const server = this.service.server;
      for (const o of this.#occupants.values()) {
        if (o !== except) deliver(server, out, o.realJid.full, o.toAttr, this.jid);
      }
    });
  }

  /** Send every other occupant's cached presence to `to` (join, re-join). */
  #sendRoster(to: Occupant): void {
    this.service.dispatch(() => {
      const server = this.service.server;
      for (const o of this.#occupants.values()) {
        if (o !== to) deliver(server, o.presenceOut(), to.realJid.full, to.toAttr, this.jid);
      }
    });
  }

  /** Broadcast an occupant's current presence: its self copy gets `selfCodes` (110), the others the cached one. */
  broadcastPresence(occupant: Occupant, selfCodes: readonly string[] = ['110']): void {
    if (this.#byReal.get(occupant.realJid.full) === occupant) this.send(new Outgoing(occupant.presence(selfCodes)), occupant);
    this.broadcast(occupant.presenceOut(), occupant);
  }

  /** `<message type="groupchat" from="room"><x xmlns=muc#user><status code/>…</x></message>` to all (104 etc.). */
  sendStatusMessage(codes: readonly string[]): void {
    const x = xml('x', { xmlns: NS_MUC_USER });
    for (const code of codes) x.cnode(xml('status', { code }));
    this.broadcast(new Outgoing(xml('message', { xmlns: NS_CLIENT, type: 'groupchat', from: this.jid.full }, x)));
  }

  // ---------------------------------------------------------------- presence flows

  /**
   * Admit a new occupant (XEP-0045 §7.2). Throws StanzaError if refused (ban, nick conflict, or a feature veto).
   * Order (PROTOCOL.md §3.3.1): existing occupants' presences to the joiner, its own presence (110, 100, 201 if it
   * created the room), its presence to the others, then `muc-occupant-joined` and `muc-occupant-session-new`
   * (history, subject).
   */
  join(req: JoinRequest): Occupant {
    if (this.#destroyed) throw new StanzaError('item-not-found');
    const { realJid, occupantJid } = req;
    const nick = occupantJid.resource;
    const privileged = this.service.isAdmin(realJid.bare);
    const affiliation = this.getAffiliation(realJid.bare);
    // §7.2.8: banned users cannot enter.
    if (affiliation === 'outcast') throw new StanzaError('forbidden', { type: 'auth' });
    // §7.2.9: nick in use by someone else.
    if (this.#occupants.has(nick)) throw new StanzaError('conflict', { type: 'cancel' });
    const pre = {
      room: this,
      origin: req.origin,
      stanza: req.stanza,
      mucX: req.mucX,
      realJid,
      occupantJid,
      nick,
      affiliation,
      role: this.defaultRole(affiliation),
      privileged,
      creating: req.creating,
    };
    this.fire('muc-occupant-pre-join', pre);
    if (pre.role === 'none') throw new StanzaError('forbidden', { type: 'auth' });
    if (req.creating) this.service.registerRoom(this);

    const occupant = new Occupant(this, occupantJid, realJid, { role: pre.role, affiliation, privileged, joinedAt: this.service.server.now() });
    occupant.setPayload(req.stanza);
    this.#sendRoster(occupant);
    this.#occupants.set(nick, occupant);
    this.#byReal.set(realJid.full, occupant);
    if (!privileged) this.#counted++;
    this.send(new Outgoing(occupant.presence(req.creating ? ['110', '100', '201'] : ['110', '100'])), occupant);
    this.broadcast(occupant.presenceOut(), occupant);
    this.log.debug({ nick }, 'occupant joined');

    // A synchronous (in-process) recipient may have removed it already; then there is nothing left to announce.
    if (this.#byReal.get(realJid.full) !== occupant) return occupant;
    const joined = { room: this, occupant, stanza: req.stanza, mucX: req.mucX, created: req.creating };
    this.emit('muc-occupant-joined', joined);
    if (this.#byReal.get(realJid.full) === occupant) this.emit('muc-occupant-session-new', joined);
    return occupant;
  }

  /**
   * A later available presence from an occupant to its own occupant JID (§7.7): replace the payload and broadcast to
   * all, self included (110). With a muc `<x>` (the client re-joined without leaving) the client is also sent the
   * room's presences again.
   */
  updatePresence(occupant: Occupant, stanza: Element, mucX: Element | undefined): void {
    this.fire('muc-occupant-pre-change', { room: this, occupant, stanza, nick: occupant.nick });
    occupant.setPayload(stanza);
    if (mucX) this.#sendRoster(occupant);
    this.broadcastPresence(occupant, mucX ? ['110', '100'] : ['110']);
    this.emit('muc-occupant-updated', { room: this, occupant });
  }

  /**
   * Nick change (§7.6): unavailable from the old occupant JID with 303 and the new nick, then available from the new
   * one. Throws conflict if the nick is taken.
   */
  changeNick(occupant: Occupant, newJid: Jid, stanza: Element): void {
    const nick = newJid.resource;
    if (this.#occupants.has(nick)) throw new StanzaError('conflict', { type: 'cancel' });
    this.fire('muc-occupant-pre-change', { room: this, occupant, stanza, nick });
    const previousNick = occupant.nick;
    const unavailable = (codes: string[]) => {
      const item = occupant.item();
      item.attrs.nick = nick;
      const x = xml('x', { xmlns: NS_MUC_USER }, item);
      for (const code of codes) x.cnode(xml('status', { code }));
      return new Outgoing(xml('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: occupant.jid.full }, x));
    };
    this.send(unavailable(['303', '110']), occupant);
    this.broadcast(unavailable(['303']), occupant);
    this.#occupants.delete(previousNick);
    occupant.rename(newJid);
    this.#occupants.set(nick, occupant);
    this.service.server.sessions.get(occupant.realJid.full)?.directedPresence.delete(this.jid.withResource(previousNick).full);
    occupant.setPayload(stanza);
    this.broadcastPresence(occupant);
    this.emit('muc-occupant-nick-changed', { room: this, occupant, previousNick });
  }

  /**
   * Remove an occupant (§7.14 leave, §8.2 kick, §9.1 ban, …): self copy with 110, the others get the same
   * unavailable presence with `<item role="none" jid>`. Drops the room when it was the last occupant.
   */
  leave(occupant: Occupant, opts: LeaveOptions): void {
    if (this.#byReal.get(occupant.realJid.full) !== occupant) return;
    this.#occupants.delete(occupant.nick);
    this.#byReal.delete(occupant.realJid.full);
    if (!occupant.privileged) this.#counted--;
    occupant.updateRole('none');
    this.service.server.sessions.get(occupant.realJid.full)?.directedPresence.delete(occupant.jid.full);

    const build = (self: boolean): Outgoing => {
      const item = occupant.item('none');
      if (opts.actor) item.cnode(xml('actor', { nick: opts.actor.nick }));
      if (opts.reasonText) item.cnode(xml('reason', null, opts.reasonText));
      const x = xml('x', { xmlns: NS_MUC_USER }, item);
      for (const code of opts.codes ?? []) x.cnode(xml('status', { code }));
      if (self) x.cnode(xml('status', { code: '110' }));
      const p = xml('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: occupant.jid.full }, x);
      for (const s of opts.status ?? []) p.children.push(s);
      return new Outgoing(p);
    };
    this.send(build(true), occupant);
    if (this.#occupants.size > 0) this.broadcast(build(false));
    this.log.debug({ nick: occupant.nick, reason: opts.reason }, 'occupant left');
    this.emit('muc-occupant-left', { room: this, occupant, reason: opts.reason, codes: opts.codes ?? [] });
    if (this.#occupants.size === 0) this.#drop(false, undefined);
  }

  // ---------------------------------------------------------------- messages

  /**
   * Groupchat from an occupant (§7.4): broadcast to everyone including the sender, `from` = its occupant JID,
   * keeping `id` and every child. Visitors may not speak (forbidden); features may veto (subject rights).
   */
  groupchat(occupant: Occupant, stanza: Element): void {
    if (occupant.role !== 'moderator' && occupant.role !== 'participant') {
      throw new StanzaError('forbidden', { type: 'auth', text: 'Visitors may not send messages' });
    }
    this.fire('muc-occupant-groupchat', { room: this, occupant, stanza });
    stanza.attrs.from = occupant.jid.full;
    const out = new Outgoing(stanza);
    this.broadcast(out);
    this.emit('muc-broadcast-message', { room: this, occupant, stanza: out.el });
  }

  /** Private message (§7.5): delivered to the target's real JID from the sender's occupant JID; not reflected. */
  privateMessage(sender: Occupant, targetNick: string, stanza: Element): void {
    if (stanza.attrs.type === 'groupchat') throw new StanzaError('bad-request', { text: 'groupchat to an occupant' });
    const target = this.#occupants.get(targetNick);
    if (!target) throw new StanzaError('item-not-found');
    stanza.attrs.from = sender.jid.full;
    // §7.5: the service SHOULD add an empty muc#user <x> so the recipient knows it came through the room.
    stanza.cnode(xml('x', { xmlns: NS_MUC_USER }));
    this.send(new Outgoing(stanza), target);
  }

  // ---------------------------------------------------------------- roles and affiliations

  /**
   * Set an occupant's role without permission checks (admin.ts checks) and broadcast it. `none` kicks (307, §8.2).
   */
  setRole(occupant: Occupant, role: Role, opts: { actor?: Occupant | undefined; actorJid?: Jid | undefined; reason?: string | undefined } = {}): void {
    if (this.#byReal.get(occupant.realJid.full) !== occupant) return;
    const previous = occupant.role;
    if (role === 'none') {
      this.leave(occupant, { reason: 'kicked', codes: ['307'], actor: opts.actor, reasonText: opts.reason });
    } else if (role !== previous) {
      occupant.updateRole(role);
      this.broadcastPresence(occupant);
    } else return;
    this.emit('muc-set-role', { room: this, occupant, previous, role, actor: opts.actorJid ?? opts.actor?.realJid, reason: opts.reason });
  }

  /**
   * Set a bare JID's affiliation without permission checks (admin.ts checks) and apply it to its occupants:
   * outcast removes them (301), losing membership of a members-only room removes them (321), otherwise their role
   * follows the new affiliation and their presence is broadcast.
   */
  setAffiliation(bareJid: string, affiliation: Affiliation, opts: { actor?: Occupant | undefined; actorJid?: Jid | undefined; reason?: string | undefined } = {}): void {
    const previous = this.getAffiliation(bareJid);
    if (affiliation === 'none') this.#affiliations.delete(bareJid);
    else this.#affiliations.set(bareJid, affiliation);
    const effective = this.getAffiliation(bareJid);
    for (const o of [...this.#occupants.values()]) {
      if (o.bareJid !== bareJid) continue;
      if (effective === 'outcast' || (effective === 'none' && this.config.membersOnly && !o.privileged)) o.updateAffiliation(effective);
      if (effective === 'outcast') {
        this.leave(o, { reason: 'banned', codes: ['301'], actor: opts.actor, reasonText: opts.reason });
      } else if (effective === 'none' && this.config.membersOnly && !o.privileged) {
        this.leave(o, { reason: 'affiliation', codes: ['321'], actor: opts.actor, reasonText: opts.reason });
      } else if (effective !== o.affiliation) {
        o.updateAffiliation(effective);
        o.updateRole(this.defaultRole(effective));
        this.broadcastPresence(o);
      }
    }
    if (previous !== effective) {
      this.emit('muc-set-affiliation', { room: this, jid: bareJid, previous, affiliation: effective, actor: opts.actorJid ?? opts.actor?.realJid, reason: opts.reason });
    }
  }

  /** Bare JIDs with a stored affiliation. */
  jidsWithAffiliation(affiliation: Affiliation): string[] {
    const out: string[] = [];
    for (const [jid, a] of this.#affiliations) if (a === affiliation) out.push(jid);
    return out;
  }

  // ---------------------------------------------------------------- info and lifecycle

  /** The room's disco#info `<query>` (PROTOCOL.md §3.3.8); features and roominfo fields come from the features. */
  discoInfo(): Element {
    const features = [NS_MUC];
    const form = xml('x', { xmlns: NS_DATA, type: 'result' }, formType(NS_MUC_ROOMINFO));
    this.emit('muc-disco#info', { room: this, features, form });
    features.push('muc_nonanonymous', 'muc_temporary');
    const q = xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'conference', type: 'text', name: this.config.name || this.jid.local }));
    for (const f of features) q.cnode(xml('feature', { var: f }));
    q.cnode(form);
    return q;
  }

  /**
   * Destroy the room (§10.9): every occupant gets unavailable presence from its own occupant JID with
   * `<item affiliation="none" role="none"/><destroy>`; then the room and its state are dropped.
   */
  destroy(opts: { reason?: string | undefined; alternate?: string | undefined; actor?: Jid | undefined } = {}): void {
    if (this.#destroyed) return;
    const occupants = [...this.#occupants.values()];
    this.#occupants.clear();
    this.#byReal.clear();
    this.#counted = 0;
    const server = this.service.server;
    for (const o of occupants) {
      o.updateRole('none');
      server.sessions.get(o.realJid.full)?.directedPresence.delete(o.jid.full);
      const destroy = xml('destroy', { jid: opts.alternate }, opts.reason !== undefined ? xml('reason', null, opts.reason) : undefined);
      const x = xml('x', { xmlns: NS_MUC_USER }, xml('item', { affiliation: 'none', role: 'none' }), destroy);
      this.send(new Outgoing(xml('presence', { xmlns: NS_CLIENT, type: 'unavailable', from: o.jid.full }, x)), o);
    }
    for (const o of occupants) this.emit('muc-occupant-left', { room: this, occupant: o, reason: 'destroyed', codes: [] });
    this.#drop(true, opts.reason);
  }

  /** Forget everything and unregister. */
  #drop(explicit: boolean, reason: string | undefined): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#affiliations.clear();
    this.history.length = 0;
    this.subject = undefined;
    this.service.unregisterRoom(this);
    this.log.debug({ explicit }, 'room destroyed');
    this.emit('muc-room-destroyed', { room: this, explicit, reason });
  }

  /** @internal Set an affiliation with no side effects (the creator's ownership, before it joins). */
  initAffiliation(bareJid: string, affiliation: Affiliation): void {
    if (affiliation === 'none') this.#affiliations.delete(bareJid);
    else this.#affiliations.set(bareJid, affiliation);
  }

  dump(): RoomSnapshot {
    return {
      jid: this.jid.bare,
      meetingId: this.meetingId,
      createdAt: this.createdAt,
      config: { ...this.config },
      subject: this.subject ? { ...this.subject } : undefined,
      occupants: this.occupantList(),
      affiliations: Object.fromEntries(this.#affiliations),
      historyLength: this.history.length,
    };
  }
}
