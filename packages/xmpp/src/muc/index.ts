/**
 * XEP-0045 multi-user chat service, in memory: the MUC host's routing (`presence/full`, `presence/bare`,
 * `message/bare`, `message/full`, `iq/bare`, `iq/full` and the room IQ events), service discovery, and the room
 * registry. Room policy is in `features/` (one file per feature, each only hooking MUC events).
 *
 * Outside observers (the focus) hook `muc.events` ('muc-room-created', 'muc-occupant-joined', 'muc-occupant-left',
 * 'muc-room-destroyed', … see events.ts) or join rooms as ordinary occupants over a local session.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html
 * - https://xmpp.org/extensions/xep-0410.html (self-ping)
 * - PROTOCOL.md §3.2–3.3 (what lib-jitsi-meet needs)
 */
import type { Logger } from 'pino';
import type { Host, StanzaEvent } from '../host.js';
import { loadBasics } from '../modules/basics.js';
import { loadDisco } from '../modules/disco.js';
import type { XmppServer } from '../server.js';
import { StanzaError } from '../stanza/errors.js';
import { Jid } from '../stanza/jid.js';
import { NS_CLIENT, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_MUC_USER, NS_PING } from '../stanza/ns.js';
import { type Element, child, xml } from '../stanza/xml.js';
import { MucEvents } from './events.js';
import { loadAdmin } from './features/admin.js';
import { loadAuthChecks } from './features/auth.js';
import { loadHistory } from './features/history.js';
import { loadInvite } from './features/invite.js';
import { loadMaxOccupants } from './features/max-occupants.js';
import { loadMeetingId } from './features/meeting-id.js';
import { loadMembersOnly } from './features/members-only.js';
import { loadModerated } from './features/moderated.js';
import { loadOwner } from './features/owner.js';
import { loadPassword } from './features/password.js';
import { loadPublic } from './features/public.js';
import { loadSubject } from './features/subject.js';
import { IqProxy } from './iq-proxy.js';
import type { OccupantInfo } from './occupant.js';
import { Room } from './room.js';

export { Room, DEFAULT_ROOM_CONFIG } from './room.js';
export type { RoomConfig, RoomSnapshot, Subject, HistoryEntry, JoinRequest, LeaveOptions } from './room.js';
export { Occupant, defaultRole } from './occupant.js';
export type { Affiliation, Role, OccupantInfo } from './occupant.js';
export { MucEvents, EventBus } from './events.js';
export type * from './events.js';

export class MucService {
  readonly server: XmppServer;
  readonly host: Host;
  /** The MUC service domain (conference.<domain>). */
  readonly domain: string;
  readonly log: Logger;
  /** Service-wide MUC events: features and outside observers hook here (room buses run first). */
  readonly events = new MucEvents();
  /** Live rooms by bare room JID. */
  readonly rooms = new Map<string, Room>();
  readonly iqProxy: IqProxy;
  readonly #admins: Set<string>;
  readonly #creators: Set<string>;
  #dispatching = false;
  readonly #deferred: (() => void)[] = [];

  constructor(server: XmppServer, host: Host) {
    this.server = server;
    this.host = host;
    this.domain = host.domain;
    this.log = server.log.child({ component: 'muc', host: host.domain });
    this.#admins = new Set(server.config.muc.admins.map((j) => Jid.parse(j).bare));
    this.#creators = new Set(server.config.muc.roomCreators.map((j) => Jid.parse(j).bare));
    this.iqProxy = new IqProxy(this);
  }

  /** Service admin (muc.admins): implicit owner everywhere, exempt from join restrictions. */
  isAdmin(bareJid: string): boolean {
    return this.#admins.has(bareJid);
  }

  /** May this bare JID create rooms (muc.roomCreators, empty = anyone; admins always)? */
  mayCreateRooms(bareJid: string): boolean {
    return this.#creators.size === 0 || this.#creators.has(bareJid) || this.#admins.has(bareJid);
  }

  /** Total occupants over all rooms. */
  occupantCount(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.size;
    return n;
  }

  /** The room with this JID (any case; prepared like the router does), if it exists. */
  getRoom(jid: string | Jid): Room | undefined {
    const parsed = typeof jid === 'string' ? Jid.tryParse(jid) : jid;
    return parsed ? this.rooms.get(parsed.bare) : undefined;
  }

  /** Snapshot of a room's occupants ([] if there is no such room). */
  occupants(roomJid: string | Jid): OccupantInfo[] {
    return this.getRoom(roomJid)?.occupantList() ?? [];
  }

  /** Destroy a room (XEP-0045 §10.9) as the server; false if it does not exist. */
  destroyRoom(roomJid: string | Jid, reason?: string): boolean {
    const room = this.getRoom(roomJid);
    if (!room) return false;
    room.destroy({ reason });
    return true;
  }

  /**
   * Run a batch of deliveries. In-process sessions (the focus) receive synchronously and may act on a stanza while a
   * fan-out loop is still running; deliveries caused by that reaction are deferred until the current batch is done,
   * so every recipient sees the room's stanzas in the order the room produced them. State changes are not deferred.
   */
  dispatch(batch: () => void): void {
    if (this.#dispatching) {
      this.#deferred.push(batch);
      return;
    }
    this.#dispatching = true;
    try {
      batch();
      // Deferred batches may defer more; the array grows while it is drained.
      for (let i = 0; i < this.#deferred.length; i++) {
        try {
          (this.#deferred[i] as () => void)();
        } catch (err) {
          this.log.error({ err }, 'deferred muc delivery failed');
        }
      }
    } finally {
      this.#deferred.length = 0;
      this.#dispatching = false;
    }
  }

  /** @internal Called by Room when its creating join is admitted. */
  registerRoom(room: Room): void {
    this.rooms.set(room.jid.bare, room);
    this.log.debug({ room: room.jid.bare }, 'room created');
    room.emit('muc-room-created', { room });
  }

  /** @internal Called by Room when it is dropped. */
  unregisterRoom(room: Room): void {
    if (this.rooms.get(room.jid.bare) === room) this.rooms.delete(room.jid.bare);
    this.iqProxy.forgetRoom(room);
  }

  // ---------------------------------------------------------------- routing

  /** @internal Install the host hooks. */
  install(): void {
    const bus = this.host.bus;
    bus.on('presence/full', (e) => this.#presenceFull(e));
    bus.on('presence/bare', (e) => this.#presenceBare(e));
    bus.on('message/bare', (e) => this.#messageBare(e));
    bus.on('message/full', (e) => this.#messageFull(e));
    bus.on('iq/full', (e) => this.#iqFull(e));
    bus.on('iq/bare', (e) => this.#iqBare(e));

    this.host.iq('get', 'bare', NS_DISCO_INFO, 'query', (e) => {
      const room = this.#room(e);
      if (child(e.stanza, 'query')?.attrs.node) throw new StanzaError('item-not-found');
      return room.discoInfo();
    });
    this.host.iq('get', 'bare', NS_DISCO_ITEMS, 'query', (e) => {
      this.#room(e);
      // Occupant lists are not published through disco (XEP-0045 §6.5 allows an empty list).
      return xml('query', { xmlns: NS_DISCO_ITEMS });
    });
    // Ping to the room: answered for occupants only (XEP-0410 §3 semantics for the room JID).
    this.host.iq('get', 'bare', NS_PING, 'ping', (e) => {
      const room = this.#room(e);
      if (!room.getOccupantByRealJid(e.from.full)) throw new StanzaError('not-acceptable');
      return true;
    });
    // The service's disco#items lists public rooms (XEP-0045 §6.3). Above the generic (empty) handler.
    this.host.iq('get', 'host', NS_DISCO_ITEMS, 'query', (e) => {
      if (child(e.stanza, 'query')?.attrs.node) throw new StanzaError('item-not-found');
      const q = xml('query', { xmlns: NS_DISCO_ITEMS });
      for (const room of this.rooms.values()) {
        if (room.config.public) q.cnode(xml('item', { jid: room.jid.bare, name: room.config.name || room.jid.local }));
      }
      return q;
    }, 10);
  }

  /** The addressed room, or item-not-found. */
  #room(e: StanzaEvent): Room {
    const room = this.rooms.get(e.to.bare);
    if (!room) throw new StanzaError('item-not-found');
    return room;
  }

  #presenceFull(e: StanzaEvent): true {
    const { stanza, from, to } = e;
    const type = stanza.attrs.type;
    const room = this.rooms.get(to.bare);
    if (type === 'error') {
      // An occupant whose client bounces errors is removed (XEP-0045 §7.14 status 333, as Prosody does).
      const occupant = room?.getOccupantByRealJid(from.full);
      if (room && occupant) room.leave(occupant, { reason: 'error', codes: ['333'] });
      return true;
    }
    if (type === 'unavailable') {
      const occupant = room?.getOccupantByRealJid(from.full);
      if (room && occupant) {
        const status = stanza.getChildren('status').filter((s) => s.attrs.xmlns === undefined || s.attrs.xmlns === NS_CLIENT);
        room.leave(occupant, { reason: e.origin ? 'left' : 'disconnected', status });
      }
      return true;
    }
    if (type !== undefined) return true; // subscriptions and probes mean nothing to a room
    const mucX = child(stanza, 'x', NS_MUC);
    try {
      if (!room) {
        this.#create(e, mucX);
        return true;
      }
      const occupant = room.getOccupantByRealJid(from.full);
      if (!occupant) room.join({ origin: e.origin, stanza, mucX, realJid: from, occupantJid: to, creating: false });
      else if (occupant.nick === to.resource) room.updatePresence(occupant, stanza, mucX);
      else room.changeNick(occupant, to, stanza);
    } catch (err) {
      if (!(err instanceof StanzaError)) throw err;
      this.#presenceError(e, err);
    }
    return true;
  }

  /** The first available presence to a room that does not exist: create it (instant, unlocked) and join. */
  #create(e: StanzaEvent, mucX: Element | undefined): void {
    const { from, to, stanza } = e;
    if (to.local.length > this.server.config.muc.maxRoomNameLength) throw new StanzaError('not-acceptable', { text: 'Room name too long' });
    if (!this.mayCreateRooms(from.bare)) throw new StanzaError('not-allowed', { type: 'cancel', text: 'Room creation is restricted' });
    const room = new Room(this, to.toBare());
    room.fire('muc-room-pre-create', { room, creator: from, stanza });
    // XEP-0045 §10.1: the creator is the room's owner.
    room.initAffiliation(from.bare, 'owner');
    room.join({ origin: e.origin, stanza, mucX, realJid: from, occupantJid: to, creating: true });
  }

  /** `<presence type="error" from="room/nick">` to the client (§7.2: the error comes from the occupant JID tried). */
  #presenceError(e: StanzaEvent, err: StanzaError): void {
    this.server.sessions.get(e.from.full)?.directedPresence.delete(e.to.full);
    if (!e.origin) return;
    e.origin.deliver(
      xml('presence', { xmlns: NS_CLIENT, type: 'error', id: e.stanza.attrs.id, from: e.to.full, to: e.from.full }, xml('x', { xmlns: NS_MUC }), err.toElement()),
    );
  }

  #presenceBare(e: StanzaEvent): true {
    const type = e.stanza.attrs.type;
    // §7.2.1: joining needs a nick; a presence to the bare room JID is malformed.
    if (type === undefined) this.#presenceError(e, new StanzaError('jid-malformed', { text: 'A nickname is required' }));
    return true;
  }

  #messageBare(e: StanzaEvent): true {
    const { stanza, from } = e;
    const type = stanza.attrs.type ?? 'normal';
    if (type === 'error') return true;
    const room = this.#room(e);
    const occupant = room.getOccupantByRealJid(from.full);
    if (type === 'groupchat') {
      if (!occupant) throw new StanzaError('not-acceptable', { text: 'Only occupants may send messages to the room' });
      room.groupchat(occupant, stanza);
      return true;
    }
    // Mediated invitations (§7.8.2): <x xmlns=muc#user><invite to=…/></x>.
    const x = child(stanza, 'x', NS_MUC_USER);
    const invites = x ? x.getChildren('invite') : [];
    if (invites.length === 0) throw new StanzaError(occupant ? 'bad-request' : 'not-acceptable');
    for (const invite of invites) {
      const invitee = Jid.tryParse(invite.attrs.to);
      if (!invitee) throw new StanzaError('jid-malformed');
      if (room.fire('muc-invite', { room, occupant, from, stanza, invite, invitee }) === undefined) throw new StanzaError('feature-not-implemented');
    }
    return true;
  }

  #messageFull(e: StanzaEvent): true {
    const { stanza, from, to } = e;
    if (stanza.attrs.type === 'error') return true;
    const room = this.#room(e);
    const sender = room.getOccupantByRealJid(from.full);
    if (!sender) throw new StanzaError('not-acceptable', { text: 'Only occupants may send private messages' });
    room.privateMessage(sender, to.resource, stanza);
    return true;
  }

  #iqFull(e: StanzaEvent): true {
    const type = e.stanza.attrs.type;
    if (type === 'result' || type === 'error') {
      this.iqProxy.response(e.stanza, e.from, e.to);
      return true;
    }
    this.iqProxy.request(e, this.#room(e));
    return true;
  }

  #iqBare(e: StanzaEvent): true {
    const type = e.stanza.attrs.type;
    if (type === 'result' || type === 'error') return true; // rooms send no requests
    this.#room(e);
    throw new StanzaError('service-unavailable');
  }
}

/** Load the MUC on its service host; server.ts calls this once. */
export function loadMuc(server: XmppServer, host: Host): MucService {
  host.identities.push({ category: 'conference', type: 'text', name: 'Conferences' });
  host.features.add(NS_MUC);
  loadDisco(server, host);
  loadBasics(server, host);
  const muc = new MucService(server, host);
  muc.install();
  loadAuthChecks(muc);
  loadPublic(muc);
  loadMembersOnly(muc);
  loadModerated(muc);
  loadPassword(muc);
  loadMaxOccupants(muc);
  loadSubject(muc);
  loadHistory(muc);
  loadMeetingId(muc);
  loadInvite(muc);
  loadOwner(muc);
  loadAdmin(muc);
  return muc;
}
