/**
 * Small IQ services every host answers: XEP-0199 ping, XEP-0092 version, XEP-0202 time; and on user hosts an
 * empty in-memory roster (RFC 6121 §2) and XEP-0215 external services (STUN/TURN from config).
 *
 * References:
 * - https://xmpp.org/extensions/xep-0199.html, https://xmpp.org/extensions/xep-0092.html,
 *   https://xmpp.org/extensions/xep-0202.html, https://xmpp.org/extensions/xep-0215.html
 */
import type { Host } from '../host.js';
import type { XmppServer } from '../server.js';
import { StanzaError } from '../stanza/errors.js';
import { NS_EXTDISCO_1, NS_EXTDISCO_2, NS_PING, NS_ROSTER, NS_TIME, NS_VERSION } from '../stanza/ns.js';
import { xml } from '../stanza/xml.js';

export const SERVER_NAME = 'jitsi-one';
export const SERVER_VERSION = '0.1.0';

export function loadPing(host: Host): void {
  host.features.add(NS_PING);
  host.iq('get', 'host', NS_PING, 'ping', () => true);
}

export function loadBasics(server: XmppServer, host: Host): void {
  loadPing(host);
  host.features.add(NS_VERSION);
  host.features.add(NS_TIME);
  // No operating system: we say as little as possible about the machine.
  host.iq('get', 'host', NS_VERSION, 'query', () =>
    xml('query', { xmlns: NS_VERSION }, xml('name', null, SERVER_NAME), xml('version', null, SERVER_VERSION)),
  );
  host.iq('get', 'host', NS_TIME, 'time', () =>
    xml('time', { xmlns: NS_TIME }, xml('tzo', null, 'Z'), xml('utc', null, new Date(server.now()).toISOString().replace(/\.\d+Z$/, 'Z'))),
  );
  if (host.kind !== 'user') return;

  host.iq('get', 'bare', NS_ROSTER, 'query', (e) => {
    if (e.to.bare !== e.from.bare) throw new StanzaError('forbidden');
    return xml('query', { xmlns: NS_ROSTER });
  });
  host.iq('set', 'bare', NS_ROSTER, 'query', (e) => {
    if (e.to.bare !== e.from.bare) throw new StanzaError('forbidden');
    throw new StanzaError('not-allowed', { text: 'rosters are not stored on this server' });
  });
  // Ping to one's own account is answered by the server (RFC 6120 §10.3.3 semantics for IQ to a bare JID).
  host.iq('get', 'bare', NS_PING, 'ping', (e) => {
    if (e.to.bare !== e.from.bare) throw new StanzaError('service-unavailable');
    return true;
  });

  const services = (ns: string) => () => {
    const s = xml('services', { xmlns: ns });
    for (const svc of server.config.externalServices) {
      s.cnode(
        xml('service', {
          type: svc.type,
          host: svc.host,
          port: svc.port,
          transport: svc.transport,
          username: svc.username,
          password: svc.password,
        }),
      );
    }
    return s;
  };
  host.features.add(NS_EXTDISCO_2);
  host.iq('get', 'host', NS_EXTDISCO_2, 'services', services(NS_EXTDISCO_2));
  host.iq('get', 'host', NS_EXTDISCO_1, 'services', services(NS_EXTDISCO_1));
}
