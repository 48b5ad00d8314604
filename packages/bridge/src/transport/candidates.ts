/**
 * The bridge's ICE candidates: which addresses to advertise for the one UDP port, and their
 * foundation, priority and type, in the shape the focus copies into Jingle `<candidate/>`
 * (PROTOCOL.md §4.3.3). Every bridge candidate must be in the first offer: the client ignores later
 * bridge candidates.
 *
 * References:
 * - RFC 8445 §5.1.1.3 (foundations: same type, base IP and protocol → same foundation),
 *   §5.1.2.1 (priority = 2^24·type preference + 2^8·local preference + (256 − component);
 *   type preferences host 126, peer-reflexive 110, server-reflexive 100, relayed 0; distinct local
 *   preferences for a multihomed host), §6.1.2.3 (pair priority):
 *   https://www.rfc-editor.org/rfc/rfc8445#section-5.1.2.1
 * - XEP-0176 §5 (Jingle ICE-UDP candidate attributes): https://xmpp.org/extensions/xep-0176.html
 */
import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';

/** Candidate type preferences (RFC 8445 §5.1.2.2 recommended values). */
export const CANDIDATE_TYPE_PREFERENCE = { host: 126, prflx: 110, srflx: 100, relay: 0 } as const;

/** Candidate types. The bridge advertises only `host` and `srflx`. */
export type CandidateType = keyof typeof CANDIDATE_TYPE_PREFERENCE;

/** Highest local preference (RFC 8445 §5.1.2.1: 0–65535). */
export const MAX_LOCAL_PREFERENCE = 65535;

/**
 * One ICE candidate, in the attribute shape of a Jingle ICE-UDP `<candidate/>` (XEP-0176) and of an
 * SDP `a=candidate` line. `id` and `network` are ignored by lib-jitsi-meet.
 */
export interface Candidate {
  /** Foundation (RFC 8445 §5.1.1.3). */
  foundation: string;
  /** Component id; always 1 (RTP, rtcp-mux). */
  component: number;
  /** Transport protocol. */
  protocol: 'udp';
  /** Priority (RFC 8445 §5.1.2). */
  priority: number;
  /** IP address (IPv4 text). */
  ip: string;
  /** UDP port. */
  port: number;
  /** Candidate type. */
  type: CandidateType;
  /** ICE generation; always 0 (no ICE restart). */
  generation: number;
  /** Network id (Jingle `network`, ignored by clients). */
  network: number;
  /** Candidate id (Jingle `id`, unique per bridge). */
  id: string;
  /** Related address (`rel-addr`) of a server-reflexive candidate: its base. */
  relAddr?: string;
  /** Related port (`rel-port`) of a server-reflexive candidate. */
  relPort?: number;
}

/** Which addresses the bridge advertises for its UDP port (a section of the bridge config). */
export interface CandidateConfig {
  /**
   * Local IPv4 addresses to advertise as `host` candidates, in preference order. Default: every
   * non-internal IPv4 address of the machine. Loopback (127.0.0.1) is only advertised when listed
   * here (tests do).
   */
  hostAddresses?: readonly string[];
  /**
   * Public IPv4 address of a 1:1 NAT in front of the bridge (the port is the same). Advertised as a
   * `srflx` candidate based on the first host address. Ignored when `natMappings` is set.
   */
  publicAddress?: string;
  /**
   * Local→public IPv4 mappings of a NAT (JVB's `NAT_HARVESTER_LOCAL_ADDRESS`/`PUBLIC_ADDRESS`), one
   * `srflx` candidate per mapping whose `local` is a host address.
   */
  natMappings?: readonly { local: string; public: string }[];
  /**
   * Advertise the `host` candidates (default true). Set false when the local addresses are
   * unreachable from every client and only the NAT's public address should be offered.
   */
  advertiseHostCandidates?: boolean;
}

/** Priority of a candidate (RFC 8445 §5.1.2.1). Multiplications, not shifts: the result is uint32. */
export function candidatePriority(type: CandidateType, localPreference: number, component = 1): number {
  return CANDIDATE_TYPE_PREFERENCE[type] * 0x100_0000 + (localPreference & 0xffff) * 0x100 + (256 - component);
}

/**
 * Priority of a candidate pair (RFC 8445 §6.1.2.3) from the controlling agent's candidate priority
 * `g` and the controlled agent's `d`: 2^32·min(G,D) + 2·max(G,D) + (G > D ? 1 : 0). A bigint because
 * it needs 63 bits.
 */
export function pairPriority(g: number, d: number): bigint {
  const min = BigInt(Math.min(g, d));
  const max = BigInt(Math.max(g, d));
  return (min << 32n) + 2n * max + (g > d ? 1n : 0n);
}

/** Every non-internal IPv4 address of this machine, in `os.networkInterfaces()` order. */
export function defaultHostAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal && !out.includes(info.address)) out.push(info.address);
    }
  }
  return out;
}

/**
 * Builds the candidates for a socket on `port`. Host candidates get local preferences 65535, 65534, …
 * in configuration order (RFC 8445 §5.1.2.1, multihomed); a srflx candidate has its base's local
 * preference. Foundations are "1", "2", … per (type, base address). Throws TypeError for an address
 * that is not IPv4 text (the socket is udp4).
 */
export function buildLocalCandidates(config: CandidateConfig, port: number, idPrefix: string): Candidate[] {
  const hosts = [...(config.hostAddresses ?? defaultHostAddresses())];
  for (const ip of hosts) if (!isIPv4(ip)) throw new TypeError('candidate host addresses must be IPv4');
  const mappings = config.natMappings ?? (config.publicAddress !== undefined && hosts[0] !== undefined ? [{ local: hosts[0], public: config.publicAddress }] : []);
  for (const m of mappings) if (!isIPv4(m.public) || !isIPv4(m.local)) throw new TypeError('NAT mapping addresses must be IPv4');
  const out: Candidate[] = [];
  let foundation = 0;
  const push = (type: CandidateType, ip: string, localPref: number, rel?: string): void => {
    foundation++;
    const c: Candidate = {
      foundation: String(foundation),
      component: 1,
      protocol: 'udp',
      priority: candidatePriority(type, localPref),
      ip,
      port,
      type,
      generation: 0,
      network: 0,
      id: `${idPrefix}${foundation}`,
    };
    if (rel !== undefined) {
      c.relAddr = rel;
      c.relPort = port;
    }
    out.push(c);
  };
  if (config.advertiseHostCandidates !== false) {
    hosts.forEach((ip, i) => push('host', ip, MAX_LOCAL_PREFERENCE - i));
  }
  for (const m of mappings) {
    const i = hosts.indexOf(m.local);
    if (i < 0 || m.public === m.local) continue;
    if (out.some((c) => c.ip === m.public)) continue;
    push('srflx', m.public, MAX_LOCAL_PREFERENCE - i, m.local);
  }
  return out;
}
