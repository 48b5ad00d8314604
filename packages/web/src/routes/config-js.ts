/**
 * `GET /config.js`: the Jitsi Meet app config (`var config = {...}`), built per request because the WebSocket URL
 * must name the host the browser used.
 *
 * References:
 * - /work/shared/PROTOCOL.md §1.2–1.3 (hosts.*, websocket/bosh selection: WebSocket only for ws:/wss: URLs)
 * - https://github.com/jitsi/jitsi-meet/blob/master/config.js
 */
import type { XmppDomains } from '@jitsi-one/xmpp';

/** What the browser reached us as: scheme and `Host` (with port), after proxy headers were applied. */
export interface RequestOrigin {
  secure: boolean;
  host: string;
}

/** A `Host` header we are willing to echo into JavaScript: a DNS name, IPv4 or bracketed IPv6, optional port. */
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::\d{1,5})?$/;

export function isValidHost(host: string): boolean {
  return HOST_RE.test(host);
}

/** A STUN/TURN server as WebRTC's `RTCIceServer` takes it. */
export interface IceServer {
  urls: string;
}

/** What `/config.js` says beyond hosts and URLs; all fixed at start-up. */
export interface ClientConfigOptions {
  /** `p2p.enabled`: two participants connect directly (config `web.p2p.enabled`). Default true. */
  p2pEnabled?: boolean;
  /** `p2p.backToP2PDelay` in seconds (config `web.p2p.backToP2PDelay`). Default 5, as lib-jitsi-meet. */
  backToP2PDelay?: number;
  /**
   * `p2p.stunServers`: our embedded STUN server, or the operator's STUN servers from `xmpp.externalServices`.
   * Default none; never a third-party default.
   */
  stunServers?: readonly IceServer[];
  /** `enableWebsocketResume`: the XMPP server implements XEP-0198 resumption (`xmpp.streamManagement`). */
  websocketResume?: boolean;
  /**
   * `flags.ssrcRewritingEnabled`: only when the focus and bridge offer SSRC rewriting. They do not (yet), so the
   * default false is the safe answer.
   */
  ssrcRewriting?: boolean;
  /**
   * `videoQuality.codecPreferenceOrder` (and its mobile twin): the video codecs the focus offers for the bridge
   * connection, e.g. `['VP8']`. lib-jitsi-meet does not intersect its own order (AV1, VP9, VP8, H264 on desktop
   * Chrome) with the offer: told nothing, it configures a VP8 sender with AV1's scalability modes, Chrome rejects
   * those encodings, and the failed suspend at the start of a P2P session leaves the bridge audio sender switched
   * off when P2P ends. Default `['VP8']`, what the focus offers by default. P2P (browser to browser) is unaffected.
   */
  jvbVideoCodecs?: readonly string[];
  /** Whether the client may keep recent meeting names (config `web.recentRooms`); false → `doNotStoreRoom: true`. */
  recentRooms?: boolean;
  /** `channelLastN` (config `web.channelLastN`): videos forwarded to each client, most recent speakers first; -1 all. */
  channelLastN?: number;
}

/**
 * The client config. Nothing here points at a third party: STUN servers are ours or the operator's, analytics off,
 * gravatar off. The bridge channel is the colibri WebSocket: we offer no SCTP data channel.
 */
export function buildClientConfig(
  domains: XmppDomains,
  origin: RequestOrigin,
  options: ClientConfigOptions = {},
): Record<string, unknown> {
  const jvbCodecs = options.jvbVideoCodecs ?? ['VP8'];
  return {
    hosts: {
      domain: domains.domain,
      muc: domains.mucDomain,
      focus: domains.focusDomain,
      // Secure domain / JWT with guests: lib-jitsi-meet logs in anonymously here (PROTOCOL.md §1.3, §2.3).
      ...(domains.guestDomain !== undefined ? { anonymousdomain: domains.guestDomain } : {}),
    },
    websocket: `${origin.secure ? 'wss' : 'ws'}://${origin.host}/xmpp-websocket`,
    bosh: '/http-bind',
    enableWebsocketResume: options.websocketResume ?? false,
    p2p: {
      enabled: options.p2pEnabled ?? true,
      backToP2PDelay: options.backToP2PDelay ?? 5,
      stunServers: (options.stunServers ?? []).map((s) => ({ urls: s.urls })),
    },
    videoQuality: { codecPreferenceOrder: [...jvbCodecs], mobileCodecPreferenceOrder: [...jvbCodecs] },
    bridgeChannel: { preferSctp: false },
    flags: { ssrcRewritingEnabled: options.ssrcRewriting ?? false },
    analytics: { disabled: true },
    gravatar: { disabled: true },
    disableThirdPartyRequests: true,
    doNotStoreRoom: !(options.recentRooms ?? true),
    channelLastN: options.channelLastN ?? -1,
  };
}

export function renderConfigJs(config: Record<string, unknown>): string {
  // JSON is valid JavaScript; `<` is escaped so the text is also safe if ever inlined into a <script> element.
  const json = JSON.stringify(config, null, 2).replace(/</g, '\\u003c');
  return `var config = ${json};\n`;
}
