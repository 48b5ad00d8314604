/**
 * One UDP socket for the media of every endpoint (JVB's single port, default 10000), demultiplexed
 * per datagram:
 *
 * - STUN requests (first byte 0–3, RFC 7983) go to the endpoint whose local ufrag is the first half
 *   of USERNAME (`<localUfrag>:<remoteUfrag>`, RFC 8445 §7.2.2). That works before the endpoint has
 *   seen any packet from the client, which is how the bridge learns client addresses
 *   (peer-reflexive, PROTOCOL.md §7.7).
 * - Everything else (STUN responses, DTLS, SRTP, SRTCP) goes to the endpoint that registered the
 *   source address (ip, port) after ICE verified it (see ice.ts for when that happens).
 * - Anything else is dropped and counted in {@link UdpMux.counters}; nothing here throws per packet.
 *
 * Per datagram this does two Map lookups (port, then ip: no key string is built) and no allocation
 * beyond what dgram already did (the Buffer and rinfo). Sending takes an offset/length view and
 * reports whether libuv kept a reference to the buffer (see {@link UdpMux.send}).
 *
 * References:
 * - RFC 7983 §7 (first-byte demultiplexing): https://www.rfc-editor.org/rfc/rfc7983#section-7
 * - RFC 8445 §7.2.2 (USERNAME of checks), §7.3 (responding to checks):
 *   https://www.rfc-editor.org/rfc/rfc8445#section-7.3
 * - PROTOCOL.md §7.7 (single port, demultiplex first by ufrag, then by address).
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { InvalidStateError } from '../errors.js';
import { buildLocalCandidates, type Candidate, type CandidateConfig } from './candidates.js';
import { StunClass, parseStunMessage, type StunMessage } from './stun.js';

/** dgram `lookup` for IP literals only: answers synchronously; anything else is an error. */
function syncLookup(address: string, _family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  if (isIPv4(address)) callback(null, address, 4);
  else callback(Object.assign(new Error('media sends take IPv4 literals only'), { code: 'EINVAL' }), address, 4);
}

/** Default media port (JVB `videobridge.ice.udp.port`). */
export const DEFAULT_MEDIA_PORT = 10000;

/** Options of {@link UdpMux.create} (the transport section of the bridge config plus a logger). */
export interface UdpMuxOptions extends CandidateConfig {
  /** UDP port for all endpoints (default 10000; 0 = any free port, as tests use). */
  port?: number;
  /** Local IPv4 address to bind (default `0.0.0.0`, every interface). */
  bindAddress?: string;
  /** SO_RCVBUF in bytes (default: the OS default). Raise it for many endpoints. */
  receiveBufferBytes?: number;
  /** SO_SNDBUF in bytes (default: the OS default). */
  sendBufferBytes?: number;
  /** Parent logger; the mux logs at `{ component: 'udp-mux' }`. */
  log: Logger;
}

/**
 * What the mux delivers to. Implemented by EndpointTransport; each method is called once per
 * datagram for that endpoint, synchronously, with a buffer that is only valid during the call.
 */
export interface MuxEndpoint {
  /** A parsed STUN message routed by ufrag (requests) or by address (responses, indications). */
  handleStun(msg: StunMessage, buf: Buffer, ip: string, port: number): void;
  /** A non-STUN datagram from an address this endpoint registered. */
  handleDatagram(buf: Buffer, len: number, ip: string, port: number): void;
  /** Another endpoint took over an address this one had registered (client moved/NAT reuse). */
  handleRouteLost(ip: string, port: number): void;
}

/** Counters of the mux (monotonic; read them, don't write them). */
export interface UdpMuxCounters {
  /** Datagrams received. */
  datagramsIn: number;
  /** Bytes received. */
  bytesIn: number;
  /** Datagrams handed to the socket. */
  datagramsOut: number;
  /** Bytes handed to the socket. */
  bytesOut: number;
  /** Sends that libuv queued (kernel buffer full): the buffer was retained. */
  sendsQueued: number;
  /** Socket errors (send failures are reported here by dgram). */
  socketErrors: number;
  /** Drops, by reason. */
  dropped: {
    /** Empty datagram. */
    empty: number;
    /** First byte in the STUN range but not a valid STUN message. */
    stunMalformed: number;
    /** STUN request without USERNAME. */
    stunNoUsername: number;
    /** STUN request for a ufrag no endpoint has. */
    stunUnknownUfrag: number;
    /** STUN response/indication from an address no endpoint registered. */
    stunUnknownAddress: number;
    /** Non-STUN datagram from an address no endpoint registered (not ICE-verified). */
    unknownAddress: number;
    /** An endpoint's handler threw (a bug; logged once per endpoint). */
    handlerError: number;
  };
}

/**
 * The shared media socket. Create with {@link UdpMux.create}; endpoints register their ufrag and,
 * after ICE verification, their client addresses. `close()` closes the socket.
 */
export class UdpMux {
  readonly #socket: Socket;
  readonly #log: Logger;
  readonly #candidates: readonly Candidate[];
  readonly #byUfrag = new Map<string, MuxEndpoint>();
  /** port → ip → endpoint: no string keys built per datagram. */
  readonly #byAddress = new Map<number, Map<string, MuxEndpoint>>();
  #addressCount = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #failedHandlers = new WeakSet<MuxEndpoint>();
  /** See {@link UdpMuxCounters}. */
  readonly counters: UdpMuxCounters = {
    datagramsIn: 0,
    bytesIn: 0,
    datagramsOut: 0,
    bytesOut: 0,
    sendsQueued: 0,
    socketErrors: 0,
    dropped: {
      empty: 0,
      stunMalformed: 0,
      stunNoUsername: 0,
      stunUnknownUfrag: 0,
      stunUnknownAddress: 0,
      unknownAddress: 0,
      handlerError: 0,
    },
  };

  private constructor(socket: Socket, candidates: readonly Candidate[], log: Logger) {
    this.#socket = socket;
    this.#candidates = candidates;
    this.#log = log;
    socket.on('message', (buf, rinfo) => this.#onMessage(buf, rinfo.address, rinfo.port));
    socket.on('error', (err) => {
      this.counters.socketErrors++;
      // Per-packet send errors (e.g. EHOSTUNREACH) land here; log at debug, they are counted.
      this.#log.debug({ err }, 'udp socket error');
    });
  }

  /**
   * Binds the socket and computes the advertised candidates. Rejects when the port is in use or
   * the configuration is invalid (TypeError).
   */
  static async create(options: UdpMuxOptions): Promise<UdpMux> {
    const port = options.port ?? DEFAULT_MEDIA_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError('port must be an integer in [0, 65535]');
    const bindAddress = options.bindAddress ?? '0.0.0.0';
    const log = options.log.child({ component: 'udp-mux' });
    // A synchronous lookup: with dns.lookup (the default) even an IP literal resolves on the next
    // tick, so send() would read the caller's buffer later; this way it is written (or queued)
    // before send() returns and a scratch buffer can be reused (see send()).
    const socket = createSocket({ type: 'udp4', reuseAddr: false, lookup: syncLookup });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        try {
          socket.close();
        } catch {
          // already closed by dgram
        }
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(port, bindAddress, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    try {
      if (options.receiveBufferBytes !== undefined) socket.setRecvBufferSize(options.receiveBufferBytes);
      if (options.sendBufferBytes !== undefined) socket.setSendBufferSize(options.sendBufferBytes);
      const bound = socket.address().port;
      const hostDefault = bindAddress !== '0.0.0.0' && options.hostAddresses === undefined ? [bindAddress] : options.hostAddresses;
      const candidates = buildLocalCandidates({ ...options, ...(hostDefault !== undefined ? { hostAddresses: hostDefault } : {}) }, bound, randomBytes(4).toString('hex'));
      const mux = new UdpMux(socket, candidates, log);
      log.info({ port: bound, candidateCount: candidates.length }, 'media port bound');
      return mux;
    } catch (err) {
      socket.close();
      throw err;
    }
  }

  /** The bound UDP port. */
  get port(): number {
    return this.#closed ? 0 : this.#socket.address().port;
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The bridge's candidates for this port (copies; the same for every endpoint). */
  localCandidates(): Candidate[] {
    return this.#candidates.map((c) => ({ ...c }));
  }

  /** Number of ufrag plus address registrations (0 when every endpoint was closed). */
  get registrationCount(): number {
    return this.#byUfrag.size + this.#addressCount;
  }

  /** True when `ufrag` is registered (for choosing a fresh one). */
  hasUfrag(ufrag: string): boolean {
    return this.#byUfrag.has(ufrag);
  }

  /** Routes STUN requests whose USERNAME starts with `ufrag:` to `ep`. Throws TypeError when taken. */
  registerUfrag(ufrag: string, ep: MuxEndpoint): void {
    if (this.#closed) throw new InvalidStateError('UdpMux is closed');
    if (this.#byUfrag.has(ufrag)) throw new TypeError('ICE ufrag already in use on this port');
    this.#byUfrag.set(ufrag, ep);
  }

  /** Removes the ufrag route if it belongs to `ep`. */
  unregisterUfrag(ufrag: string, ep: MuxEndpoint): void {
    if (this.#byUfrag.get(ufrag) === ep) this.#byUfrag.delete(ufrag);
  }

  /**
   * Routes datagrams from (ip, port) to `ep`. An address can belong to one endpoint only; when it
   * belonged to another, that one is told through {@link MuxEndpoint.handleRouteLost}.
   */
  addRoute(ip: string, port: number, ep: MuxEndpoint): void {
    if (this.#closed) return;
    let byIp = this.#byAddress.get(port);
    if (byIp === undefined) {
      byIp = new Map();
      this.#byAddress.set(port, byIp);
    }
    const prev = byIp.get(ip);
    if (prev === ep) return;
    byIp.set(ip, ep);
    if (prev === undefined) {
      this.#addressCount++;
    } else {
      this.#safeCall(prev, () => prev.handleRouteLost(ip, port));
    }
  }

  /** Removes the route of (ip, port) if it belongs to `ep`. */
  removeRoute(ip: string, port: number, ep: MuxEndpoint): void {
    const byIp = this.#byAddress.get(port);
    if (byIp === undefined || byIp.get(ip) !== ep) return;
    byIp.delete(ip);
    this.#addressCount--;
    if (byIp.size === 0) this.#byAddress.delete(port);
  }

  /** The endpoint (ip, port) is routed to, if any. */
  routeOf(ip: string, port: number): MuxEndpoint | undefined {
    return this.#byAddress.get(port)?.get(ip);
  }

  /**
   * Sends `buf[0, len)` to (ip, port). Returns true when libuv queued the datagram because the
   * kernel buffer was full: it then still references `buf`, so a caller that reuses a scratch buffer
   * must switch to a new one. Returns false when the datagram was written synchronously (the normal
   * case: Node tries `uv_udp_try_send` first) or dropped because the mux is closed.
   */
  send(buf: Buffer, len: number, ip: string, port: number): boolean {
    if (this.#closed) return false;
    this.counters.datagramsOut++;
    this.counters.bytesOut += len;
    this.#socket.send(buf, 0, len, port, ip);
    if (this.#socket.getSendQueueCount() > 0) {
      this.counters.sendsQueued++;
      return true;
    }
    return false;
  }

  /** Closes the socket. Endpoints should be closed first (their registrations are dropped anyway). */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#byUfrag.clear();
    this.#byAddress.clear();
    this.#addressCount = 0;
    this.#closing = new Promise<void>((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.#closing;
  }

  #onMessage(buf: Buffer, ip: string, port: number): void {
    const c = this.counters;
    const len = buf.length;
    c.datagramsIn++;
    c.bytesIn += len;
    if (len === 0) {
      c.dropped.empty++;
      return;
    }
    if ((buf[0] as number) <= 3) {
      this.#onStun(buf, ip, port);
      return;
    }
    const ep = this.#byAddress.get(port)?.get(ip);
    if (ep === undefined) {
      c.dropped.unknownAddress++;
      return;
    }
    try {
      ep.handleDatagram(buf, len, ip, port);
    } catch (err) {
      this.#handlerFailed(ep, err);
    }
  }

  #onStun(buf: Buffer, ip: string, port: number): void {
    const c = this.counters;
    const msg = parseStunMessage(buf);
    if (msg === undefined) {
      c.dropped.stunMalformed++;
      return;
    }
    let ep: MuxEndpoint | undefined;
    if (msg.cls === StunClass.Request) {
      const u = msg.username;
      if (u === undefined) {
        c.dropped.stunNoUsername++;
        return;
      }
      const colon = u.indexOf(':');
      ep = this.#byUfrag.get(colon < 0 ? u : u.slice(0, colon));
      if (ep === undefined) {
        c.dropped.stunUnknownUfrag++;
        return;
      }
    } else {
      ep = this.#byAddress.get(port)?.get(ip);
      if (ep === undefined) {
        c.dropped.stunUnknownAddress++;
        return;
      }
    }
    try {
      ep.handleStun(msg, buf, ip, port);
    } catch (err) {
      this.#handlerFailed(ep, err);
    }
  }

  #safeCall(ep: MuxEndpoint, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#handlerFailed(ep, err);
    }
  }

  #handlerFailed(ep: MuxEndpoint, err: unknown): void {
    this.counters.dropped.handlerError++;
    if (this.#failedHandlers.has(ep)) return;
    this.#failedHandlers.add(ep);
    this.#log.error({ err }, 'endpoint transport threw on a datagram');
  }
}
