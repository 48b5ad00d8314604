/**
 * Chat messages in the MUC, as lib-jitsi-meet sends and reads them. Pure (ltx elements, no DOM).
 *
 * - Group: `<message type="groupchat" to="room" id="…"><body>text</body><nick xmlns="…/nick">Alice</nick></message>`.
 *   The room reflects it to every occupant including the sender (`from="room/<sender nick>"`), and the sender shows
 *   its own line from that reflection, as LJM does (PROTOCOL §3.3.6).
 * - Private: `<message type="chat" to="room/<nick>">` with the same children, delivered to that occupant only and not
 *   reflected: the sender shows its line when it sends it.
 *
 * LJM reads only `<body>` (and the sender from `from`); the `<nick>` (XEP-0172, as Jitsi Meet used to send it) is a
 * hint for a sender whose presence is not known. Messages with a JSON payload (`<json-message>`), reactions,
 * retractions, subjects and delayed history are not chat lines here.
 *
 * References:
 * - /work/shared/PROTOCOL.md §3.3.6 (messages), §9e (chat)
 * - https://xmpp.org/extensions/xep-0045.html §7.4 (groupchat), §7.5 (private messages)
 * - https://xmpp.org/extensions/xep-0172.html (nick in messages)
 */
import { type Element, xml } from '@jitsi-one/xmpp';
import { NS_NICK } from './presence.js';

/** Longest message body sent (characters); longer input is cut. The server's stanza limit is far above. */
export const MAX_CHAT_LENGTH = 4000;

/** A chat line as the UI shows it. */
export interface ChatMessage {
  /** The message id (the stanza's `id`, or a local one). */
  id: string;
  /** Sender's endpoint id (MUC nick). */
  from: string;
  /** The sender's `<nick>`, when it sent one. */
  nick: string | undefined;
  text: string;
  /** A private message: to us, or (when `self`) from us to {@link to}. */
  private: boolean;
  /** For our own private messages: the recipient. */
  to?: string;
  /** Sent by us. */
  self: boolean;
  /** When it arrived / was sent (ms since epoch). */
  timestamp: number;
}

/** A random message id (LJM uses a UUID). */
export function messageId(): string {
  return typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
}

/** Characters XML 1.0 cannot carry (LJM strips them too: `stripXMLInvalidChars`). */
const INVALID_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Trims, drops characters XML cannot carry, and cuts at {@link MAX_CHAT_LENGTH}. */
export function cleanChatText(text: string): string {
  return [...text.replace(INVALID_XML, '').trim()].slice(0, MAX_CHAT_LENGTH).join('');
}

/** A group message to the room. */
export function buildGroupMessage(roomJid: string, text: string, nick: string, id = messageId()): Element {
  return xml('message', { to: roomJid, type: 'groupchat', id }, xml('body', null, text), nick !== '' ? xml('nick', { xmlns: NS_NICK }, nick) : undefined);
}

/** A private message to one occupant (`room/<nick>`). */
export function buildPrivateMessage(roomJid: string, toNick: string, text: string, nick: string, id = messageId()): Element {
  return xml('message', { to: `${roomJid}/${toNick}`, type: 'chat', id }, xml('body', null, text), nick !== '' ? xml('nick', { xmlns: NS_NICK }, nick) : undefined);
}

/** What a message stanza from the room means for the chat. */
export type IncomingChat =
  | { kind: 'message'; message: ChatMessage }
  /** A message bounced (e.g. a private message to someone who left): `to` the occupant it was for, if known. */
  | { kind: 'error'; to: string | undefined; text: string };

/**
 * Reads a `<message>` from `roomJid` or one of its occupants. Returns undefined for anything that is not a chat line
 * (subjects, JSON messages, reactions, retractions, room status messages, delayed history, other senders).
 */
export function parseChatMessage(stanza: Element, roomJid: string, selfNick: string, now = Date.now()): IncomingChat | undefined {
  if (stanza.name !== 'message') return undefined;
  const from = String(stanza.attrs.from ?? '');
  const type = stanza.attrs.type as string | undefined;
  if (from !== roomJid && !from.startsWith(`${roomJid}/`)) return undefined;
  if (type === 'error') {
    const err = stanza.getChild('error');
    const text = err?.getChildText('text') ?? '';
    const nick = from.startsWith(`${roomJid}/`) ? from.slice(roomJid.length + 1) : undefined;
    return { kind: 'error', to: nick, text };
  }
  if (type !== 'groupchat' && type !== 'chat') return undefined;
  if (!from.startsWith(`${roomJid}/`)) return undefined;
  if (stanza.getChild('delay', 'urn:xmpp:delay') !== undefined || stanza.getChild('x', 'jabber:x:delay') !== undefined) return undefined;
  if (stanza.getChild('json-message') !== undefined || stanza.getChild('reactions') !== undefined || stanza.getChild('retract') !== undefined) return undefined;
  const body = stanza.getChildText('body');
  if (body === null || body === '') return undefined;
  const sender = from.slice(roomJid.length + 1);
  return {
    kind: 'message',
    message: {
      id: String(stanza.attrs.id ?? '') || messageId(),
      from: sender,
      nick: stanza.getChild('nick', NS_NICK)?.getText() || undefined,
      text: body,
      private: type === 'chat',
      self: sender === selfNick,
      timestamp: now,
    },
  };
}
