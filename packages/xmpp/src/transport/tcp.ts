/**
 * TCP listeners: c2s (RFC 6120 with STARTTLS) and XEP-0114 components. Placeholder: implemented in a follow-up.
 */
import type { XmppServer } from '../server.js';

export class TcpListeners {
  readonly #server: XmppServer;
  constructor(server: XmppServer) {
    this.#server = server;
  }
  get c2sPort(): number | undefined {
    return undefined;
  }
  get componentPort(): number | undefined {
    return undefined;
  }
  async start(): Promise<void> {
    void this.#server;
  }
  async stop(): Promise<void> {}
}
