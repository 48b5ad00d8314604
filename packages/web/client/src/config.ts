/**
 * What the page knows about the server: `window.config` from `/config.js` (the same file Jitsi Meet reads, PROTOCOL
 * §1.3) and the settings the server writes into the page's `<meta name="jitsi-one:…">` elements.
 */

/** The parts of `/config.js` this client uses. */
export interface ClientConfig {
  hosts: { domain: string; muc: string; focus?: string };
  /** `ws:`/`wss:` URL of XMPP over WebSocket. */
  websocket?: string;
  /** BOSH URL (TODO(#6): fallback transport). */
  bosh?: string;
}

declare global {
  interface Window {
    config?: ClientConfig;
  }
}

/** `window.config`, checked. */
export function readConfig(): ClientConfig {
  const c = window.config;
  if (c === undefined || typeof c.hosts?.domain !== 'string' || typeof c.hosts.muc !== 'string') {
    throw new Error('/config.js did not load');
  }
  return c;
}

/** The XMPP WebSocket URL: `config.websocket`, else `/xmpp-websocket` on this page's host. */
export function websocketUrl(c: ClientConfig): string {
  if (c.websocket !== undefined && /^wss?:/.test(c.websocket)) return c.websocket;
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/xmpp-websocket`;
}

/** A numeric `<meta name="jitsi-one:NAME" content="N">`, or `fallback`. */
export function metaNumber(name: string, fallback: number): number {
  const v = Number(document.querySelector<HTMLMetaElement>(`meta[name="jitsi-one:${name}"]`)?.content);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
