/**
 * ICE for one endpoint, as jitsi-videobridge does it (PROTOCOL.md §7.7): a full agent in the
 * controlling role. Jingle cannot say that the bridge is ICE-lite and the browser answers, so the
 * browser is controlled and the bridge must send its own checks and nominate.
 *
 * What happens, in order:
 * 1. The client's Binding requests arrive (routed here by ufrag) before or after its credentials are
 *    signalled. Each one is authenticated with our password (MESSAGE-INTEGRITY + FINGERPRINT, else
 *    ignored and counted), answered with XOR-MAPPED-ADDRESS, and its source address becomes a
 *    peer-reflexive remote candidate (lib-jitsi-meet signals no candidates to the bridge).
 * 2. Once the client's ufrag/pwd are known, the agent sends checks: a triggered check to every
 *    address the client checked from, ordinary checks (paced by Ta) to signalled candidates.
 * 3. Nomination is *regular* (RFC 8445 §8.1.1): the first pair whose check succeeds is nominated with
 *    a second check carrying USE-CANDIDATE; when that succeeds the pair is selected and the agent is
 *    `connected`. Regular rather than aggressive because aggressive nomination is deprecated in RFC
 *    8445 and libwebrtc (controlled) accepts either; on the bridge there is almost always a single
 *    pair, so waiting for a better one would only add delay.
 * 4. Consent freshness (RFC 7675 §5.1) on the selected pair: a new Binding request every ~5 s
 *    (randomized 0.8–1.2×, not retransmitted; a response to any recent one counts); no response for
 *    30 s → `failed`.
 *
 * Security: an address is *verified* once it sent a request authenticated with our password, or
 * answered our check with a response authenticated with the client's password. Only verified
 * addresses are routed to the endpoint's DTLS/SRTP, and only a pair whose check succeeded (the client
 * consented) is ever sent DTLS or media: the bridge is never a UDP reflector. STUN error responses are
 * only sent to authenticated requests.
 *
 * Decisions are here, I/O is not: the agent gets `send` and `now` and is driven by {@link IceAgent.poll}
 * (the owner runs one timer to {@link IceAgent.nextDeadline}). STUN rates are a few per second per
 * endpoint, so messages are built with fresh buffers.
 *
 * Why not werift-ice: its `Connection` gathers and binds its own sockets per agent and runs its
 * protocol objects on them; sharing one socket across all endpoints would mean faking its transport
 * and candidate model, and it could not route by ufrag before it has a remote candidate.
 *
 * References:
 * - RFC 8445 §6.1.2.3 (pair priority), §6.1.4 (pacing, Ta), §7.2.5 (processing responses: §7.2.5.1
 *   role conflict 487, §7.2.5.2.1 non-symmetric addresses, §7.2.5.3 success), §7.3 (responding to
 *   requests: §7.3.1.1 role conflict, §7.3.1.3 learning peer-reflexive candidates, §7.3.1.4 triggered
 *   checks, §7.3.1.5 USE-CANDIDATE in the controlled role), §8.1.1 (regular nomination), §14.3 (RTO):
 *   https://www.rfc-editor.org/rfc/rfc8445
 * - RFC 7675 §5.1 (consent: 5 s randomized interval, new transaction each time, 30 s expiry):
 *   https://www.rfc-editor.org/rfc/rfc7675#section-5.1
 * - PROTOCOL.md §7.7, §10 item 3.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { MAX_LOCAL_PREFERENCE, candidatePriority, pairPriority } from './candidates.js';
import {
  STUN_TRANSACTION_ID_SIZE,
  StunClass,
  StunMessageBuilder,
  StunMethod,
  StunType,
  verifyFingerprint,
  verifyMessageIntegrity,
  type StunMessage,
} from './stun.js';

/** ICE role of the bridge. Starts controlling; a role conflict may switch it. */
export type IceRole = 'controlling' | 'controlled';

/** State of the agent. `failed` and `closed` are final. */
export type IceState = 'new' | 'checking' | 'connected' | 'failed' | 'closed';

/** Why the agent failed. */
export type IceFailureReason = 'ice-timeout' | 'consent-expired';

/** Timing of checks, consent and failure (all in ms). Tests shrink them. */
export interface IceTiming {
  /** Pacing of ordinary checks, Ta (RFC 8445 §14.2; default 50). */
  checkIntervalMs: number;
  /** First retransmission timeout of a check; doubles per retransmission up to `maxCheckRtoMs` (default 250). */
  checkRtoMs: number;
  /** Cap of the doubling RTO (default 2000). */
  maxCheckRtoMs: number;
  /** Transmissions of one check before its pair fails (default 7, as STUN's Rc). */
  maxCheckTransmissions: number;
  /** Basic consent interval (RFC 7675: 5000), randomized 0.8–1.2×. */
  consentIntervalMs: number;
  /** Consent expiry without any response (RFC 7675: 30000). */
  consentTimeoutMs: number;
  /** From the remote credentials to `connected` at most (default 30000), else `failed`. */
  connectTimeoutMs: number;
}

/** Default {@link IceTiming}. */
export const DEFAULT_ICE_TIMING: Readonly<IceTiming> = {
  checkIntervalMs: 50,
  checkRtoMs: 250,
  maxCheckRtoMs: 2000,
  maxCheckTransmissions: 7,
  consentIntervalMs: 5000,
  consentTimeoutMs: 30000,
  connectTimeoutMs: 30000,
};

/** State of a candidate pair (RFC 8445 §6.1.2.6, without Frozen: there is one component). */
export type IcePairState = 'waiting' | 'in-progress' | 'succeeded' | 'failed';

/** What the agent tells its owner. Each is called synchronously from handleStun()/poll()/setRemote(). */
export interface IceAgentListener {
  /** Route datagrams from (ip, port) to this endpoint (a new remote candidate). */
  addRoute(ip: string, port: number): void;
  /** A pair succeeded for the first time: DTLS may be sent there (see {@link IceAgent.sendPair}). */
  pairSucceeded(pair: IcePair): void;
  /** State change; `reason` only for `failed`. */
  stateChanged(state: IceState, reason?: IceFailureReason): void;
}

/** Counters of the agent (monotonic). */
export interface IceCounters {
  /** Binding requests answered. */
  requestsIn: number;
  /** Checks (incl. retransmissions, nominations, consent) sent. */
  requestsOut: number;
  /** Success responses to our checks accepted. */
  responsesIn: number;
  /** Requests or responses ignored for a bad/missing MESSAGE-INTEGRITY. */
  badIntegrity: number;
  /** Requests or responses ignored for a bad/missing FINGERPRINT. */
  badFingerprint: number;
  /** STUN messages ignored otherwise (not Binding, unknown transaction, malformed for ICE). */
  ignored: number;
  /** 487 Role Conflict responses sent. */
  roleConflictsSent: number;
  /** Role switches (RFC 8445 §7.2.5.1, §7.3.1.1). */
  roleSwitches: number;
  /** New remote addresses refused because of `maxPairs`. */
  pairLimit: number;
}

/** Options of {@link IceAgent}. */
export interface IceAgentOptions {
  /** Local ufrag (≥ 4 ice-chars). */
  localUfrag: string;
  /** Local password (≥ 22 ice-chars). */
  localPwd: string;
  /** Sends a STUN message; the agent never reuses `buf`. */
  send: (buf: Buffer, len: number, ip: string, port: number) => void;
  /** Monotonic clock, ms. */
  now: () => number;
  /** Receives routes, successes and state changes. */
  listener: IceAgentListener;
  /** Logger (already carrying the endpoint context). */
  log: Logger;
  /** Overrides of {@link DEFAULT_ICE_TIMING}. */
  timing?: Partial<IceTiming>;
  /** Most remote addresses tracked (default 16); further ones are answered but not learned. */
  maxPairs?: number;
  /** Tie-breaker (default random 64-bit). */
  tieBreaker?: bigint;
  /** Random in [0, 1) for consent jitter (default Math.random). */
  random?: () => number;
}

/** Kind of one of our transactions: an ordinary/triggered check, a nomination, a consent check. */
type TxKind = 'check' | 'nominate' | 'consent';

interface Transaction {
  id: Buffer;
  kind: TxKind;
  request: Buffer;
  firstSentAt: number;
  transmissions: number;
  nextAt: number;
  rtoMs: number;
}

/** A remote address and what the agent knows about it. Read-only for the owner. */
export class IcePair {
  /** Remote IP. */
  readonly ip: string;
  /** Remote port. */
  readonly port: number;
  /** Where it came from: learned from a check (peer-reflexive) or signalled. */
  readonly origin: 'prflx' | 'signalled';
  /** Remote candidate priority (PRIORITY of its request, or the signalled one). */
  remotePriority: number;
  /** Pair priority (RFC 8445 §6.1.2.3), recomputed on a role switch. */
  priority = 0n;
  /** Check state. */
  state: IcePairState = 'waiting';
  /** Received an authenticated request from it, or an authenticated response. */
  verified = false;
  /** Nominated and selected. */
  nominated = false;
  /** Controlled role: the client sent USE-CANDIDATE on it (RFC 8445 §7.3.1.5). */
  remoteNominated = false;
  /** When a request from it was last answered (ms). */
  lastRequestAt = -1;
  /** When a success response from it was last accepted (consent, ms). */
  lastResponseAt = -1;
  /** Round-trip time of the last check not retransmitted (ms). */
  rttMs: number | undefined;
  /** Outstanding check or nomination. */
  tx: Transaction | undefined;
  /** Recent consent transactions (not retransmitted; any response counts). */
  readonly consentTxs: Transaction[] = [];
  /** When the pair first succeeded. */
  succeededAt = -1;

  constructor(ip: string, port: number, origin: 'prflx' | 'signalled', remotePriority: number) {
    this.ip = ip;
    this.port = port;
    this.origin = origin;
    this.remotePriority = remotePriority;
  }
}

/** Snapshot of the agent for stats. */
export interface IceAgentStats {
  /** Agent state. */
  state: IceState;
  /** Current role. */
  role: IceRole;
  /** Remote addresses known. */
  pairs: number;
  /** Selected pair (addresses stay in memory: don't log them above debug). */
  selected?: { ip: string; port: number; origin: 'prflx' | 'signalled'; rttMs: number | undefined };
  /** Last RTT measured on the selected pair (ms). */
  rttMs: number | undefined;
  /** Copy of the counters. */
  counters: IceCounters;
}

const CONSENT_TX_KEEP = 8;
/** PRIORITY in our checks: what we'd give a peer-reflexive candidate of our (only) base (§7.1.1). */
const OUR_PRFLX_PRIORITY = candidatePriority('prflx', MAX_LOCAL_PREFERENCE);
/** Our host candidate's priority, the local side of every pair. */
const OUR_HOST_PRIORITY = candidatePriority('host', MAX_LOCAL_PREFERENCE);

/**
 * Full ICE agent of one endpoint (see the file comment for the behaviour).
 *
 * ```ts
 * const agent = new IceAgent({ localUfrag, localPwd, send, now, listener, log });
 * mux routes STUN → agent.handleStun(msg, buf, ip, port); owner's timer → agent.poll()
 * agent.setRemoteCredentials(ufrag, pwd); agent.addRemoteCandidate(ip, port, priority);
 * ```
 */
export class IceAgent {
  /** Local ufrag. */
  readonly localUfrag: string;
  /** Local password. */
  readonly localPwd: string;
  readonly #localKey: Buffer;
  #remoteUfrag: string | undefined;
  #remoteKey: Buffer | undefined;
  #role: IceRole = 'controlling';
  readonly #tieBreaker: bigint;
  #state: IceState = 'new';
  readonly #pairs: IcePair[] = [];
  #selected: IcePair | undefined;
  #nominating: IcePair | undefined;
  #nextOrdinaryAt = 0;
  #nextConsentAt = Infinity;
  #connectDeadline = Infinity;
  readonly #timing: IceTiming;
  readonly #maxPairs: number;
  readonly #send: (buf: Buffer, len: number, ip: string, port: number) => void;
  readonly #now: () => number;
  readonly #listener: IceAgentListener;
  readonly #log: Logger;
  readonly #random: () => number;
  /** See {@link IceCounters}. */
  readonly counters: IceCounters = {
    requestsIn: 0,
    requestsOut: 0,
    responsesIn: 0,
    badIntegrity: 0,
    badFingerprint: 0,
    ignored: 0,
    roleConflictsSent: 0,
    roleSwitches: 0,
    pairLimit: 0,
  };

  constructor(options: IceAgentOptions) {
    if (options.localUfrag.length < 4 || options.localPwd.length < 22) throw new TypeError('ICE ufrag needs ≥ 4 and pwd ≥ 22 characters');
    this.localUfrag = options.localUfrag;
    this.localPwd = options.localPwd;
    this.#localKey = Buffer.from(options.localPwd, 'utf8');
    this.#send = options.send;
    this.#now = options.now;
    this.#listener = options.listener;
    this.#log = options.log;
    this.#timing = { ...DEFAULT_ICE_TIMING, ...options.timing };
    this.#maxPairs = options.maxPairs ?? 16;
    this.#tieBreaker = options.tieBreaker ?? randomBytes(8).readBigUInt64BE(0);
    this.#random = options.random ?? Math.random;
  }

  /** Current state. */
  get state(): IceState {
    return this.#state;
  }

  /** Current role. */
  get role(): IceRole {
    return this.#role;
  }

  /** The remote ufrag, once signalled. */
  get remoteUfrag(): string | undefined {
    return this.#remoteUfrag;
  }

  /** The selected (nominated) pair, once `connected`. */
  get selectedPair(): IcePair | undefined {
    return this.#selected;
  }

  /**
   * Where DTLS may be sent: the selected pair, else the first pair that succeeded (the client
   * consented to receive there). Undefined until a check succeeded.
   */
  get sendPair(): IcePair | undefined {
    if (this.#selected !== undefined) return this.#selected;
    for (const p of this.#pairs) if (p.state === 'succeeded') return p;
    return undefined;
  }

  /** The pair for (ip, port) if it is verified (see the file comment); for the owner's receive path. */
  verifiedPair(ip: string, port: number): IcePair | undefined {
    const p = this.#find(ip, port);
    return p !== undefined && p.verified ? p : undefined;
  }

  /** Sets the client's ICE credentials (from the session-accept). Starts the checks. */
  setRemoteCredentials(ufrag: string, pwd: string): void {
    if (this.#isFinal()) return;
    if (this.#remoteKey !== undefined) {
      if (ufrag === this.#remoteUfrag) return;
      this.#log.warn('remote ICE credentials changed; ICE restart is not supported, keeping the first');
      return;
    }
    this.#remoteUfrag = ufrag;
    this.#remoteKey = Buffer.from(pwd, 'utf8');
    this.#connectDeadline = this.#now() + this.#timing.connectTimeoutMs;
    this.#setState('checking');
    // Addresses that already checked us get triggered checks right away (§7.3.1.4).
    for (const p of this.#pairs) if (p.lastRequestAt >= 0 && p.state === 'waiting') this.#startCheck(p, 'check');
  }

  /** Adds a signalled remote candidate (UDP, IPv4). Ignored after `connected`. */
  addRemoteCandidate(ip: string, port: number, priority: number): void {
    if (this.#isFinal() || this.#selected !== undefined) return;
    if (this.#find(ip, port) !== undefined) return;
    if (this.#pairs.length >= this.#maxPairs) {
      this.counters.pairLimit++;
      return;
    }
    const p = new IcePair(ip, port, 'signalled', priority >>> 0);
    this.#addPair(p);
  }

  /**
   * Handles a STUN message routed to this endpoint: a request (by ufrag) or a response (by
   * address). Never throws for bad input; drops are counted.
   */
  handleStun(msg: StunMessage, buf: Buffer, ip: string, port: number): void {
    if (this.#isFinal()) return;
    if (msg.method !== StunMethod.Binding) {
      this.counters.ignored++;
      return;
    }
    if (msg.cls === StunClass.Request) this.#onRequest(msg, buf, ip, port);
    else if (msg.cls === StunClass.SuccessResponse || msg.cls === StunClass.ErrorResponse) this.#onResponse(msg, buf, ip, port);
    else this.counters.ignored++; // indications: nothing to do (keepalives)
  }

  /** Runs what is due (retransmissions, ordinary checks, nomination, consent, timeouts). */
  poll(): void {
    if (this.#isFinal()) return;
    const now = this.#now();
    const t = this.#timing;
    if (this.#selected === undefined && now >= this.#connectDeadline) {
      this.#fail('ice-timeout');
      return;
    }
    for (const p of this.#pairs) {
      const tx = p.tx;
      if (tx === undefined || now < tx.nextAt) continue;
      if (tx.transmissions >= t.maxCheckTransmissions) {
        p.tx = undefined;
        if (p.state !== 'succeeded') p.state = 'failed';
        if (p === this.#nominating) this.#nominating = undefined;
        this.#log.debug({ address: p.ip, port: p.port }, 'ICE check timed out');
        continue;
      }
      tx.transmissions++;
      tx.rtoMs = Math.min(tx.rtoMs * 2, t.maxCheckRtoMs);
      tx.nextAt = now + tx.rtoMs;
      this.#transmit(p, tx);
    }
    if (this.#remoteKey !== undefined && this.#selected === undefined && now >= this.#nextOrdinaryAt) {
      let best: IcePair | undefined;
      for (const p of this.#pairs) if (p.state === 'waiting' && p.tx === undefined && (best === undefined || p.priority > best.priority)) best = p;
      if (best !== undefined) {
        this.#startCheck(best, 'check');
        this.#nextOrdinaryAt = now + t.checkIntervalMs;
      }
    }
    this.#maybeNominate();
    const sel = this.#selected;
    if (sel !== undefined) {
      if (now - sel.lastResponseAt >= t.consentTimeoutMs) {
        this.#fail('consent-expired');
        return;
      }
      if (now >= this.#nextConsentAt) {
        this.#sendConsent(sel, now);
        this.#nextConsentAt = now + t.consentIntervalMs * (0.8 + 0.4 * this.#random());
      }
    }
  }

  /** When {@link poll} next has work (ms on the agent's clock); Infinity when idle or final. */
  nextDeadline(): number {
    if (this.#isFinal()) return Infinity;
    let d = Infinity;
    if (this.#selected === undefined) {
      d = this.#connectDeadline;
      if (this.#remoteKey !== undefined) {
        for (const p of this.#pairs) {
          if (p.state === 'waiting' && p.tx === undefined) {
            d = Math.min(d, this.#nextOrdinaryAt);
            break;
          }
        }
      }
    } else {
      d = Math.min(this.#nextConsentAt, this.#selected.lastResponseAt + this.#timing.consentTimeoutMs);
    }
    for (const p of this.#pairs) if (p.tx !== undefined && p.tx.nextAt < d) d = p.tx.nextAt;
    return d;
  }

  /** Forgets everything and stops; idempotent. No callbacks afterwards. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    for (const p of this.#pairs) {
      p.tx = undefined;
      p.consentTxs.length = 0;
    }
  }

  /** Iterates the known remote addresses (for the owner's cleanup and stats). */
  pairs(): readonly IcePair[] {
    return this.#pairs;
  }

  /** Snapshot for stats. */
  stats(): IceAgentStats {
    const s = this.#selected;
    return {
      state: this.#state,
      role: this.#role,
      pairs: this.#pairs.length,
      ...(s !== undefined ? { selected: { ip: s.ip, port: s.port, origin: s.origin, rttMs: s.rttMs } } : {}),
      rttMs: s?.rttMs,
      counters: { ...this.counters },
    };
  }

  // ---------------------------------------------------------------------------------- requests

  #onRequest(msg: StunMessage, buf: Buffer, ip: string, port: number): void {
    // RFC 8445 §7.3 / RFC 5389 §10.1.2: authenticate before anything else; say nothing otherwise.
    if (msg.fingerprintOffset < 0 || !verifyFingerprint(buf, msg)) {
      this.counters.badFingerprint++;
      return;
    }
    if (msg.integrityOffset < 0 || !verifyMessageIntegrity(buf, msg, this.#localKey)) {
      this.counters.badIntegrity++;
      return;
    }
    const u = msg.username ?? '';
    const colon = u.indexOf(':');
    if (colon < 0 || u.slice(0, colon) !== this.localUfrag || msg.priority === undefined || msg.unknownRequiredAttribute >= 0) {
      this.counters.ignored++; // authenticated but malformed for ICE (§7.3: 400 would be allowed; stay quiet)
      return;
    }
    // §7.3.1.1 role conflict.
    if (this.#role === 'controlling' && msg.iceControlling !== undefined) {
      if (this.#tieBreaker >= msg.iceControlling) {
        this.#sendRoleConflict(msg, ip, port);
        return;
      }
      this.#switchRole('controlled');
    } else if (this.#role === 'controlled' && msg.iceControlled !== undefined) {
      if (this.#tieBreaker >= msg.iceControlled) this.#switchRole('controlling');
      else {
        this.#sendRoleConflict(msg, ip, port);
        return;
      }
    }
    this.counters.requestsIn++;
    const now = this.#now();
    let p = this.#find(ip, port);
    if (p === undefined) {
      if (this.#pairs.length >= this.#maxPairs) {
        this.counters.pairLimit++;
      } else {
        // §7.3.1.3: a peer-reflexive remote candidate with the request's PRIORITY.
        p = new IcePair(ip, port, 'prflx', msg.priority);
        this.#addPair(p);
        this.#log.debug({ address: ip, port }, 'ICE learned peer-reflexive address');
      }
    }
    this.#sendSuccess(msg, ip, port);
    if (this.#state === 'new') this.#setState('checking');
    if (p === undefined) return;
    p.verified = true;
    p.lastRequestAt = now;
    if (msg.useCandidate && this.#role === 'controlled') {
      // §7.3.1.5: nominated by the controlling client; selected once our own check succeeds.
      p.remoteNominated = true;
      if (p.state === 'succeeded') this.#select(p);
    }
    // §7.3.1.4 triggered check (not once connected: the selected pair is fixed, no renomination).
    if (this.#remoteKey !== undefined && this.#selected === undefined && p.tx === undefined && (p.state === 'waiting' || p.state === 'failed')) {
      this.#startCheck(p, 'check');
    }
  }

  #sendSuccess(req: StunMessage, ip: string, port: number): void {
    const out = new StunMessageBuilder(StunType.BindingSuccess, req.transactionId)
      .addXorMappedAddress(ip, port)
      .build({ integrityKey: this.#localKey, fingerprint: true });
    this.#send(out, out.length, ip, port);
  }

  #sendRoleConflict(req: StunMessage, ip: string, port: number): void {
    this.counters.roleConflictsSent++;
    const out = new StunMessageBuilder(StunType.BindingError, req.transactionId)
      .addErrorCode(487, 'Role Conflict')
      .build({ integrityKey: this.#localKey, fingerprint: true });
    this.#send(out, out.length, ip, port);
  }

  // --------------------------------------------------------------------------------- responses

  #onResponse(msg: StunMessage, buf: Buffer, ip: string, port: number): void {
    let pair: IcePair | undefined;
    let tx: Transaction | undefined;
    for (const p of this.#pairs) {
      if (p.tx !== undefined && p.tx.id.equals(msg.transactionId)) {
        pair = p;
        tx = p.tx;
        break;
      }
      for (const c of p.consentTxs) {
        if (c.id.equals(msg.transactionId)) {
          pair = p;
          tx = c;
          break;
        }
      }
      if (tx !== undefined) break;
    }
    if (pair === undefined || tx === undefined || this.#remoteKey === undefined) {
      this.counters.ignored++;
      return;
    }
    if (msg.fingerprintOffset < 0 || !verifyFingerprint(buf, msg)) {
      this.counters.badFingerprint++;
      return;
    }
    // Responses are authenticated with the password the request used: the client's (§7.2.5).
    if (msg.integrityOffset < 0 || !verifyMessageIntegrity(buf, msg, this.#remoteKey)) {
      this.counters.badIntegrity++;
      return;
    }
    if (ip !== pair.ip || port !== pair.port) {
      // §7.2.5.2.1: non-symmetric transport addresses fail the check.
      if (tx.kind !== 'consent') this.#checkFailed(pair, tx);
      return;
    }
    const now = this.#now();
    if (msg.cls === StunClass.ErrorResponse) {
      if (msg.errorCode?.code === 487 && tx.kind !== 'consent') {
        // §7.2.5.1: switch role according to what the request said, then retry (triggered).
        this.#switchRole(this.#role === 'controlling' ? 'controlled' : 'controlling');
        pair.tx = undefined;
        pair.state = 'waiting';
        if (pair === this.#nominating) this.#nominating = undefined;
        this.#startCheck(pair, 'check');
        return;
      }
      this.#log.debug({ code: msg.errorCode?.code }, 'ICE check got an error response');
      if (tx.kind !== 'consent') this.#checkFailed(pair, tx);
      return;
    }
    this.counters.responsesIn++;
    if (tx.transmissions === 1) pair.rttMs = now - tx.firstSentAt;
    pair.lastResponseAt = now;
    pair.verified = true;
    if (tx.kind === 'consent') {
      pair.consentTxs.splice(pair.consentTxs.indexOf(tx), 1);
      return;
    }
    pair.tx = undefined;
    const first = pair.state !== 'succeeded';
    pair.state = 'succeeded';
    if (first) {
      pair.succeededAt = now;
      this.#listener.pairSucceeded(pair);
    }
    if (tx.kind === 'nominate' && this.#role === 'controlling') {
      this.#nominating = undefined;
      this.#select(pair);
    } else if (this.#role === 'controlled' && pair.remoteNominated) {
      this.#select(pair);
    }
    this.#maybeNominate();
  }

  #checkFailed(pair: IcePair, tx: Transaction): void {
    if (pair.tx === tx) pair.tx = undefined;
    if (pair.state !== 'succeeded') pair.state = 'failed';
    if (pair === this.#nominating) this.#nominating = undefined;
  }

  // -------------------------------------------------------------------------------- our checks

  /** Regular nomination: nominate the first pair that succeeded (see the file comment). */
  #maybeNominate(): void {
    if (this.#role !== 'controlling' || this.#selected !== undefined || this.#nominating !== undefined || this.#remoteKey === undefined) return;
    let first: IcePair | undefined;
    for (const p of this.#pairs) if (p.state === 'succeeded' && p.tx === undefined && (first === undefined || p.succeededAt < first.succeededAt)) first = p;
    if (first === undefined) return;
    this.#nominating = first;
    this.#startCheck(first, 'nominate');
  }

  #startCheck(p: IcePair, kind: TxKind): void {
    if (this.#remoteKey === undefined) return;
    const now = this.#now();
    const id = randomBytes(STUN_TRANSACTION_ID_SIZE);
    const tx: Transaction = {
      id,
      kind,
      request: this.#buildRequest(id, kind === 'nominate'),
      firstSentAt: now,
      transmissions: 1,
      nextAt: now + this.#timing.checkRtoMs,
      rtoMs: this.#timing.checkRtoMs,
    };
    p.tx = tx;
    if (p.state !== 'succeeded') p.state = 'in-progress';
    this.#transmit(p, tx);
  }

  #sendConsent(p: IcePair, now: number): void {
    const id = randomBytes(STUN_TRANSACTION_ID_SIZE);
    const tx: Transaction = { id, kind: 'consent', request: this.#buildRequest(id, false), firstSentAt: now, transmissions: 1, nextAt: Infinity, rtoMs: 0 };
    if (p.consentTxs.length >= CONSENT_TX_KEEP) p.consentTxs.shift();
    p.consentTxs.push(tx);
    this.#transmit(p, tx);
  }

  #buildRequest(id: Buffer, useCandidate: boolean): Buffer {
    const b = new StunMessageBuilder(StunType.BindingRequest, id)
      .addUsername(`${this.#remoteUfrag as string}:${this.localUfrag}`)
      .addPriority(OUR_PRFLX_PRIORITY);
    if (this.#role === 'controlling') b.addIceControlling(this.#tieBreaker);
    else b.addIceControlled(this.#tieBreaker);
    if (useCandidate) b.addUseCandidate();
    return b.build({ integrityKey: this.#remoteKey as Buffer, fingerprint: true });
  }

  #transmit(p: IcePair, tx: Transaction): void {
    this.counters.requestsOut++;
    this.#send(tx.request, tx.request.length, p.ip, p.port);
  }

  // ---------------------------------------------------------------------------------- helpers

  #select(p: IcePair): void {
    if (this.#selected !== undefined) return;
    p.nominated = true;
    this.#selected = p;
    const now = this.#now();
    this.#nextConsentAt = now + this.#timing.consentIntervalMs * (0.8 + 0.4 * this.#random());
    // Checks on other pairs are no longer needed (§8.1.2: stop once a pair is nominated).
    for (const q of this.#pairs) if (q !== p && q.tx !== undefined) q.tx = undefined;
    this.#log.debug({ address: p.ip, port: p.port, origin: p.origin, rttMs: p.rttMs }, 'ICE pair selected');
    this.#setState('connected');
  }

  #switchRole(role: IceRole): void {
    if (this.#role === role) return;
    this.#role = role;
    this.counters.roleSwitches++;
    for (const p of this.#pairs) p.priority = this.#pairPriorityOf(p.remotePriority);
    this.#log.debug({ role }, 'ICE role switched');
  }

  #pairPriorityOf(remotePriority: number): bigint {
    return this.#role === 'controlling' ? pairPriority(OUR_HOST_PRIORITY, remotePriority) : pairPriority(remotePriority, OUR_HOST_PRIORITY);
  }

  #addPair(p: IcePair): void {
    p.priority = this.#pairPriorityOf(p.remotePriority);
    this.#pairs.push(p);
    this.#listener.addRoute(p.ip, p.port);
  }

  #find(ip: string, port: number): IcePair | undefined {
    for (const p of this.#pairs) if (p.port === port && p.ip === ip) return p;
    return undefined;
  }

  #fail(reason: IceFailureReason): void {
    for (const p of this.#pairs) {
      p.tx = undefined;
      p.consentTxs.length = 0;
    }
    this.#log.info({ reason }, 'ICE failed');
    this.#setState('failed', reason);
  }

  #setState(state: IceState, reason?: IceFailureReason): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#listener.stateChanged(state, reason);
  }

  #isFinal(): boolean {
    return this.#state === 'failed' || this.#state === 'closed';
  }
}
