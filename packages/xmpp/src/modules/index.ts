import type { Host } from '../host.js';
import type { XmppServer } from '../server.js';
import { loadBasics } from './basics.js';
import { loadDelivery } from './delivery.js';
import { loadDisco } from './disco.js';

/** Modules every user host (a domain clients log into) loads. */
export function loadCoreModules(server: XmppServer, host: Host): void {
  host.identities.push({ category: 'server', type: 'im', name: host.domain });
  loadDisco(server, host);
  loadBasics(server, host);
  loadDelivery(server, host);
}

export { discoInfo } from './disco.js';
export { loadPing, loadBasics } from './basics.js';
export { loadDisco } from './disco.js';
