/**
 * IQs between occupants (PROTOCOL.md §3.3.5; XEP-0045 §7.5 applied to IQs, as Prosody does). This path carries every
 * Jingle, focus disco#info and mute IQ, so it does one map insert and one serialization per request.
 *
 * A get/set from occupant A to room/B goes to B's real JID with `from` = room/A and a fresh random `id` (96 bits from
 * a pooled CSPRNG buffer: B cannot guess ids of requests sent to others). B's result/error addressed to room/A with
 * that id goes to A's real JID with `from` = room/B and A's original id. The answer is only accepted from B's real
 * JID and to room/A; anything else is dropped. Unanswered entries expire after `PENDING_TTL_MS`.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#privatemessage (occupant-to-occupant routing)
 * - https://www.rfc-editor.org/rfc/rfc6120#section-8.2.3 (IQ semantics)
 */
import { randomBytes } from 'node:crypto';
import type { StanzaEvent } from '../host.js';
import type { Origin } from '../session.js';
import { StanzaError } from '../stanza/errors.js';
import { Jid } from '../stanza/jid.js';
import { NS_PING } from '../stanza/ns.js';
import { type Element, elements, xml } from '../stanza/xml.js';
import type { MucService } from './index.js';
import type { Occupant } from './occupant.js';
import type { Room } from './room.js';

/** How long a forwarded IQ waits for its answer before its routing entry is forgotten. */
export const PENDING_TTL_MS = 120_000;
/** Most outstanding forwarded IQs; beyond this the oldest are forgotten first. */
export const MAX_PENDING = 100_000;

interface Pending {
  /** The requester's original id. */
  id: string;
  room: Room;
  /** Requester's real full JID and occupant JID. */
  from: string;
  fromOccupant: string;
  /** Responder's real full JID and occupant JID (at request time). */
  to: string;
  toOccupant: string;
  at: number;
}

const POOL_SIZE = 4096;
const ID_BYTES = 12;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** 96-bit random id, base64url (16 chars). */
function randomId(): string {
  if (poolOffset + ID_BYTES > pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const id = pool.toString('base64url', poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return id;
}

export class IqProxy {
  readonly #muc: MucService;
  readonly #pending = new Map<string, Pending>();
  /** Gets the router's error bounce when a forwarded request cannot be delivered (target gone, remote failure). */
  readonly #bounce: Origin = {
    type: 'component',
    deliver: (reply: Element) => {
      const from = Jid.tryParse(reply.attrs.from);
      const to = Jid.tryParse(reply.attrs.to);
      if (from && to) this.response(reply, from, to);
    },
  };

  constructor(muc: MucService) {
    this.#muc = muc;
  }

  /** Outstanding forwarded requests (introspection). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** A get/set to an occupant JID. Throws StanzaError for the router to answer. */
  request(e: StanzaEvent, room: Room): void {
    const stanza = e.stanza;
    const sender = room.getOccupantByRealJid(e.from.full);
    if (!sender) throw new StanzaError('not-acceptable', { text: 'Only occupants may send IQs to occupants' });
    const target = room.getOccupant(e.to.resource);
    if (!target) throw new StanzaError('item-not-found');
    if (target === sender && isPing(stanza)) {
      // XEP-0410 self-ping: answered by the service while the client is joined.
      this.#send(xml('iq', { type: 'result', id: stanza.attrs.id, from: sender.jid.full, to: sender.realJid.full }), sender, room);
      return;
    }
    const now = this.#muc.server.now();
    this.#expire(now);
    const id = randomId();
    this.#pending.set(id, {
      id: stanza.attrs.id as string,
      room,
      from: sender.realJid.full,
      fromOccupant: sender.jid.full,
      to: target.realJid.full,
      toOccupant: target.jid.full,
      at: now,
    });
    // The incoming element is ours now (the router is done with it): rewrite in place, no copy.
    stanza.attrs.id = id;
    stanza.attrs.from = sender.jid.full;
    stanza.attrs.to = target.realJid.full;
    this.#send(stanza, target, room);
  }

  /** A result/error addressed to an occupant JID (`to`), from `from`. Unknown or forged answers are dropped. */
  response(stanza: Element, from: Jid, to: Jid): void {
    const key = stanza.attrs.id;
    const p = key === undefined ? undefined : this.#pending.get(key);
    if (!p || p.to !== from.full || p.fromOccupant !== to.full || key === undefined) return;
    this.#pending.delete(key);
    const room = p.room;
    if (room.destroyed) return;
    const requester = room.getOccupantByRealJid(p.from);
    if (!requester) return;
    const responder = room.getOccupantByRealJid(p.to);
    stanza.attrs.id = p.id;
    stanza.attrs.from = responder ? responder.jid.full : p.toOccupant;
    stanza.attrs.to = p.from;
    this.#send(stanza, requester, room);
  }

  /** Forget all entries of a room (it was destroyed). */
  forgetRoom(room: Room): void {
    for (const [k, p] of this.#pending) if (p.room === room) this.#pending.delete(k);
  }

  #send(stanza: Element, to: Occupant, room: Room): void {
    this.#muc.dispatch(() => {
      const server = this.#muc.server;
      const session = server.sessions.get(to.realJid.full);
      if (session) {
        server.counters.stanzasOut++;
        session.deliver(stanza);
        return;
      }
      server.route(stanza.attrs.type === 'get' || stanza.attrs.type === 'set' ? this.#bounce : undefined, stanza, room.jid);
    });
  }

  /** Drop expired entries (oldest first: the map is in insertion order) and cap the table. */
  #expire(now: number): void {
    const cutoff = now - PENDING_TTL_MS;
    for (const [k, p] of this.#pending) {
      if (p.at > cutoff && this.#pending.size < MAX_PENDING) break;
      this.#pending.delete(k);
    }
  }
}

function isPing(stanza: Element): boolean {
  const payload = elements(stanza)[0];
  return stanza.attrs.type === 'get' && payload?.name === 'ping' && payload.attrs.xmlns === NS_PING;
}
