/**
 * DTLS 1.2 for one endpoint, for DTLS-SRTP keying only (no application data: the bridge channel is
 * colibri-ws, not SCTP). werift-dtls does the handshake; this module feeds it datagrams from the mux,
 * sends its records through the endpoint's ICE-verified path, and after the handshake
 *
 * 1. verifies the peer's certificate against the signalled fingerprints (RFC 8122; mismatch → failed),
 * 2. verifies that the peer owns that certificate's key, which werift-dtls does not check: the
 *    client's CertificateVerify signature over the handshake transcript when we are the server, the
 *    ServerKeyExchange signature when we are the client (RFC 5246 §7.4.8, RFC 8422 §5.4),
 * 3. exports the SRTP keying material (RFC 5764 §4.2) for the negotiated use_srtp profile.
 *
 * Roles (PROTOCOL.md §7.8): the bridge offers `actpass`; the client answers `active` (normal: the
 * bridge is the DTLS server and waits for the ClientHello) or `passive` (the bridge connects).
 *
 * werift-dtls notes: its package `main` points to a missing file in 0.5.8, so it is imported by its
 * `lib/dtls/src/index.js` path. Its flight retransmissions use un-cancellable `timers/promises`
 * sleeps (0.5 s, 1 s, … while a flight is unanswered); {@link DtlsSession.close} marks the handshake
 * finished so those loops end at their next wake-up instead of running their full ~30 s.
 *
 * References:
 * - RFC 6347 (DTLS 1.2), RFC 5246 §7.4.8 (CertificateVerify), RFC 8422 §5.4 (signed
 *   ServerECDHParams): https://www.rfc-editor.org/rfc/rfc5246#section-7.4.8
 * - RFC 5764 §4.1.2 (use_srtp profiles), §4.2 (key derivation, "EXTRACTOR-dtls_srtp"):
 *   https://www.rfc-editor.org/rfc/rfc5764
 * - RFC 5763 §5 (setup roles), RFC 8122 §5 (fingerprint): https://www.rfc-editor.org/rfc/rfc8122
 * - RFC 8446 §4.2.3 / RFC 5246 §7.4.1.4.1 (SignatureAndHashAlgorithm code points).
 */
import { X509Certificate, constants as cryptoConstants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DtlsClient, DtlsServer, type DtlsSocket } from 'werift-dtls/lib/dtls/src/index.js';
import { DtlsPlaintext } from 'werift-dtls/lib/dtls/src/record/message/plaintext.js';
import { matchesFingerprint, type BridgeCertificate, type DtlsFingerprint } from './certificate.js';
import { DTLS_SRTP_EXPORTER_LABEL, SrtpProfile, srtpKeyingMaterialLength } from './srtp.js';

/** DTLS role of the bridge for one endpoint. */
export type DtlsRole = 'client' | 'server';

/** State of a {@link DtlsSession}. `connected`, `failed` and `closed` are final for the handshake. */
export type DtlsState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

/** Why a DTLS session failed. */
export type DtlsFailureReason =
  | 'fingerprint-mismatch'
  | 'bad-signature'
  | 'no-srtp-profile'
  | 'handshake-failed'
  | 'remote-closed';

/** What a completed handshake yields. */
export interface DtlsResult {
  /** Negotiated use_srtp profile. */
  profile: SrtpProfile;
  /** RFC 5764 §4.2 exporter output (client key ‖ server key ‖ client salt ‖ server salt). */
  keyingMaterial: Buffer;
  /** Our role. */
  role: DtlsRole;
}

/** Callbacks of a {@link DtlsSession} (each called at most once per session, except none after close). */
export interface DtlsListener {
  /** Handshake done and verified. */
  connected(result: DtlsResult): void;
  /** Handshake or verification failed, or the peer sent an alert. */
  failed(reason: DtlsFailureReason, err?: unknown): void;
}

/** The use_srtp profiles werift-dtls can negotiate, in our order of preference. */
// AES-CM first: with node:crypto it costs 5.9 µs per packet both ways against 8.9 µs for GCM, whose cipher object
// cannot be reused per packet (bench/srtp). As DTLS server (the usual case) the bridge picks from the client's list.
export const DTLS_SRTP_PROFILES: readonly SrtpProfile[] = [SrtpProfile.AES128_CM_HMAC_SHA1_80, SrtpProfile.AEAD_AES_128_GCM];

/** Options of {@link DtlsSession}. */
export interface DtlsSessionOptions {
  /** Our role (see {@link dtlsRoleFor}). */
  role: DtlsRole;
  /** The bridge certificate. */
  certificate: BridgeCertificate;
  /** Fingerprints signalled by the peer; the certificate must match one (with a supported hash). */
  remoteFingerprints: readonly DtlsFingerprint[];
  /** use_srtp profiles to offer/accept, in preference order (default {@link DTLS_SRTP_PROFILES}). */
  srtpProfiles?: readonly SrtpProfile[];
  /** Sends one DTLS datagram on the endpoint's verified path (may drop when there is none yet). */
  send: (buf: Buffer) => void;
  /** Receives the outcome. */
  listener: DtlsListener;
  /** Logger with endpoint context. */
  log: Logger;
}

/**
 * Our DTLS role from the peer's signalled `setup` (RFC 5763 §5): `active` → we are the server,
 * `passive` → client. The answerer must not say `actpass`; if it does (or says nothing), we take the
 * server role when it is missing (Chrome's normal answer is `active`) and the client role for
 * `actpass` (the peer then accepts either).
 */
export function dtlsRoleFor(remoteSetup: 'active' | 'passive' | 'actpass' | undefined): DtlsRole {
  return remoteSetup === 'passive' || remoteSetup === 'actpass' ? 'client' : 'server';
}

const RESOLVED = Promise.resolve();
const HANDSHAKE_FINISHED_FLIGHT = 1000;
const HS_CERTIFICATE_VERIFY = 15;
const HS_SERVER_KEY_EXCHANGE = 12;
/** DTLS record header: type(1) version(2) epoch(2) sequence(6) length(2) (RFC 6347 §4.1). */
const RECORD_HEADER_SIZE = 13;
const CONTENT_CHANGE_CIPHER_SPEC = 20;
const CONTENT_ALERT = 21;
const CONTENT_HANDSHAKE = 22;
const CONTENT_APPLICATION_DATA = 23;

/** werift-dtls's transport interface, backed by our `send`; `onData` is set by werift. */
class MuxDtlsTransport {
  readonly type = 'udp';
  readonly address: AddressInfo = { address: '0.0.0.0', family: 'IPv4', port: 0 };
  closed = false;
  onData: (data: Buffer, addr: readonly [string, number]) => void = () => {};
  readonly #send: (buf: Buffer) => void;
  constructor(send: (buf: Buffer) => void) {
    this.#send = send;
  }
  send = (data: Buffer): Promise<void> => {
    if (!this.closed) this.#send(data);
    return RESOLVED;
  };
  close = (): Promise<void> => {
    this.closed = true;
    return RESOLVED;
  };
}

/**
 * One DTLS association (see the file comment).
 *
 * ```ts
 * const dtls = new DtlsSession({ role: dtlsRoleFor(setup), certificate, remoteFingerprints, send, listener, log });
 * dtls.start();                      // client: sends the ClientHello; server: waits
 * mux datagram 20–63 → dtls.handleDatagram(buf)
 * ```
 */
export class DtlsSession {
  /** Our role. */
  readonly role: DtlsRole;
  readonly #socket: DtlsSocket;
  readonly #transport: MuxDtlsTransport;
  readonly #fingerprints: readonly DtlsFingerprint[];
  readonly #profiles: readonly SrtpProfile[];
  readonly #listener: DtlsListener;
  readonly #log: Logger;
  #state: DtlsState = 'new';
  /** Records refused before werift saw them (see {@link DtlsSession.handleDatagram}). */
  rejectedRecords = 0;

  constructor(options: DtlsSessionOptions) {
    this.role = options.role;
    this.#fingerprints = options.remoteFingerprints;
    this.#profiles = options.srtpProfiles ?? DTLS_SRTP_PROFILES;
    for (const p of this.#profiles) {
      if (!DTLS_SRTP_PROFILES.includes(p)) throw new TypeError(`SRTP profile 0x${p.toString(16)} is not supported by the DTLS stack`);
    }
    this.#listener = options.listener;
    this.#log = options.log;
    this.#transport = new MuxDtlsTransport(options.send);
    const socketOptions = {
      transport: this.#transport,
      cert: options.certificate.certPem,
      key: options.certificate.keyPem,
      signatureHash: { hash: 4, signature: 3 } as const, // sha256 + ecdsa (our P-256 key)
      srtpProfiles: [...this.#profiles] as (1 | 7)[],
      extendedMasterSecret: true,
    };
    // The server requests the client's certificate: it is what the fingerprint authenticates.
    this.#socket = options.role === 'server' ? new DtlsServer({ ...socketOptions, certificateRequest: true }) : new DtlsClient(socketOptions);
    this.#socket.onConnect.subscribe(() => this.#onConnect());
    this.#socket.onError.subscribe((err: unknown) => this.#fail('handshake-failed', err));
    this.#socket.onClose.subscribe(() => this.#fail('remote-closed'));
  }

  /** Current state. */
  get state(): DtlsState {
    return this.#state;
  }

  /** Starts the handshake: as client, sends the ClientHello; as server, waits for one. Once. */
  start(): void {
    if (this.#state !== 'new') return;
    this.#state = 'connecting';
    if (this.#socket instanceof DtlsClient) {
      this.#socket.connect().catch((err: unknown) => this.#fail('handshake-failed', err));
    }
  }

  /**
   * Feeds one DTLS datagram (first byte 20–63) from the endpoint's verified address. werift-dtls
   * trusts what it gets too much (an unknown content type or an unauthenticated alert closes the
   * session; a short record throws), so records are screened first and refused ones counted in
   * {@link rejectedRecords}:
   * - malformed records (header or length past the datagram) and content types other than
   *   change_cipher_spec, alert, handshake (application data: there is no SCTP here) are refused;
   * - after the handshake, epoch-0 records (a retransmitted ClientHello or flight; werift would
   *   renegotiate) are refused, and an alert is only passed on if it authenticates with the
   *   session keys, so a spoofed alert cannot tear the endpoint down. Encrypted handshake records
   *   (a retransmitted Finished) still reach werift, which answers with its last flight.
   */
  handleDatagram(buf: Buffer, len: number): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    if (this.#state === 'new') this.#state = 'connecting';
    const data = this.#screen(len === buf.length ? buf : buf.subarray(0, len));
    if (data === undefined) return;
    try {
      this.#transport.onData(data, ['0.0.0.0', 0]);
    } catch (err) {
      this.rejectedRecords++;
      this.#log.debug({ err }, 'DTLS record rejected by werift');
    }
  }

  /** Returns the acceptable records of `data` (itself when all are), or undefined for none. */
  #screen(data: Buffer): Buffer | undefined {
    const connected = this.#state === 'connected';
    let kept: Buffer[] | undefined;
    let off = 0;
    while (off < data.length) {
      if (off + RECORD_HEADER_SIZE > data.length) {
        this.rejectedRecords++;
        break;
      }
      const type = data[off] as number;
      const epoch = data.readUInt16BE(off + 3);
      const end = off + RECORD_HEADER_SIZE + data.readUInt16BE(off + 11);
      if (end > data.length) {
        this.rejectedRecords++;
        break;
      }
      const record = data.subarray(off, end);
      let ok = type === CONTENT_CHANGE_CIPHER_SPEC || type === CONTENT_ALERT || type === CONTENT_HANDSHAKE;
      if (ok && connected) ok = epoch > 0 && (type !== CONTENT_ALERT || this.#authenticates(record));
      if (type === CONTENT_APPLICATION_DATA) ok = false;
      if (ok) (kept ??= []).push(record);
      else this.rejectedRecords++;
      off = end;
    }
    if (kept === undefined) return undefined;
    if (kept.length === 1 && kept[0]?.length === data.length) return data;
    return Buffer.concat(kept);
  }

  /** True when an encrypted record decrypts and authenticates with the session's keys. */
  #authenticates(record: Buffer): boolean {
    try {
      this.#socket.cipher.decryptPacket(DtlsPlaintext.deSerialize(record));
      return true;
    } catch {
      return false;
    }
  }

  /** Stops the session; no callbacks afterwards. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopRetransmissions();
    void this.#transport.close();
    this.#socket.onConnect.allUnsubscribe();
    this.#socket.onError.allUnsubscribe();
    this.#socket.onClose.allUnsubscribe();
    this.#socket.onData.allUnsubscribe();
  }

  #onConnect(): void {
    if (this.#state === 'connected' || this.#state === 'failed' || this.#state === 'closed') return;
    const s = this.#socket;
    const cert = s.remoteCertificate;
    if (cert === undefined || !matchesFingerprint(cert, this.#fingerprints)) {
      this.#fail('fingerprint-mismatch');
      return;
    }
    let ok: boolean;
    try {
      ok = this.role === 'server' ? verifyClientCertificateVerify(s, cert) : verifyServerKeyExchange(s, cert);
    } catch (err) {
      this.#log.debug({ err }, 'DTLS signature check threw');
      ok = false;
    }
    if (!ok) {
      this.#fail('bad-signature');
      return;
    }
    const profile = s.srtp.srtpProfile as SrtpProfile | undefined;
    if (profile === undefined || !this.#profiles.includes(profile)) {
      this.#fail('no-srtp-profile');
      return;
    }
    const keyingMaterial = s.exportKeyingMaterial(DTLS_SRTP_EXPORTER_LABEL, srtpKeyingMaterialLength(profile));
    this.#state = 'connected';
    this.#log.debug({ role: this.role, profile }, 'DTLS connected');
    this.#listener.connected({ profile, keyingMaterial, role: this.role });
  }

  #fail(reason: DtlsFailureReason, err?: unknown): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    // An alert after a completed handshake (close_notify when the peer hangs up) is also reported.
    this.#state = 'failed';
    this.#stopRetransmissions();
    this.#log.debug({ reason, err }, 'DTLS failed');
    this.#listener.failed(reason, err);
  }

  /** Ends werift's flight retransmission loops at their next wake-up (they compare flight numbers). */
  #stopRetransmissions(): void {
    this.#socket.dtls.flight = HANDSHAKE_FINISHED_FLIGHT;
  }
}

/** node:crypto digest for a TLS HashAlgorithm code (RFC 5246 §7.4.1.4.1). */
function tlsHash(code: number): string | undefined {
  return code === 4 ? 'sha256' : code === 5 ? 'sha384' : code === 6 ? 'sha512' : undefined;
}

/**
 * Verifies a TLS 1.2 digitally-signed value: SignatureAndHashAlgorithm (hash, sig) over `data`.
 * Supports ECDSA and RSA PKCS#1 v1.5 with SHA-256/384/512, and RSA-PSS (0x0804–0x0806).
 */
export function verifyTlsSignature(hashCode: number, sigCode: number, data: Buffer, signature: Buffer, key: KeyObject): boolean {
  if (hashCode === 8 && sigCode >= 4 && sigCode <= 6) {
    const alg = sigCode === 4 ? 'sha256' : sigCode === 5 ? 'sha384' : 'sha512';
    return cryptoVerify(alg, data, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST }, signature);
  }
  const alg = tlsHash(hashCode);
  if (alg === undefined) return false;
  if (sigCode === 3 && key.asymmetricKeyType === 'ec') return cryptoVerify(alg, data, { key, dsaEncoding: 'der' }, signature);
  if (sigCode === 1 && key.asymmetricKeyType === 'rsa') return cryptoVerify(alg, data, key, signature);
  return false;
}

/**
 * Server side: the client's CertificateVerify (RFC 5246 §7.4.8) signs every handshake message before
 * it, as werift caches them (which is also what its Finished covers, so it matches the peer's view).
 */
function verifyClientCertificateVerify(s: DtlsSocket, cert: Buffer): boolean {
  const cache = s.dtls.sortedHandshakeCache;
  const i = cache.findIndex((h) => h.msg_type === HS_CERTIFICATE_VERIFY);
  const cv = cache[i];
  if (cv === undefined) return false;
  const body = cv.fragment;
  if (body.length < 4) return false;
  const sigLen = body.readUInt16BE(2);
  if (4 + sigLen > body.length) return false;
  const transcript = Buffer.concat(cache.slice(0, i).map((h) => h.serialize()));
  const key = new X509Certificate(cert).publicKey;
  return verifyTlsSignature(body[0] as number, body[1] as number, transcript, body.subarray(4, 4 + sigLen), key);
}

/**
 * Client side: ServerKeyExchange signs client_random ‖ server_random ‖ ServerECDHParams
 * (RFC 8422 §5.4), binding the server's ephemeral key to its certificate.
 */
function verifyServerKeyExchange(s: DtlsSocket, cert: Buffer): boolean {
  const ske = s.dtls.sortedHandshakeCache.find((h) => h.msg_type === HS_SERVER_KEY_EXCHANGE);
  if (ske === undefined) return false;
  const body = ske.fragment;
  if (body.length < 4 || body[0] !== 3) return false; // named_curve
  const paramsLen = 4 + (body[3] as number);
  if (paramsLen + 4 > body.length) return false;
  const sigLen = body.readUInt16BE(paramsLen + 2);
  if (paramsLen + 4 + sigLen > body.length) return false;
  const data = Buffer.concat([s.cipher.localRandom.serialize(), s.cipher.remoteRandom.serialize(), body.subarray(0, paramsLen)]);
  const key = new X509Certificate(cert).publicKey;
  return verifyTlsSignature(body[paramsLen] as number, body[paramsLen + 1] as number, data, body.subarray(paramsLen + 4, paramsLen + 4 + sigLen), key);
}
