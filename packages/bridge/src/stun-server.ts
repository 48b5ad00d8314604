/**
 * An embedded STUN server: the RFC 5389 Binding responder that browsers use to learn their server-reflexive
 * address (the `srflx` ICE candidate), so that P2P calls need no third-party STUN server (never Google's).
 *
 * What it does, per datagram on its UDP socket:
 * - a Binding request (class request, method Binding, RFC 5389 magic cookie) is answered with a Binding success
 *   response carrying the same transaction id, XOR-MAPPED-ADDRESS (the source address and port of the request)
 *   and FINGERPRINT. No SOFTWARE attribute (we say as little as possible about ourselves), no MAPPED-ADDRESS
 *   (RFC 3489 clients without the magic cookie are not recognised anyway, see below).
 * - no authentication, like any public STUN server: RFC 5389 §10 makes credentials optional for Binding, and the
 *   response only tells the sender what it already sent us.
 * - a request with an unknown comprehension-required attribute gets a 420 error response with UNKNOWN-ATTRIBUTES
 *   (RFC 5389 §7.3.1); a request whose FINGERPRINT is present but wrong is dropped.
 * - everything else is dropped silently and counted: non-STUN datagrams (including RFC 3489 messages without the
 *   magic cookie), malformed STUN, responses, indications, methods other than Binding.
 *
 * Reflection / amplification: UDP source addresses can be forged, so an attacker could make us send responses to a
 * victim. The damage is bounded twice: (1) one response per request and a response is small — 40 bytes for IPv4
 * (header 20 + XOR-MAPPED-ADDRESS 12 + FINGERPRINT 8), 52 for IPv6 — against at least 20 bytes for a request, so at
 * most 2.6× for a bare header and about 1× for what browsers send; (2) a token bucket per source IP address (not
 * per port) allows `maxRequestsPerSecondPerAddress` requests per second with a burst of the same size; excess
 * requests are dropped and counted. The table of buckets is bounded (`maxTrackedAddresses`): when full, idle
 * addresses are forgotten first; if it is still full, requests from new addresses are dropped.
 *
 * Privacy: nothing here logs an IP address or port; logs carry counters only.
 *
 * IPv4 by default (`host` 0.0.0.0). A host containing `:` (e.g. `::`) binds an IPv6 socket; with `::` the OS
 * usually accepts IPv4 too (dual stack), and IPv4-mapped sources (`::ffff:a.b.c.d`) are answered with the IPv4
 * address, as RFC 5389 §15.2 expects.
 *
 * References: RFC 5389 §6 (header), §7.3 (receiving a message), §7.3.1 (requests, 420), §10 (credentials are
 * optional), §15.2 (XOR-MAPPED-ADDRESS), §15.5 (FINGERPRINT), §15.9 (UNKNOWN-ATTRIBUTES):
 * https://www.rfc-editor.org/rfc/rfc5389
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import {
  parseStunMessage,
  StunAttr,
  StunClass,
  StunMessageBuilder,
  StunMethod,
  StunType,
  verifyFingerprint,
} from './transport/stun.js';
import { silentLogger } from './types.js';

/** The IANA port for STUN over UDP. */
export const DEFAULT_STUN_PORT = 3478;
/** Default of {@link StunServerOptions.maxRequestsPerSecondPerAddress}. */
export const DEFAULT_STUN_MAX_REQUESTS_PER_SECOND = 20;
/** Default of {@link StunServerOptions.maxTrackedAddresses}. */
export const DEFAULT_STUN_MAX_TRACKED_ADDRESSES = 65536;

export interface StunServerOptions {
  /** UDP port (default 3478; 0 = any free port). */
  port?: number;
  /** Address to bind (default `0.0.0.0`, every IPv4 interface; an IPv6 address such as `::` binds IPv6). */
  host?: string;
  /** Logger (default: silent). Never given addresses. */
  log?: Logger;
  /** Requests answered per second per source IP address; the burst is the same number (default 20). */
  maxRequestsPerSecondPerAddress?: number;
  /** Source addresses whose token bucket is remembered at once (default 65536). */
  maxTrackedAddresses?: number;
  /** Clock in ms (tests). Default `performance.now`. */
  now?: () => number;
}

/** What the server did with the datagrams it received. */
export interface StunServerCounters {
  /** Datagrams received. */
  received: number;
  /** Binding success responses sent. */
  responses: number;
  /** 420 error responses sent. */
  errorResponses: number;
  /** Not a STUN message (no magic cookie, wrong length, RFC 3489). */
  droppedNotStun: number;
  /** STUN-shaped but malformed, or a wrong FINGERPRINT. */
  droppedMalformed: number;
  /** Responses, indications and methods other than Binding. */
  droppedNotBindingRequest: number;
  /** Over the per-address rate, or the address table was full. */
  droppedRateLimited: number;
  /** Sending a response failed. */
  sendErrors: number;
}

export interface StunServer {
  /** The bound UDP port (0 once closed). */
  readonly port: number;
  /** The live counters. */
  readonly counters: Readonly<StunServerCounters>;
  /**
   * Source addresses the rate limiter remembers now (introspection). An address is forgotten about a second after
   * its last request (its bucket is full again by then), so no client address outlives its use.
   */
  readonly trackedAddresses: number;
  /** Closes the socket. Idempotent. */
  close(): Promise<void>;
}

/** How often addresses whose bucket refilled are forgotten. */
const SWEEP_INTERVAL_MS = 1000;

interface Bucket {
  tokens: number;
  last: number;
}

/** Per-address token buckets with a bounded table. */
class RateLimiter {
  readonly #rate: number;
  readonly #max: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(ratePerSecond: number, maxAddresses: number) {
    this.#rate = ratePerSecond;
    this.#max = maxAddresses;
  }

  take(address: string, now: number): boolean {
    let b = this.#buckets.get(address);
    if (b === undefined) {
      if (this.#buckets.size >= this.#max) this.#sweep(now);
      if (this.#buckets.size >= this.#max) return false;
      b = { tokens: this.#rate, last: now };
      this.#buckets.set(address, b);
    } else {
      b.tokens = Math.min(this.#rate, b.tokens + ((now - b.last) * this.#rate) / 1000);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Forgets addresses whose bucket has refilled completely (they would start full anyway). */
  sweep(now: number): void {
    this.#sweep(now);
  }

  #sweep(now: number): void {
    const refillMs = 1000; // burst = rate, so a full refill takes one second
    for (const [k, b] of this.#buckets) if (now - b.last >= refillMs) this.#buckets.delete(k);
  }
}

function bindSocket(socket: Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      try {
        socket.close();
      } catch {
        // already closed
      }
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/**
 * Binds the UDP socket and starts answering. Rejects with the bind error (`EADDRINUSE`, `EACCES`,
 * `EADDRNOTAVAIL`) or a TypeError for bad options.
 */
export async function createStunServer(options: StunServerOptions = {}): Promise<StunServer> {
  const port = options.port ?? DEFAULT_STUN_PORT;
  const host = options.host ?? '0.0.0.0';
  const rate = options.maxRequestsPerSecondPerAddress ?? DEFAULT_STUN_MAX_REQUESTS_PER_SECOND;
  const maxTracked = options.maxTrackedAddresses ?? DEFAULT_STUN_MAX_TRACKED_ADDRESSES;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('port must be an integer in [0, 65535]');
  if (!(rate > 0)) throw new TypeError('maxRequestsPerSecondPerAddress must be > 0');
  if (!Number.isInteger(maxTracked) || maxTracked < 1) throw new TypeError('maxTrackedAddresses must be a positive integer');
  const now = options.now ?? (() => performance.now());
  const log = (options.log ?? silentLogger()).child({ component: 'stun-server' });

  const counters: StunServerCounters = {
    received: 0,
    responses: 0,
    errorResponses: 0,
    droppedNotStun: 0,
    droppedMalformed: 0,
    droppedNotBindingRequest: 0,
    droppedRateLimited: 0,
    sendErrors: 0,
  };
  const limiter = new RateLimiter(rate, maxTracked);
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
  await bindSocket(socket, port, host);
  let closed = false;
  const boundPort = socket.address().port;
  // Privacy: forget client addresses once their bucket is full again, not only when the table is full.
  const sweeper = setInterval(() => limiter.sweep(now()), SWEEP_INTERVAL_MS);
  sweeper.unref();

  const send = (out: Buffer, address: string, rport: number): void => {
    socket.send(out, rport, address, (err) => {
      if (err) counters.sendErrors++;
    });
  };

  socket.on('error', (err) => {
    counters.sendErrors++;
    log.debug({ code: (err as NodeJS.ErrnoException).code }, 'stun socket error');
  });
  socket.on('message', (buf, rinfo) => {
    counters.received++;
    const msg = parseStunMessage(buf);
    if (msg === undefined) {
      // isStunMessage rejects non-STUN; anything STUN-shaped that fails parsing is malformed.
      if (buf.length >= 20 && buf.readUInt32BE(4) === 0x2112a442 && ((buf[0] as number) & 0xc0) === 0) counters.droppedMalformed++;
      else counters.droppedNotStun++;
      return;
    }
    if (msg.cls !== StunClass.Request || msg.method !== StunMethod.Binding) {
      counters.droppedNotBindingRequest++;
      return;
    }
    if (msg.fingerprintOffset >= 0 && !verifyFingerprint(buf, msg)) {
      counters.droppedMalformed++;
      return;
    }
    // Per IP address, not per port: forged sources aim at an address.
    if (!limiter.take(rinfo.address, now())) {
      counters.droppedRateLimited++;
      return;
    }
    if (msg.unknownRequiredAttribute >= 0) {
      const list = Buffer.alloc(2);
      list.writeUInt16BE(msg.unknownRequiredAttribute, 0);
      const out = new StunMessageBuilder(StunType.BindingError, msg.transactionId)
        .addErrorCode(420, 'Unknown Attribute')
        .addAttribute(StunAttr.UnknownAttributes, list)
        .build({ fingerprint: true });
      counters.errorResponses++;
      send(out, rinfo.address, rinfo.port);
      return;
    }
    const mapped = rinfo.address.startsWith('::ffff:') && rinfo.address.includes('.') ? rinfo.address.slice(7) : rinfo.address;
    let out: Buffer;
    try {
      out = new StunMessageBuilder(StunType.BindingSuccess, msg.transactionId)
        .addXorMappedAddress(mapped, rinfo.port)
        .build({ fingerprint: true });
    } catch {
      counters.droppedMalformed++; // an address the codec cannot encode (should not happen)
      return;
    }
    counters.responses++;
    send(out, rinfo.address, rinfo.port);
  });

  log.info({ port: boundPort }, 'stun server listening');

  return {
    get port() {
      return closed ? 0 : boundPort;
    },
    counters,
    get trackedAddresses() {
      return limiter.size;
    },
    close(): Promise<void> {
      if (closed) return Promise.resolve();
      closed = true;
      clearInterval(sweeper);
      return new Promise<void>((resolve) => {
        socket.close(() => {
          log.info({ ...counters }, 'stun server stopped');
          resolve();
        });
      });
    },
  };
}
