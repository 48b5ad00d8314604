/**
 * XEP-0045 multi-user chat service. Placeholder: implemented in a follow-up commit.
 */
import type { Host } from '../host.js';
import type { XmppServer } from '../server.js';
import { loadBasics } from '../modules/basics.js';
import { loadDisco } from '../modules/disco.js';

export class MucService {
  readonly rooms = new Map<string, unknown>();
  occupantCount(): number {
    return 0;
  }
}

export function loadMuc(server: XmppServer, host: Host): MucService {
  host.identities.push({ category: 'conference', type: 'text', name: 'Conferences' });
  loadDisco(server, host);
  loadBasics(server, host);
  return new MucService();
}
