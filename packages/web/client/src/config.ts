/**
 * What the page knows about the server: `window.config` from `/config.js` (the same file Jitsi Meet reads, PROTOCOL
 * §1.3) and the settings the server writes into the page's `<meta name="jitsi-one:…">` elements.
 */

/** The parts of `/config.js` this client uses. */
export interface ClientConfig {
  /** `anonymousdomain`: the guests' domain (secure domain / JWT with guests), where clients without a token log in. */
  hosts: { domain: string; muc: string; focus?: string; anonymousdomain?: string };
  /** `ws:`/`wss:` URL of XMPP over WebSocket. */
  websocket?: string;
  /** BOSH URL (`/http-bind`): the transport when the WebSocket cannot be opened. */
  bosh?: string;
  /** Peer-to-peer for two (LJM `config.p2p`, PROTOCOL §1.3, §8). */
  p2p?: {
    /** Default true (LJM treats a missing `p2p` as enabled). */
    enabled?: boolean;
    /** ICE servers of the P2P connection: the server's own STUN by default. */
    stunServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
    iceTransportPolicy?: RTCIceTransportPolicy;
    /** Seconds to wait before going back to P2P after a participant left (LJM default 5). */
    backToP2PDelay?: number;
  };
  /** LJM's test switches: take the P2P initiator or responder role whatever the endpoint ids say. */
  testing?: { forceInitiator?: boolean; forceResponder?: boolean };
  /** Jitsi Meet's "do not keep this room in the recent list" (the server's `web.recentRooms: false`). */
  doNotStoreRoom?: boolean;
  /** Videos the bridge forwards to us, most recent speakers first; -1 = all (Jitsi Meet's `channelLastN`). */
  channelLastN?: number;
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

/** `config.channelLastN` as an integer ≥ -1 (default -1: every video). */
export function channelLastN(c: ClientConfig): number {
  const n = Number(c.channelLastN ?? -1);
  return Number.isInteger(n) && n >= -1 ? n : -1;
}

/** `config.p2p` as the conference uses it (LJM defaults: enabled, 5 s back-to-P2P delay). */
export function p2pOptions(c: ClientConfig): {
  enabled: boolean;
  iceServers: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
  backToP2PDelayMs: number;
  force?: 'initiator' | 'responder';
} {
  const p = c.p2p ?? {};
  const delay = Number(p.backToP2PDelay ?? 5);
  return {
    enabled: p.enabled !== false,
    iceServers: (p.stunServers ?? []).filter((s) => s !== null && typeof s === 'object' && s.urls !== undefined),
    ...(p.iceTransportPolicy === 'relay' || p.iceTransportPolicy === 'all' ? { iceTransportPolicy: p.iceTransportPolicy } : {}),
    backToP2PDelayMs: Number.isFinite(delay) && delay >= 0 ? delay * 1000 : 5000,
    ...(c.testing?.forceInitiator === true ? { force: 'initiator' as const } : c.testing?.forceResponder === true ? { force: 'responder' as const } : {}),
  };
}

/** A numeric `<meta name="jitsi-one:NAME" content="N">`, or `fallback`. */
export function metaNumber(name: string, fallback: number): number {
  const v = Number(document.querySelector<HTMLMetaElement>(`meta[name="jitsi-one:${name}"]`)?.content);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
