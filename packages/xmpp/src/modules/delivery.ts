/**
 * Delivery of stanzas addressed to local user accounts (RFC 6121 §8.5): full JIDs go to that session, bare JIDs
 * to the account's available resources. Rosters are empty and in memory, so subscription requests are dropped.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc6121#section-8.5.2 (bare JID), §8.5.3 (full JID)
 */
import type { Host, StanzaEvent } from '../host.js';
import type { XmppServer } from '../server.js';
import type { Session } from '../session.js';
import { StanzaError } from '../stanza/errors.js';

export function loadDelivery(server: XmppServer, host: Host): void {
  const available = (bare: string): Session[] => {
    const out: Session[] = [];
    for (const s of server.sessionsByBare.get(bare) ?? []) if (s.presence && s.priority >= 0) out.push(s);
    return out;
  };

  const toSession = (e: StanzaEvent): boolean => {
    const s = server.sessions.get(e.to.full);
    if (!s) return false;
    server.counters.stanzasOut++;
    s.deliver(e.stanza);
    return true;
  };

  const messageToBare = (e: StanzaEvent): true | undefined => {
    const type = e.stanza.attrs.type ?? 'normal';
    let targets = available(e.to.bare);
    if (targets.length === 0) return undefined; // → service-unavailable for chat/normal, dropped otherwise
    if (type === 'chat' || type === 'normal') {
      const top = Math.max(...targets.map((s) => s.priority));
      targets = targets.filter((s) => s.priority === top);
    }
    for (const s of targets) {
      server.counters.stanzasOut++;
      s.deliver(e.stanza);
    }
    return true;
  };

  host.bus.on('message/full', (e) => {
    if (toSession(e)) return true;
    const type = e.stanza.attrs.type ?? 'normal';
    if (type === 'groupchat') throw new StanzaError('service-unavailable');
    if (type === 'headline' || type === 'error') return true;
    return messageToBare(e);
  }, -100);
  host.bus.on('message/bare', messageToBare, -100);

  host.bus.on('presence/full', (e) => {
    toSession(e);
    return true;
  }, -100);
  host.bus.on('presence/bare', (e) => {
    const type = e.stanza.attrs.type;
    if (type === undefined || type === 'unavailable') {
      for (const s of available(e.to.bare)) {
        server.counters.stanzasOut++;
        s.deliver(e.stanza);
      }
    }
    // subscribe/subscribed/unsubscribe/unsubscribed/probe: no persistent rosters, nothing to do.
    return true;
  }, -100);

  host.bus.on('iq/full', (e) => {
    if (toSession(e)) return true;
    const type = e.stanza.attrs.type;
    if (type === 'result' || type === 'error') return true;
    throw new StanzaError('service-unavailable');
  }, -100);
}
