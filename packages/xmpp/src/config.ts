/**
 * Configuration of the XMPP server (the `xmpp` section of the app config). Every limit a client could abuse is here.
 * Defaults are embedded so that `npm start` needs no file.
 */
import { z } from 'zod';

export const accountSchema = z.object({
  /** Bare JID of the account, e.g. `alice@auth.meet.jitsi`. Its domain must be one of the hosts. */
  jid: z.string().min(3),
  /** Plain-text password (kept in memory only; never logged). */
  password: z.string().min(1),
});

export const hostSchema = z.object({
  /** The virtual host's domain. */
  domain: z.string().min(1),
  /** Offer SASL ANONYMOUS here (each login gets a fresh random JID). */
  anonymous: z.boolean().default(false),
});

export const externalServiceSchema = z.object({
  /** `stun`, `stuns`, `turn` or `turns` (XEP-0215). */
  type: z.enum(['stun', 'stuns', 'turn', 'turns']),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  transport: z.enum(['udp', 'tcp']).optional(),
  username: z.string().optional(),
  password: z.string().optional(),
});

export const limitsSchema = z.object({
  /** Largest stanza accepted, in characters; larger ones end the stream with `policy-violation`. */
  maxStanzaSize: z.number().int().min(1024).default(262_144),
  /** Deepest XML nesting inside a stanza. */
  maxXmlDepth: z.number().int().min(4).max(1000).default(32),
  /** Most attributes on one element. */
  maxAttributes: z.number().int().min(4).default(64),
  /** Sustained bytes per second read from one connection; faster senders are paused (throttled), not cut. */
  bytesPerSecond: z.number().int().min(1024).default(256 * 1024),
  /** Burst allowance of the byte rate limit. */
  burstBytes: z.number().int().min(1024).default(1024 * 1024),
  /** Simultaneous connections (WebSocket, BOSH sessions, TCP) from one client address. Counted in memory only. */
  maxConnectionsPerAddress: z.number().int().min(1).default(64),
  /** Occupants per MUC room (the focus is not counted). */
  maxOccupantsPerRoom: z.number().int().min(1).default(500),
});

export const mucSchema = z.object({
  /** Messages (with bodies) kept per room for late joiners, in memory only. 0 = no history (default). */
  historyLength: z.number().int().min(0).max(1000).default(0),
  /** Only these bare JIDs may create rooms (empty = anyone). Jitsi deployments let only the focus create rooms. */
  roomCreators: z.array(z.string()).default([]),
  /** Room name (localpart) maximum length. */
  maxRoomNameLength: z.number().int().min(1).max(1023).default(256),
  /**
   * Service admins (bare JIDs, e.g. the focus `focus@auth.meet.jitsi`): implicit owner of every room, may always
   * create rooms, bypass password, members-only and room-size checks, and are not counted against the size limits.
   */
  admins: z.array(z.string()).default([]),
});

export const boshSchema = z.object({
  /** Longest time a request is held open when there is nothing to send (seconds). */
  maxWaitSeconds: z.number().int().min(1).max(300).default(60),
  /** A session with no request for this long is ended (seconds). */
  inactivitySeconds: z.number().int().min(1).max(600).default(60),
  /** Requests the server holds at once per session. */
  maxHold: z.number().int().min(1).max(5).default(1),
  /** Largest request body, bytes. */
  maxBodyBytes: z.number().int().min(1024).default(1024 * 1024),
});

export const c2sSchema = z.object({
  /** TCP port for client-to-server streams (0 = pick a free port, null = off). */
  port: z.number().int().min(0).max(65535).nullable().default(5222),
  /** Address the c2s listener binds to. */
  host: z.string().min(1).default('0.0.0.0'),
  /** Require STARTTLS before authentication on TCP c2s. */
  requireTls: z.boolean().default(true),
});

export const componentSchema = z.object({
  /** Component domain, e.g. `jvb.meet.jitsi`. */
  domain: z.string().min(1),
  /** Shared secret (XEP-0114 handshake). */
  secret: z.string().min(1),
});

export const xmppConfigSchema = z.object({
  /** The main XMPP domain clients log into (`hosts.domain` in Jitsi's config.js). */
  domain: z.string().min(1).default('meet.jitsi'),
  /** Offer SASL ANONYMOUS on the main domain. */
  anonymous: z.boolean().default(true),
  /** Domain for service and user accounts (PLAIN). Default `auth.<domain>`. */
  authDomain: z.string().min(1).optional(),
  /** MUC service domain. Default `conference.<domain>`. */
  mucDomain: z.string().min(1).optional(),
  /** Focus component domain. Default `focus.<domain>`. */
  focusDomain: z.string().min(1).optional(),
  /** Extra virtual hosts. */
  hosts: z.array(hostSchema).default([]),
  /** Accounts for SASL PLAIN. */
  accounts: z.array(accountSchema).default([]),
  /** STUN/TURN services announced with XEP-0215. Empty by default: never Google's. */
  externalServices: z.array(externalServiceSchema).default([]),
  /** Seconds of silence from a client before the server pings it (XEP-0199 and WebSocket ping). */
  pingIntervalSeconds: z.number().min(1).default(60),
  /** Seconds to wait for any data after a ping before the session is dropped. */
  pingTimeoutSeconds: z.number().min(1).default(30),
  /** Seconds a connection may take to authenticate and bind a resource before it is closed. */
  authTimeoutSeconds: z.number().min(1).max(600).default(30),
  /** Advertise and implement XEP-0198 stream management (WebSocket and TCP). */
  streamManagement: z.boolean().default(false),
  /** Seconds a detached stream-managed session waits for resumption. */
  smResumeTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
  limits: limitsSchema.default(limitsSchema.parse({})),
  muc: mucSchema.default(mucSchema.parse({})),
  bosh: boshSchema.default(boshSchema.parse({})),
  c2s: c2sSchema.default(c2sSchema.parse({})),
  /** TCP port for XEP-0114 component connections (null = off). */
  componentPort: z.number().int().min(0).max(65535).nullable().default(null),
  /** Address the component listener binds to. Loopback by default: the XEP-0114 handshake is not encrypted. */
  componentHost: z.string().min(1).default('127.0.0.1'),
  /** Component secrets for XEP-0114. */
  components: z.array(componentSchema).default([]),
});

export type XmppConfigInput = z.input<typeof xmppConfigSchema>;
export type XmppConfig = z.output<typeof xmppConfigSchema>;

/** The resolved domain names (defaults filled in). */
export interface XmppDomains {
  domain: string;
  authDomain: string;
  mucDomain: string;
  focusDomain: string;
  /** Guest domain for anonymous logins (`hosts.anonymousdomain`), when the auth mode has guests. */
  guestDomain?: string | undefined;
}

export function resolveDomains(c: XmppConfig): XmppDomains {
  return {
    domain: c.domain,
    authDomain: c.authDomain ?? `auth.${c.domain}`,
    mucDomain: c.mucDomain ?? `conference.${c.domain}`,
    focusDomain: c.focusDomain ?? `focus.${c.domain}`,
  };
}
