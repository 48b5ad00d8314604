/**
 * Typed MUC events, named after Prosody's MUC events (plugins/muc/muc.lib.lua and the *.lib.lua room features).
 *
 * Every room event is fired first on the room's own bus (`room.events`, for observers of one room) and then, unless
 * a room handler returned a value, on the service bus (`muc.events`, where the features in `features/` and outside
 * observers such as the focus hook once for all rooms).
 *
 * Two firing disciplines:
 * - `fire` (checks and decisions: `*-pre-*`, `muc-occupant-groupchat`, `muc-config-submitted`, `muc-invite`): a handler
 *   vetoes by throwing a `StanzaError`, which becomes the error reply; returning a value stops propagation.
 * - `emit` (facts: `*-created`, `*-joined`, `*-left`, `*-destroyed`, …): handler errors are logged and do not stop the
 *   others or corrupt room state.
 *
 * References:
 * - https://prosody.im/doc/developers/util/events (handler priority and propagation semantics)
 */
import type { Logger } from 'pino';
import type { Origin } from '../session.js';
import type { Jid } from '../stanza/jid.js';
import type { Element } from '../stanza/xml.js';
import type { Affiliation, Occupant, Role } from './occupant.js';
import type { Room, RoomConfig } from './room.js';

/** Base of every room event. */
export interface RoomEvent {
  room: Room;
}

/** Fired before a room is created by a join; throw a StanzaError to refuse. */
export interface RoomPreCreateEvent extends RoomEvent {
  /** Real full JID of the creator. */
  creator: Jid;
  stanza: Element;
}

/** Fired before an occupant is admitted (once per join attempt). Throw a StanzaError to refuse. */
export interface OccupantPreJoinEvent extends RoomEvent {
  origin: Origin | undefined;
  stanza: Element;
  /** The client's `<x xmlns="http://jabber.org/protocol/muc">`. */
  mucX: Element | undefined;
  realJid: Jid;
  /** The occupant JID asked for (room/nick). */
  occupantJid: Jid;
  nick: string;
  /** The joiner's affiliation in this room (service admins: owner). */
  affiliation: Affiliation;
  /** The role the joiner will get; features may lower it (moderated rooms: visitor). */
  role: Role;
  /** Service admin: bypasses password, members-only and size limits. */
  privileged: boolean;
  /** True when this join creates the room. */
  creating: boolean;
}

/** Fired after an occupant joined and every presence was sent. */
export interface OccupantJoinedEvent extends RoomEvent {
  occupant: Occupant;
  stanza: Element;
  /** The client's `<x xmlns="http://jabber.org/protocol/muc">` (history parameters). */
  mucX: Element | undefined;
  /** True when this join created the room. */
  created: boolean;
}

/** Fired before an occupant's presence update or nick change is applied; throw a StanzaError to refuse. */
export interface OccupantPreChangeEvent extends RoomEvent {
  occupant: Occupant;
  stanza: Element;
  /** The nick after the change (equal to the current one for a plain presence update). */
  nick: string;
}

export interface OccupantEvent extends RoomEvent {
  occupant: Occupant;
}

export interface OccupantNickChangedEvent extends OccupantEvent {
  previousNick: string;
}

/** Why an occupant is no longer in the room. */
export type LeaveReason = 'left' | 'disconnected' | 'kicked' | 'banned' | 'affiliation' | 'members-only' | 'error' | 'destroyed';

export interface OccupantLeftEvent extends OccupantEvent {
  reason: LeaveReason;
  /** The muc#user status codes sent to the others (e.g. 307 for kicks). */
  codes: readonly string[];
}

/** Fired for each groupchat message from an occupant before it is broadcast. Throw a StanzaError to refuse. */
export interface GroupchatEvent extends OccupantEvent {
  /** The client's message (already carrying `from` = occupant JID, no `to`). */
  stanza: Element;
}

/** Fired after a groupchat message was broadcast. */
export interface BroadcastMessageEvent extends OccupantEvent {
  stanza: Element;
}

/** A mediated invitation (XEP-0045 §7.8.2) from `occupant` (undefined: sender not in the room). */
export interface InviteEvent extends RoomEvent {
  occupant: Occupant | undefined;
  /** Real full JID of the sender. */
  from: Jid;
  stanza: Element;
  /** The `<invite to=…>` element. */
  invite: Element;
  invitee: Jid;
}

export interface AffiliationChangedEvent extends RoomEvent {
  /** Bare JID whose affiliation changed. */
  jid: string;
  previous: Affiliation;
  affiliation: Affiliation;
  /** Real JID of whoever changed it (undefined: the server). */
  actor: Jid | undefined;
  reason: string | undefined;
}

export interface RoleChangedEvent extends OccupantEvent {
  previous: Role;
  role: Role;
  actor: Jid | undefined;
  reason: string | undefined;
}

/** Building the muc#owner configuration form: append `<field>`s to `form`. */
export interface ConfigFormEvent extends RoomEvent {
  actor: Jid;
  form: Element;
}

/**
 * An owner submitted the configuration form. Handlers read `fields` and write the `config` draft; the draft replaces
 * the room's config only if no handler threw.
 */
export interface ConfigSubmittedEvent extends RoomEvent {
  actor: Jid;
  fields: ReadonlyMap<string, readonly string[]>;
  config: RoomConfig;
}

/** The room configuration changed (after the owner form was applied). */
export interface ConfigChangedEvent extends RoomEvent {
  previous: Readonly<RoomConfig>;
  actor: Jid | undefined;
}

/** Building the room's disco#info answer. */
export interface DiscoInfoEvent extends RoomEvent {
  /** Feature vars (push). */
  features: string[];
  /** The muc#roominfo `<x xmlns="jabber:x:data" type="result">` (append fields). */
  form: Element;
}

export interface RoomDestroyedEvent extends RoomEvent {
  /** Destroyed by an owner (true) or dropped because the last occupant left (false). */
  explicit: boolean;
  reason: string | undefined;
}

/** Every MUC event and its payload. */
export interface MucEventMap {
  'muc-room-pre-create': RoomPreCreateEvent;
  'muc-room-created': RoomEvent;
  'muc-occupant-pre-join': OccupantPreJoinEvent;
  'muc-occupant-joined': OccupantJoinedEvent;
  /** After `muc-occupant-joined`, to send the joined session history and subject. */
  'muc-occupant-session-new': OccupantJoinedEvent;
  'muc-occupant-pre-change': OccupantPreChangeEvent;
  /** The occupant's presence payload was replaced and broadcast. */
  'muc-occupant-updated': OccupantEvent;
  'muc-occupant-nick-changed': OccupantNickChangedEvent;
  'muc-occupant-left': OccupantLeftEvent;
  'muc-occupant-groupchat': GroupchatEvent;
  'muc-broadcast-message': BroadcastMessageEvent;
  'muc-invite': InviteEvent;
  'muc-set-affiliation': AffiliationChangedEvent;
  'muc-set-role': RoleChangedEvent;
  'muc-config-form': ConfigFormEvent;
  'muc-config-submitted': ConfigSubmittedEvent;
  'muc-config-changed': ConfigChangedEvent;
  'muc-disco#info': DiscoInfoEvent;
  'muc-room-destroyed': RoomDestroyedEvent;
}

export type MucEventName = keyof MucEventMap;

interface Entry {
  handler: (event: never) => unknown;
  priority: number;
}

/** A typed hook bus: higher priority runs first; the first handler returning non-undefined stops propagation. */
export class EventBus<M extends object> {
  readonly #handlers = new Map<keyof M, Entry[]>();

  /** Register a handler; returns a function that removes it. */
  on<K extends keyof M>(name: K, handler: (event: M[K]) => unknown, priority = 0): () => void {
    const list = this.#handlers.get(name) ?? [];
    const entry: Entry = { handler: handler as (event: never) => unknown, priority };
    let i = 0;
    while (i < list.length && (list[i] as Entry).priority >= priority) i++;
    list.splice(i, 0, entry);
    this.#handlers.set(name, list);
    return () => {
      const l = this.#handlers.get(name);
      const idx = l ? l.indexOf(entry) : -1;
      if (!l || idx === -1) return;
      l.splice(idx, 1);
      if (l.length === 0) this.#handlers.delete(name);
    };
  }

  has(name: keyof M): boolean {
    return this.#handlers.has(name);
  }

  /** Run the handlers; exceptions propagate (vetoes). Returns the first non-undefined result. */
  fire<K extends keyof M>(name: K, event: M[K]): unknown {
    const list = this.#handlers.get(name);
    if (!list) return undefined;
    for (const entry of list.length === 1 ? list : list.slice()) {
      const r = (entry.handler as (e: M[K]) => unknown)(event);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Run the handlers, logging (not propagating) their errors. Returns the first non-undefined result. */
  emit<K extends keyof M>(name: K, event: M[K], log: Logger): unknown {
    const list = this.#handlers.get(name);
    if (!list) return undefined;
    for (const entry of list.length === 1 ? list : list.slice()) {
      try {
        const r = (entry.handler as (e: M[K]) => unknown)(event);
        if (r !== undefined) return r;
      } catch (err) {
        log.error({ err, event: String(name) }, 'muc event handler failed');
      }
    }
    return undefined;
  }
}

/** The MUC event bus (service-wide or per room). */
export class MucEvents extends EventBus<MucEventMap> {}
