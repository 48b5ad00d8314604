/**
 * XEP-0030 service discovery for a host: identities and features from the host, items = the service domains.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0030.html
 */
import type { Host } from '../host.js';
import type { XmppServer } from '../server.js';
import { StanzaError } from '../stanza/errors.js';
import { NS_DISCO_INFO, NS_DISCO_ITEMS } from '../stanza/ns.js';
import { type Element, xml } from '../stanza/xml.js';

/** disco#info result payload for a host (identities sorted as added, features sorted). */
export function discoInfo(host: Host, node?: string): Element {
  const q = xml('query', { xmlns: NS_DISCO_INFO, node });
  for (const id of host.identities) q.cnode(xml('identity', { category: id.category, type: id.type, name: id.name }));
  for (const f of [...host.features].sort()) q.cnode(xml('feature', { var: f }));
  return q;
}

export function loadDisco(server: XmppServer, host: Host): void {
  host.features.add(NS_DISCO_ITEMS);
  host.iq('get', 'host', NS_DISCO_INFO, 'query', (e) => {
    const node = (e.stanza.getChild('query')?.attrs.node as string | undefined) ?? undefined;
    if (node) throw new StanzaError('item-not-found');
    return discoInfo(host);
  });
  host.iq('get', 'host', NS_DISCO_ITEMS, 'query', () => {
    const q = xml('query', { xmlns: NS_DISCO_ITEMS });
    if (host.kind === 'user') {
      for (const h of server.hosts.values()) if (h.kind !== 'user') q.cnode(xml('item', { jid: h.domain }));
    }
    return q;
  });
  if (host.kind === 'user') {
    // disco#info on an account: answered by the server on the user's behalf (XEP-0030 §3.1), only while online.
    host.iq('get', 'bare', NS_DISCO_INFO, 'query', (e) => {
      if (!server.sessionsByBare.has(e.to.bare)) throw new StanzaError('service-unavailable');
      return xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'account', type: host.anonymous ? 'anonymous' : 'registered' }));
    });
    host.iq('get', 'bare', NS_DISCO_ITEMS, 'query', (e) => {
      if (!server.sessionsByBare.has(e.to.bare)) throw new StanzaError('service-unavailable');
      return xml('query', { xmlns: NS_DISCO_ITEMS });
    });
  }
}
