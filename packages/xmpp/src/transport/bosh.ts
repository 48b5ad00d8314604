/**
 * BOSH (XEP-0124 / XEP-0206). Placeholder: implemented in a follow-up commit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConnectionInfo, XmppServer } from '../server.js';

export class BoshManager {
  readonly #server: XmppServer;
  constructor(server: XmppServer) {
    this.#server = server;
  }
  handle(_req: IncomingMessage, res: ServerResponse, _info: ConnectionInfo): void {
    void this.#server;
    res.statusCode = 501;
    res.end();
  }
  stop(): void {}
}
