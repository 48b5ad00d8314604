/**
 * ICE + DTLS + SRTP for one endpoint on the shared UDP port: the object the bridge's Endpoint owns.
 * Decrypted packets come out of {@link EndpointTransport.onRtp}/{@link EndpointTransport.onRtcp};
 * plain packets go in through {@link EndpointTransport.sendRtp}/{@link EndpointTransport.sendRtcp}.
 *
 * ```ts
 * const t = new EndpointTransport({ mux, certificate, log: log.child({ epId }) });
 * offer ← { ufrag: t.localUfrag, pwd: t.localPwd, fingerprint: t.localFingerprint (setup actpass), candidates: t.localCandidates() }
 * t.onRtp = (buf, len) => …; t.onRtcp = …; t.onStateChange = (s) => …;   // set once
 * session-accept → t.setRemote({ ufrag, pwd, fingerprints: [{ hash, value, setup: 'active' }] });
 * 'connected' → t.sendRtp(buf, len) …; t.close();
 * ```
 *
 * Lifecycle (`state`): `new` → `checking` (first authenticated check from the client, or
 * setRemote()) → `connected` (ICE pair nominated *and* DTLS done, fingerprint and key possession
 * verified, SRTP keyed) → `failed` (ICE/DTLS timeout, consent expired, fingerprint mismatch, DTLS
 * alert) or `closed` (close()). `failed` and `closed` are final; there is no ICE restart.
 * `onStateChange` fires for every change except to `closed` (the owner closed it).
 *
 * Receive path, once per datagram from the mux: the source address must be ICE-verified (a one-entry
 * cache makes this a string compare in steady state), then SRTP/SRTCP is decrypted in place and
 * handed on, or DTLS is fed to the handshake. SRTP failures (auth, replay, too old, malformed) are
 * dropped and counted per reason. Send path: encrypt into a per-transport scratch buffer and send to
 * the selected pair; when the socket queued the datagram (kernel buffer full) the scratch buffer is
 * replaced, since libuv still references it. No closures or promises per packet.
 *
 * References:
 * - PROTOCOL.md §4.3.3 (what the offer carries), §7.7 (ICE), §7.8 (DTLS-SRTP).
 * - RFC 7983 §7 (demultiplexing), RFC 5764 §4.2 (keys), RFC 3711 §3.3 (SRTP processing), RFC 7675
 *   (consent): see ice.ts, dtls.ts and srtp.ts.
 */
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';
import { DatagramKind, classifyDatagram } from '../rtp/classify.js';
import type { Candidate } from './candidates.js';
import type { BridgeCertificate, DtlsFingerprint } from './certificate.js';
import { DtlsSession, dtlsRoleFor, type DtlsFailureReason, type DtlsResult, type DtlsRole } from './dtls.js';
import { IceAgent, type IceAgentStats, type IceFailureReason, type IcePair, type IceRole, type IceState, type IceTiming } from './ice.js';
import { SrtpDropReason, SrtpSession, splitSrtpKeyingMaterial, srtpProfileParams, type SrtpProfile } from './srtp.js';
import type { StunMessage } from './stun.js';
import type { MuxEndpoint, UdpMux } from './udp-mux.js';

/** State of an {@link EndpointTransport}. */
export type EndpointTransportState = 'new' | 'checking' | 'connected' | 'failed' | 'closed';

/** Why a transport failed. */
export type TransportFailureReason = IceFailureReason | DtlsFailureReason | 'dtls-timeout';

/** A remote candidate as signalled (Jingle/Colibri shape; only UDP IPv4 ones are used). */
export interface RemoteCandidate {
  /** IP address; `.local` mDNS names and IPv6 are ignored. */
  ip: string;
  /** Port. */
  port: number;
  /** `udp` (others are ignored). */
  protocol: string;
  /** Candidate priority. */
  priority: number;
  /** Component (only 1 is used). */
  component?: number;
  /** Candidate type (informational). */
  type?: string;
}

/** The client's transport parameters from the session-accept. */
export interface RemoteTransportParams {
  /** Client ICE ufrag. */
  ufrag: string;
  /** Client ICE password. */
  pwd: string;
  /** Client DTLS fingerprints; `setup` decides our DTLS role (see dtlsRoleFor in dtls.ts). */
  fingerprints: readonly (DtlsFingerprint & { setup?: 'active' | 'passive' | 'actpass' })[];
  /** Client candidates (lib-jitsi-meet sends none: its addresses are learned from its checks). */
  candidates?: readonly RemoteCandidate[];
}

/** Options of {@link EndpointTransport}. */
export interface EndpointTransportOptions {
  /** The shared UDP port. */
  mux: UdpMux;
  /** The bridge's DTLS certificate. */
  certificate: BridgeCertificate;
  /** Logger with endpoint context (`{ confId, epId }`). */
  log: Logger;
  /** Local ufrag (default: random, unique on the mux). */
  localUfrag?: string;
  /** Local password (default: random, 130 bits). */
  localPwd?: string;
  /** Monotonic clock in ms (default `performance.now`). */
  now?: () => number;
  /**
   * ICE timing overrides (see ice.ts). `connectTimeoutMs` also bounds the DTLS handshake: from
   * setRemote() to `connected`.
   */
  iceTiming?: Partial<IceTiming>;
  /** use_srtp profiles in preference order (default AES128_CM_HMAC_SHA1_80, AEAD_AES_128_GCM). */
  srtpProfiles?: readonly SrtpProfile[];
  /** SRTP replay window in packets (default 1024, see srtp.ts). */
  replayWindowSize?: number;
  /** Largest plain RTP/RTCP packet sendRtp/sendRtcp accept, in bytes (default 1500). */
  maxPacketSize?: number;
}

/** Drop counters of one transport (monotonic). */
export interface TransportDropCounters {
  /** Non-STUN datagram from an address that is routed here but not verified. */
  unverifiedAddress: number;
  /** SRTP/SRTCP before DTLS finished. */
  srtpNotReady: number;
  /** First byte neither DTLS nor RTP/RTCP. */
  unknownKind: number;
  /** DTLS datagrams buffered before setRemote() beyond the limit, or sent with no path yet beyond the limit. */
  dtlsQueueFull: number;
  /** SRTP authentication failed (wrong key, forged or corrupted). */
  rtpAuthFailed: number;
  /** SRTP packet already received (replay window). */
  rtpReplayed: number;
  /** SRTP packet older than the replay window. */
  rtpTooOld: number;
  /** SRTP packet too short or with a bad header. */
  rtpMalformed: number;
  /** SRTCP authentication failed. */
  rtcpAuthFailed: number;
  /** SRTCP index already received. */
  rtcpReplayed: number;
  /** SRTCP index older than the replay window. */
  rtcpTooOld: number;
  /** SRTCP packet too short or with a bad header. */
  rtcpMalformed: number;
  /** sendRtp/sendRtcp while not `connected`. */
  sendNotConnected: number;
  /** sendRtp/sendRtcp with a packet that is malformed or larger than `maxPacketSize`. */
  sendInvalid: number;
  /** Datagrams after failure/close. */
  afterClose: number;
  /** DTLS records refused before the DTLS stack (malformed, wrong epoch, unauthenticated alert; see dtls.ts). */
  dtlsRejected: number;
}

/** Snapshot returned by {@link EndpointTransport.stats}. */
export interface EndpointTransportStats {
  /** Transport state. */
  state: EndpointTransportState;
  /** Why it failed, when `failed`. */
  failureReason: TransportFailureReason | undefined;
  /** Current ICE role (controlling unless a role conflict switched it). */
  iceRole: IceRole;
  /** DTLS role, once setRemote() was called. */
  dtlsRole: DtlsRole | undefined;
  /** Negotiated SRTP profile name, once DTLS finished. */
  srtpProfile: string | undefined;
  /** Datagrams received for this endpoint (all kinds, before any drop). */
  packetsIn: number;
  /** Bytes received for this endpoint. */
  bytesIn: number;
  /** Datagrams sent (media, DTLS, STUN). */
  packetsOut: number;
  /** Bytes sent. */
  bytesOut: number;
  /** Decrypted RTP packets delivered to onRtp. */
  rtpIn: number;
  /** Decrypted RTCP packets delivered to onRtcp. */
  rtcpIn: number;
  /** RTP packets encrypted and sent. */
  rtpOut: number;
  /** RTCP packets encrypted and sent. */
  rtcpOut: number;
  /** Drops by reason. */
  dropped: TransportDropCounters;
  /** RTT from the last STUN check on the selected pair (ms). */
  rttMs: number | undefined;
  /** The selected pair; the address is for in-memory use (debug endpoint), never log it above debug. */
  selectedPair: { ip: string; port: number; origin: 'prflx' | 'signalled' } | undefined;
  /** The ICE agent's snapshot. */
  ice: IceAgentStats;
}

const UFRAG_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const DTLS_QUEUE_LIMIT = 16;
const MAX_SRTP_OVERHEAD = 16 + 4; // GCM tag (16) or SRTCP E‖index (4) + 80-bit tag (10)

/** Random string of ice-chars (RFC 8445 §5.3) with 5 bits per character. */
function randomIceString(length: number): string {
  const b = randomBytes(length);
  let s = '';
  for (let i = 0; i < length; i++) s += UFRAG_ALPHABET[(b[i] as number) & 31];
  return s;
}

const noop = (): void => {};

/** ICE + DTLS + SRTP of one endpoint (see the file comment). */
export class EndpointTransport implements MuxEndpoint {
  /** Our ICE ufrag (goes in the offer). */
  readonly localUfrag: string;
  /** Our ICE password (goes in the offer). */
  readonly localPwd: string;
  /** The bridge certificate's fingerprint (goes in the offer with `setup="actpass"`). */
  readonly localFingerprint: { readonly hash: 'sha-256'; readonly value: string };
  /** Decrypted RTP; `buf[0, len)` is only valid during the call. Once per received RTP packet. */
  onRtp: (buf: Buffer, len: number) => void = noop;
  /** Decrypted (compound) RTCP; `buf[0, len)` is only valid during the call. Once per RTCP packet. */
  onRtcp: (buf: Buffer, len: number) => void = noop;
  /** State changes (not the one to `closed`). Called synchronously; errors are caught and logged. */
  onStateChange: (state: EndpointTransportState) => void = noop;

  readonly #mux: UdpMux;
  readonly #certificate: BridgeCertificate;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #agent: IceAgent;
  readonly #connectTimeoutMs: number;
  readonly #srtpProfiles: readonly SrtpProfile[] | undefined;
  readonly #replayWindowSize: number | undefined;
  readonly #maxPacketSize: number;
  #state: EndpointTransportState = 'new';
  #failureReason: TransportFailureReason | undefined;
  #remoteSet = false;
  #dtls: DtlsSession | undefined;
  #dtlsRole: DtlsRole | undefined;
  #dtlsDeadline = Infinity;
  /** DTLS from the client before setRemote() (copies). */
  readonly #dtlsInQueue: Buffer[] = [];
  /** DTLS to the client before any pair succeeded. */
  readonly #dtlsOutQueue: Buffer[] = [];
  #srtpRx: SrtpSession | undefined;
  #srtpTx: SrtpSession | undefined;
  #srtpProfileName: string | undefined;
  /** Where media goes (the selected pair), set when `connected`. */
  #txIp = '';
  #txPort = 0;
  /** Last verified source address (one-entry cache for the receive path). */
  #rxIp = '';
  #rxPort = -1;
  #scratch: Buffer;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#agent.poll();
    if ((this.#state === 'checking' || this.#state === 'new') && this.#now() >= this.#dtlsDeadline) {
      this.#fail(this.#agent.selectedPair === undefined ? 'ice-timeout' : 'dtls-timeout');
      return;
    }
    this.#schedule();
  };
  #packetsIn = 0;
  #bytesIn = 0;
  #packetsOut = 0;
  #bytesOut = 0;
  #rtpIn = 0;
  #rtcpIn = 0;
  #rtpOut = 0;
  #rtcpOut = 0;
  readonly #drops: TransportDropCounters = {
    unverifiedAddress: 0,
    srtpNotReady: 0,
    unknownKind: 0,
    dtlsQueueFull: 0,
    rtpAuthFailed: 0,
    rtpReplayed: 0,
    rtpTooOld: 0,
    rtpMalformed: 0,
    rtcpAuthFailed: 0,
    rtcpReplayed: 0,
    rtcpTooOld: 0,
    rtcpMalformed: 0,
    sendNotConnected: 0,
    sendInvalid: 0,
    afterClose: 0,
    dtlsRejected: 0,
  };

  /** Registers the ufrag on the mux. Throws TypeError when `localUfrag` is taken on this port. */
  constructor(options: EndpointTransportOptions) {
    this.#mux = options.mux;
    this.#certificate = options.certificate;
    this.#log = options.log.child({ component: 'transport' });
    this.#now = options.now ?? (() => performance.now());
    let ufrag = options.localUfrag;
    if (ufrag === undefined) {
      do ufrag = randomIceString(12);
      while (this.#mux.hasUfrag(ufrag));
    }
    this.localUfrag = ufrag;
    this.localPwd = options.localPwd ?? randomIceString(26);
    this.localFingerprint = options.certificate.fingerprint;
    this.#srtpProfiles = options.srtpProfiles;
    this.#replayWindowSize = options.replayWindowSize;
    this.#maxPacketSize = options.maxPacketSize ?? 1500;
    this.#scratch = Buffer.allocUnsafe(this.#maxPacketSize + MAX_SRTP_OVERHEAD);
    this.#connectTimeoutMs = options.iceTiming?.connectTimeoutMs ?? 30_000;
    this.#agent = new IceAgent({
      localUfrag: this.localUfrag,
      localPwd: this.localPwd,
      send: (buf, len, ip, port) => this.#sendRaw(buf, len, ip, port),
      now: this.#now,
      log: this.#log,
      ...(options.iceTiming !== undefined ? { timing: options.iceTiming } : {}),
      listener: {
        addRoute: (ip, port) => this.#mux.addRoute(ip, port, this),
        pairSucceeded: (pair) => this.#onPairSucceeded(pair),
        stateChanged: (state, reason) => this.#onIceState(state, reason),
      },
    });
    this.#mux.registerUfrag(this.localUfrag, this);
  }

  /** Current state (see the file comment). */
  get state(): EndpointTransportState {
    return this.#state;
  }

  /** Why the transport failed (when `failed`). */
  get failureReason(): TransportFailureReason | undefined {
    return this.#failureReason;
  }

  /** The bridge's candidates (all of them go in the first offer). */
  localCandidates(): Candidate[] {
    return this.#mux.localCandidates();
  }

  /**
   * The client's ICE credentials, DTLS fingerprints and (optional) candidates, from the
   * session-accept. The first call decides credentials and DTLS role; later calls only add
   * candidates (there is no ICE restart). Throws TypeError without ufrag, pwd or fingerprints.
   */
  setRemote(p: RemoteTransportParams): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    if (p.ufrag.length === 0 || p.pwd.length === 0) throw new TypeError('remote ICE ufrag and pwd are required');
    if (p.fingerprints.length === 0) throw new TypeError('a remote DTLS fingerprint is required');
    if (!this.#remoteSet) {
      this.#remoteSet = true;
      const setup = p.fingerprints.find((f) => f.setup !== undefined)?.setup;
      const role = dtlsRoleFor(setup);
      this.#dtlsRole = role;
      this.#dtlsDeadline = this.#now() + this.#connectTimeoutMs;
      this.#dtls = new DtlsSession({
        role,
        certificate: this.#certificate,
        remoteFingerprints: p.fingerprints.map((f) => ({ hash: f.hash, value: f.value })),
        ...(this.#srtpProfiles !== undefined ? { srtpProfiles: this.#srtpProfiles } : {}),
        send: (buf) => this.#sendDtls(buf),
        log: this.#log,
        listener: {
          connected: (r) => this.#onDtlsConnected(r),
          failed: (reason, err) => this.#onDtlsFailed(reason, err),
        },
      });
      this.#agent.setRemoteCredentials(p.ufrag, p.pwd);
      if (role === 'server') {
        this.#dtls.start();
        const queued = this.#dtlsInQueue.splice(0);
        for (const b of queued) this.#dtls.handleDatagram(b, b.length);
      } else if (this.#agent.sendPair !== undefined) {
        this.#dtls.start();
      }
    } else if (p.ufrag !== this.#agent.remoteUfrag) {
      this.#log.warn('setRemote() with new ICE credentials ignored: ICE restart is not supported');
    }
    for (const c of p.candidates ?? []) {
      if (c.protocol.toLowerCase() !== 'udp' || (c.component ?? 1) !== 1 || !isIPv4(c.ip) || c.port <= 0 || c.port > 65535) continue;
      this.#agent.addRemoteCandidate(c.ip, c.port, c.priority);
    }
    this.#schedule();
  }

  /**
   * Encrypts `buf[0, len)` (a plain RTP packet; `buf` is not modified) and sends it to the
   * selected pair. Dropped and counted when not `connected` or on an SRTP error. Once per packet.
   */
  sendRtp(buf: Buffer, len: number): void {
    this.#protectAndSend(buf, len, false);
  }

  /** As {@link sendRtp} for a (compound) RTCP packet. */
  sendRtcp(buf: Buffer, len: number): void {
    this.#protectAndSend(buf, len, true);
  }

  #protectAndSend(buf: Buffer, len: number, rtcp: boolean): void {
    const tx = this.#srtpTx;
    if (this.#state !== 'connected' || tx === undefined) {
      this.#drops.sendNotConnected++;
      return;
    }
    if (len > this.#maxPacketSize) {
      this.#drops.sendInvalid++;
      return;
    }
    const n = rtcp ? tx.protectRtcp(buf, len, this.#scratch) : tx.protectRtp(buf, len, this.#scratch);
    if (n < 0) {
      this.#drops.sendInvalid++;
      return;
    }
    if (rtcp) this.#rtcpOut++;
    else this.#rtpOut++;
    this.#sendMedia(n);
  }

  /** Snapshot of counters and state. */
  stats(): EndpointTransportStats {
    const sel = this.#agent.selectedPair;
    return {
      state: this.#state,
      failureReason: this.#failureReason,
      iceRole: this.#agent.role,
      dtlsRole: this.#dtlsRole,
      srtpProfile: this.#srtpProfileName,
      packetsIn: this.#packetsIn,
      bytesIn: this.#bytesIn,
      packetsOut: this.#packetsOut,
      bytesOut: this.#bytesOut,
      rtpIn: this.#rtpIn,
      rtcpIn: this.#rtcpIn,
      rtpOut: this.#rtpOut,
      rtcpOut: this.#rtcpOut,
      dropped: { ...this.#drops, dtlsRejected: this.#dtls?.rejectedRecords ?? 0 },
      rttMs: sel?.rttMs,
      selectedPair: sel !== undefined ? { ip: sel.ip, port: sel.port, origin: sel.origin } : undefined,
      ice: this.#agent.stats(),
    };
  }

  /** True while this transport has a timer scheduled (for leak checks). */
  get hasTimer(): boolean {
    return this.#timer !== undefined;
  }

  /** Frees the timer, the DTLS session and every mux registration. Idempotent; no callbacks after it. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#teardown();
    this.#log.debug('transport closed');
  }

  // ----------------------------------------------------------------------- MuxEndpoint (per datagram)

  /** @internal Called by the mux for STUN routed to this endpoint. */
  handleStun(msg: StunMessage, buf: Buffer, ip: string, port: number): void {
    this.#packetsIn++;
    this.#bytesIn += msg.length;
    if (this.#state === 'closed' || this.#state === 'failed') {
      this.#drops.afterClose++;
      return;
    }
    this.#agent.handleStun(msg, buf, ip, port);
    this.#schedule();
  }

  /** @internal Called by the mux for every non-STUN datagram from an address routed here. */
  handleDatagram(buf: Buffer, len: number, ip: string, port: number): void {
    this.#packetsIn++;
    this.#bytesIn += len;
    const state = this.#state;
    if (state === 'closed' || state === 'failed') {
      this.#drops.afterClose++;
      return;
    }
    if (port !== this.#rxPort || ip !== this.#rxIp) {
      if (this.#agent.verifiedPair(ip, port) === undefined) {
        this.#drops.unverifiedAddress++;
        return;
      }
      this.#rxIp = ip;
      this.#rxPort = port;
    }
    const kind = classifyDatagram(buf, len);
    if (kind === DatagramKind.Rtp) {
      const rx = this.#srtpRx;
      if (rx === undefined) {
        this.#drops.srtpNotReady++;
        return;
      }
      const n = rx.unprotectRtp(buf, len);
      if (n < 0) {
        this.#countRtpDrop(n);
        return;
      }
      this.#rtpIn++;
      this.onRtp(buf, n);
    } else if (kind === DatagramKind.Rtcp) {
      const rx = this.#srtpRx;
      if (rx === undefined) {
        this.#drops.srtpNotReady++;
        return;
      }
      const n = rx.unprotectRtcp(buf, len);
      if (n < 0) {
        this.#countRtcpDrop(n);
        return;
      }
      this.#rtcpIn++;
      this.onRtcp(buf, n);
    } else if (kind === DatagramKind.Dtls) {
      this.#onDtlsDatagram(buf, len);
    } else {
      this.#drops.unknownKind++;
    }
  }

  /** @internal Another endpoint took over (ip, port). */
  handleRouteLost(ip: string, port: number): void {
    if (ip === this.#rxIp && port === this.#rxPort) {
      this.#rxIp = '';
      this.#rxPort = -1;
    }
  }

  // ---------------------------------------------------------------------------------------- media

  #sendMedia(n: number): void {
    this.#packetsOut++;
    this.#bytesOut += n;
    // The socket queued it (kernel buffer full): libuv still references the scratch buffer.
    if (this.#mux.send(this.#scratch, n, this.#txIp, this.#txPort)) this.#scratch = Buffer.allocUnsafe(this.#scratch.length);
  }

  #countRtpDrop(reason: number): void {
    const d = this.#drops;
    if (reason === SrtpDropReason.AuthFailed) d.rtpAuthFailed++;
    else if (reason === SrtpDropReason.Replayed) d.rtpReplayed++;
    else if (reason === SrtpDropReason.TooOld) d.rtpTooOld++;
    else d.rtpMalformed++;
  }

  #countRtcpDrop(reason: number): void {
    const d = this.#drops;
    if (reason === SrtpDropReason.AuthFailed) d.rtcpAuthFailed++;
    else if (reason === SrtpDropReason.Replayed) d.rtcpReplayed++;
    else if (reason === SrtpDropReason.TooOld) d.rtcpTooOld++;
    else d.rtcpMalformed++;
  }

  // ----------------------------------------------------------------------------------------- DTLS

  #onDtlsDatagram(buf: Buffer, len: number): void {
    const dtls = this.#dtls;
    if (dtls !== undefined) {
      dtls.handleDatagram(buf, len);
      return;
    }
    // Before setRemote(): the client may start DTLS as soon as its own checks succeed.
    if (this.#dtlsInQueue.length >= DTLS_QUEUE_LIMIT) {
      this.#drops.dtlsQueueFull++;
      return;
    }
    this.#dtlsInQueue.push(Buffer.from(buf.subarray(0, len)));
  }

  #sendDtls(buf: Buffer): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    const pair = this.#agent.sendPair;
    if (pair === undefined) {
      // No pair has succeeded yet (no consent): hold the flight until one does.
      if (this.#dtlsOutQueue.length >= DTLS_QUEUE_LIMIT) this.#drops.dtlsQueueFull++;
      else this.#dtlsOutQueue.push(buf);
      return;
    }
    this.#sendRaw(buf, buf.length, pair.ip, pair.port);
  }

  #onPairSucceeded(pair: IcePair): void {
    const queued = this.#dtlsOutQueue.splice(0);
    for (const b of queued) this.#sendRaw(b, b.length, pair.ip, pair.port);
    if (this.#dtls !== undefined && this.#dtls.role === 'client') this.#dtls.start();
  }

  #onDtlsConnected(r: DtlsResult): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    try {
      const keys = splitSrtpKeyingMaterial(r.profile, r.keyingMaterial, r.role);
      const w = this.#replayWindowSize !== undefined ? { replayWindowSize: this.#replayWindowSize } : {};
      this.#srtpRx = new SrtpSession(r.profile, { ...keys.remote, ...w });
      this.#srtpTx = new SrtpSession(r.profile, { ...keys.local, ...w });
      this.#srtpProfileName = srtpProfileParams(r.profile).name;
    } catch (err) {
      this.#log.error({ err }, 'SRTP setup failed');
      this.#fail('no-srtp-profile');
      return;
    }
    this.#log.debug({ profile: this.#srtpProfileName, role: r.role }, 'DTLS-SRTP keyed');
    this.#maybeConnected();
  }

  #onDtlsFailed(reason: DtlsFailureReason, err: unknown): void {
    if (reason === 'fingerprint-mismatch' || reason === 'bad-signature') this.#log.warn({ reason }, 'DTLS peer not authenticated');
    else this.#log.debug({ reason, err }, 'DTLS failed');
    this.#fail(reason);
  }

  // ------------------------------------------------------------------------------------ ICE, state

  #onIceState(state: IceState, reason: IceFailureReason | undefined): void {
    if (state === 'checking' && this.#state === 'new') this.#setState('checking');
    else if (state === 'connected') this.#maybeConnected();
    else if (state === 'failed') this.#fail(reason ?? 'ice-timeout');
  }

  #maybeConnected(): void {
    const sel = this.#agent.selectedPair;
    if (this.#state === 'connected' || sel === undefined || this.#srtpTx === undefined) return;
    this.#txIp = sel.ip;
    this.#txPort = sel.port;
    this.#dtlsDeadline = Infinity;
    this.#log.info({ rttMs: sel.rttMs, profile: this.#srtpProfileName }, 'endpoint transport connected');
    this.#setState('connected');
  }

  #fail(reason: TransportFailureReason): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#failureReason = reason;
    this.#log.info({ reason }, 'endpoint transport failed');
    this.#teardown();
    this.#setState('failed');
  }

  /** Stops everything; keeps counters. The ufrag stays unregistered: the endpoint is done. */
  #teardown(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#dtls?.close();
    this.#mux.unregisterUfrag(this.localUfrag, this);
    for (const p of this.#agent.pairs()) this.#mux.removeRoute(p.ip, p.port, this);
    this.#agent.close();
    this.#srtpRx = undefined;
    this.#srtpTx = undefined;
    this.#dtlsInQueue.length = 0;
    this.#dtlsOutQueue.length = 0;
  }

  #setState(state: EndpointTransportState): void {
    if (this.#state === state) return;
    this.#state = state;
    try {
      this.onStateChange(state);
    } catch (err) {
      this.#log.error({ err }, 'onStateChange threw');
    }
  }

  #sendRaw(buf: Buffer, len: number, ip: string, port: number): void {
    if (this.#state === 'closed') return;
    this.#packetsOut++;
    this.#bytesOut += len;
    this.#mux.send(buf, len, ip, port);
  }

  /** Arms the one timer for the earliest of ICE's deadline and the DTLS deadline. */
  #schedule(): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    const due = Math.min(this.#agent.nextDeadline(), this.#state === 'connected' ? Infinity : this.#dtlsDeadline);
    if (due === Infinity) {
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= due) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = due;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, due - this.#now()));
  }
}
