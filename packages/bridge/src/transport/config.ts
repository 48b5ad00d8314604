/**
 * Configuration of the bridge's media transport (the `bridge.transport` section of the app config):
 * the one UDP port, the addresses advertised for it, and ICE/SRTP tuning. Every key is documented
 * with its default; tests build inputs directly with `port: 0`.
 *
 * Use: `UdpMux.create({ ...cfg, log })` once per bridge; `new EndpointTransport({ mux, certificate,
 * log, iceTiming: cfg.ice, srtpProfiles: cfg.srtpProfiles, replayWindowSize: cfg.replayWindowSize })`
 * per endpoint.
 *
 * References: STYLE.md §3.9; JVB `reference.conf` (`videobridge.ice.udp.port`,
 * `ice4j.harvest.mapping.static-mappings`), RFC 7675 §5.1 (consent timing).
 */
import { z } from 'zod';
import { SrtpProfile } from './srtp.js';

const ipv4 = z.ipv4();

/** ICE timing (ms). The defaults follow RFC 8445/7675; tests shrink them. */
export const iceTimingSchema = z.object({
  /** Pacing of ordinary checks, Ta (RFC 8445 §14.2). */
  checkIntervalMs: z.number().int().min(5).default(50),
  /** First retransmission timeout of a check; doubles per retransmission up to `maxCheckRtoMs`. */
  checkRtoMs: z.number().int().min(10).default(250),
  /** Cap of the doubling RTO. */
  maxCheckRtoMs: z.number().int().min(10).default(2000),
  /** Transmissions of one check before its pair fails (STUN Rc). */
  maxCheckTransmissions: z.number().int().min(1).max(20).default(7),
  /** Basic consent-freshness interval (RFC 7675: 5 s, randomized 0.8–1.2×). */
  consentIntervalMs: z.number().int().min(10).default(5000),
  /** An endpoint that answers no consent check for this long fails (RFC 7675: 30 s). */
  consentTimeoutMs: z.number().int().min(50).default(30_000),
  /** From the client's session-accept to ICE + DTLS done at most; else the endpoint fails. */
  connectTimeoutMs: z.number().int().min(100).default(30_000),
});

/** The `bridge.transport` config section (documented per key). */
export const transportConfigSchema = z.object({
  /** The UDP port every endpoint's media uses (JVB default 10000). 0 = any free port (tests). */
  port: z.number().int().min(0).max(65535).default(10000),
  /** Local IPv4 address to bind; `0.0.0.0` = every interface. */
  bindAddress: ipv4.default('0.0.0.0'),
  /**
   * IPv4 addresses advertised as `host` candidates, in preference order. Unset: the bind address if
   * it is specific, else every non-internal IPv4 of the machine. 127.0.0.1 only when listed.
   */
  hostAddresses: z.array(ipv4).optional(),
  /** Public IPv4 of a 1:1 NAT in front of the bridge: advertised as `srflx` (base: first host). */
  publicAddress: ipv4.optional(),
  /** Local→public mappings of a NAT, one `srflx` candidate each (overrides `publicAddress`). */
  natMappings: z.array(z.object({ local: ipv4, public: ipv4 })).optional(),
  /** Advertise `host` candidates; false when only the NAT's public address is reachable. */
  advertiseHostCandidates: z.boolean().default(true),
  /** SO_RCVBUF of the media socket in bytes (unset: OS default). Raise for many endpoints. */
  receiveBufferBytes: z.number().int().min(65_536).optional(),
  /** SO_SNDBUF of the media socket in bytes (unset: OS default). */
  sendBufferBytes: z.number().int().min(65_536).optional(),
  /**
   * use_srtp profiles offered/accepted in preference order: 1 = AES128_CM_HMAC_SHA1_80, 7 =
   * AEAD_AES_128_GCM (the two the DTLS stack negotiates). As DTLS server (the usual case) the bridge
   * picks the first of these the client offers, so the order decides. AES-CM first, as
   * DTLS_SRTP_PROFILES in dtls.ts: 5.9 µs per packet both ways against 8.9 µs for GCM (bench/srtp).
   */
  srtpProfiles: z
    .array(z.union([z.literal(SrtpProfile.AEAD_AES_128_GCM), z.literal(SrtpProfile.AES128_CM_HMAC_SHA1_80)]))
    .min(1)
    .default([SrtpProfile.AES128_CM_HMAC_SHA1_80, SrtpProfile.AEAD_AES_128_GCM]),
  /** SRTP replay window in packets (power of two, 64–32768; libwebrtc uses 1024). */
  replayWindowSize: z.number().int().min(64).max(32768).refine((n) => (n & (n - 1)) === 0, 'must be a power of two').default(1024),
  ice: iceTimingSchema.prefault({}),
});

/** The validated transport config. */
export type TransportConfig = z.output<typeof transportConfigSchema>;
/** What callers may pass: any subset; omitted keys take their defaults. */
export type TransportConfigInput = z.input<typeof transportConfigSchema>;

/** Parses and validates a transport config; throws TypeError naming the bad keys. */
export function parseTransportConfig(input: TransportConfigInput = {}): TransportConfig {
  const r = transportConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const what = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new TypeError(`invalid transport config: ${what}`, { cause: r.error });
}
