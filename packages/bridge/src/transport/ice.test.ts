import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { IceAgent, type IceAgentOptions, type IceFailureReason, type IcePair, type IceState } from './ice.js';
import { StunClass, StunMessageBuilder, StunType, parseStunMessage, verifyFingerprint, verifyMessageIntegrity, type StunMessage } from './stun.js';

const LOCAL_UFRAG = 'bridgeufrag1';
const LOCAL_PWD = 'bridgepasswordbridgepass';
const REMOTE_UFRAG = 'clnt';
const REMOTE_PWD = 'clientpasswordclientpass';
const CLIENT_IP = '192.0.2.50';
const CLIENT_PORT = 50000;
const TIE_BREAKER = 1000n;

interface Sent {
  msg: StunMessage;
  buf: Buffer;
  ip: string;
  port: number;
}

let now: number;
let sent: Sent[];
let routes: string[];
let states: [IceState, IceFailureReason | undefined][];
let succeeded: IcePair[];
let agent: IceAgent;

function createAgent(extra: Partial<IceAgentOptions> = {}): IceAgent {
  return new IceAgent({
    localUfrag: LOCAL_UFRAG,
    localPwd: LOCAL_PWD,
    send: (buf, len, ip, port) => {
      const msg = parseStunMessage(buf, len);
      if (msg === undefined) throw new Error('agent sent something unparsable');
      sent.push({ msg, buf, ip, port });
    },
    now: () => now,
    log: pino({ level: 'silent' }),
    listener: {
      addRoute: (ip, port) => routes.push(`${ip}:${port}`),
      pairSucceeded: (p) => succeeded.push(p),
      stateChanged: (s, r) => states.push([s, r]),
    },
    timing: { checkIntervalMs: 50, checkRtoMs: 100, maxCheckRtoMs: 400, maxCheckTransmissions: 4, consentIntervalMs: 1000, consentTimeoutMs: 5000, connectTimeoutMs: 10000 },
    tieBreaker: TIE_BREAKER,
    random: () => 0.5,
    ...extra,
  });
}

/** A Binding request from the client to the bridge (keyed with the bridge's pwd). */
function clientRequest(
  o: { key?: string; ufrag?: string; useCandidate?: boolean; controlling?: bigint; controlled?: bigint; fingerprint?: boolean; priority?: number } = {},
): Buffer {
  const b = new StunMessageBuilder(StunType.BindingRequest, randomBytes(12))
    .addUsername(`${o.ufrag ?? LOCAL_UFRAG}:${REMOTE_UFRAG}`)
    .addPriority(o.priority ?? 1845501695);
  if (o.controlling !== undefined) b.addIceControlling(o.controlling);
  else b.addIceControlled(o.controlled ?? 5n);
  if (o.useCandidate === true) b.addUseCandidate();
  return b.build({ integrityKey: Buffer.from(o.key ?? LOCAL_PWD), fingerprint: o.fingerprint ?? true });
}

/** The client's answer to one of the agent's requests (keyed with the client's pwd). */
function clientResponse(to: Sent, o: { key?: string; error?: number } = {}): Buffer {
  const b = new StunMessageBuilder(o.error !== undefined ? StunType.BindingError : StunType.BindingSuccess, to.msg.transactionId);
  if (o.error !== undefined) b.addErrorCode(o.error, 'err');
  else b.addXorMappedAddress('192.0.2.1', 10000);
  return b.build({ integrityKey: Buffer.from(o.key ?? REMOTE_PWD), fingerprint: true });
}

function deliver(buf: Buffer, ip = CLIENT_IP, port = CLIENT_PORT): void {
  const msg = parseStunMessage(buf);
  if (msg === undefined) throw new Error('test built an unparsable message');
  agent.handleStun(msg, buf, ip, port);
}

function lastRequest(): Sent {
  const r = [...sent].reverse().find((s) => s.msg.cls === StunClass.Request);
  if (r === undefined) throw new Error('no request sent');
  return r;
}

/** Drives the agent to `connected` on the client's prflx address; returns the nominating request. */
function connectAgent(): Sent {
  deliver(clientRequest());
  agent.setRemoteCredentials(REMOTE_UFRAG, REMOTE_PWD);
  deliver(clientResponse(lastRequest()));
  const nomination = lastRequest();
  deliver(clientResponse(nomination));
  return nomination;
}

beforeEach(() => {
  now = 1000;
  sent = [];
  routes = [];
  states = [];
  succeeded = [];
  agent = createAgent();
});

describe('IceAgent responding to checks', () => {
  it('answers an authenticated request with XOR-MAPPED-ADDRESS and learns the address peer-reflexively', () => {
    deliver(clientRequest());
    expect(sent).toHaveLength(1);
    const r = sent[0] as Sent;
    expect(r.msg.type).toBe(StunType.BindingSuccess);
    expect(r.msg.xorMappedAddress).toEqual({ address: CLIENT_IP, port: CLIENT_PORT, family: 4 });
    expect(verifyMessageIntegrity(r.buf, r.msg, Buffer.from(LOCAL_PWD))).toBe(true);
    expect(verifyFingerprint(r.buf, r.msg)).toBe(true);
    expect([r.ip, r.port]).toEqual([CLIENT_IP, CLIENT_PORT]);
    expect(routes).toEqual([`${CLIENT_IP}:${CLIENT_PORT}`]);
    expect(agent.verifiedPair(CLIENT_IP, CLIENT_PORT)?.origin).toBe('prflx');
    expect(agent.verifiedPair(CLIENT_IP, CLIENT_PORT)?.remotePriority).toBe(1845501695);
    expect(states).toEqual([['checking', undefined]]);
    expect(agent.sendPair).toBeUndefined(); // answering is not consent: nothing but STUN goes there yet
  });

  it('ignores requests with a wrong password or without FINGERPRINT, and counts them', () => {
    deliver(clientRequest({ key: 'wrong-password-wrong-pass' }));
    deliver(clientRequest({ fingerprint: false }));
    expect(sent).toHaveLength(0);
    expect(routes).toHaveLength(0);
    expect(agent.counters.badIntegrity).toBe(1);
    expect(agent.counters.badFingerprint).toBe(1);
    expect(agent.state).toBe('new');
  });

  it('sends no checks of its own before the client credentials are known', () => {
    deliver(clientRequest());
    now += 5000;
    agent.poll();
    expect(sent.filter((s) => s.msg.cls === StunClass.Request)).toHaveLength(0);
    expect(agent.nextDeadline()).toBe(Infinity);
  });
});

describe('IceAgent checks and regular nomination', () => {
  it('sends a triggered check, then nominates the first succeeded pair with USE-CANDIDATE', () => {
    deliver(clientRequest());
    agent.setRemoteCredentials(REMOTE_UFRAG, REMOTE_PWD);
    const check = lastRequest();
    expect(check.msg.username).toBe(`${REMOTE_UFRAG}:${LOCAL_UFRAG}`);
    expect(check.msg.iceControlling).toBe(TIE_BREAKER);
    expect(check.msg.useCandidate).toBe(false);
    expect(check.msg.priority).toBe(110 * 2 ** 24 + 65535 * 2 ** 8 + 255);
    expect(verifyMessageIntegrity(check.buf, check.msg, Buffer.from(REMOTE_PWD))).toBe(true);
    expect(verifyFingerprint(check.buf, check.msg)).toBe(true);
    now += 3;
    deliver(clientResponse(check));
    expect(succeeded).toHaveLength(1);
    expect(agent.sendPair?.port).toBe(CLIENT_PORT);
    expect(agent.state).toBe('checking');
    const nomination = lastRequest();
    expect(nomination.msg.useCandidate).toBe(true);
    expect(nomination.msg.transactionId.equals(check.msg.transactionId)).toBe(false);
    deliver(clientResponse(nomination));
    expect(agent.state).toBe('connected');
    expect(agent.selectedPair?.nominated).toBe(true);
    expect(agent.selectedPair?.rttMs).toBe(0);
    expect(states.map((s) => s[0])).toEqual(['checking', 'connected']);
  });

  it('retransmits an unanswered check with a doubling RTO and fails the pair after the last one', () => {
    deliver(clientRequest());
    agent.setRemoteCredentials(REMOTE_UFRAG, REMOTE_PWD);
    const first = lastRequest();
    const times: number[] = [];
    for (let i = 0; i < 100 && agent.verifiedPair(CLIENT_IP, CLIENT_PORT)?.state !== 'failed'; i++) {
      now = agent.nextDeadline();
      const before = sent.length;
      agent.poll();
      if (sent.length > before) times.push(now);
    }
    const retransmissions = sent.filter((s) => s.msg.cls === StunClass.Request);
    expect(retransmissions).toHaveLength(4);
    expect(retransmissions.every((r) => r.buf.equals(first.buf))).toBe(true);
    expect(times.map((t) => t - 1000)).toEqual([100, 300, 700]); // RTO 100, 200, 400 (capped)
    expect(agent.verifiedPair(CLIENT_IP, CLIENT_PORT)?.state).toBe('failed');
    // A new request from the client re-triggers a check on a failed pair (§7.3.1.4).
    deliver(clientRequest());
    expect(lastRequest().msg.transactionId.equals(first.msg.transactionId)).toBe(false);
  });

  it('fails with ice-timeout when nothing connects in connectTimeoutMs', () => {
    agent.setRemoteCredentials(REMOTE_UFRAG, REMOTE_PWD);
    expect(agent.nextDeadline()).toBe(11000);
    now = 11000;
    agent.poll();
    expect(agent.state).toBe('failed');
    expect(states.at(-1)).toEqual(['failed', 'ice-timeout']);
    expect(agent.nextDeadline()).toBe(Infinity);
  });

  it('checks signalled candidates (ordinary checks paced by Ta) and connects on one', () => {
    agent.setRemoteCredentials(REMOTE_UFRAG, REMOTE_PWD);
    agent.addRemoteCandidate('192.0.2.60', 6000, 2130706431);
    agent.addRemoteCandidate('192.0.2.61', 6001, 1000);
    expect(routes).toEqual(['192.0.2.60:6000', '192.0.2.61:6001']);
    agent.poll();
    expect(lastRequest().port).toBe(6000); // higher priority first
    agent.poll();
    expect(sent).toHaveLength(1); // paced
    now += 50;
    agent.poll();
    expect(lastRequest().port).toBe(6001);
    expect(agent.verifiedPair('192.0.2.60', 6000)).toBeUndefined(); // signalled, not verified yet
    deliver(clientResponse(sent[0] as Sent), '192.0.2.60', 6000);
    expect(agent.verifiedPair('192.0.2.60', 6000)).toBeDefined();
    deliver(clientResponse(lastRequest()), '192.0.2.60', 6000);
    expect(agent.state).toBe('connected');
    expect(agent.selectedPair?.origin).toBe('signalled');
  });

  it('fails a check whose response comes from another address (non-symmetric) and ignores bad integrity', () => {
    deliver(clientRequest());
    agent.setRemoteCredentials(REMOTE_UFRAG, REMOTE_PWD);
    const check = lastRequest();
    deliver(clientResponse(check, { key: 'not-the-client-password!' }));
    expect(agent.counters.badIntegrity).toBe(1);
    expect(agent.verifiedPair(CLIENT_IP, CLIENT_PORT)?.state).toBe('in-progress');
    deliver(clientResponse(check), CLIENT_IP, CLIENT_PORT + 1);
    expect(agent.verifiedPair(CLIENT_IP, CLIENT_PORT)?.state).toBe('failed');
    expect(succeeded).toHaveLength(0);
  });
});

describe('IceAgent role conflicts (RFC 8445 §7.3.1.1, §7.2.5.1)', () => {
  it('answers 487 to a controlling peer with a smaller tie-breaker', () => {
    deliver(clientRequest({ controlling: TIE_BREAKER - 1n }));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.msg.type).toBe(StunType.BindingError);
    expect(sent[0]?.msg.errorCode?.code).toBe(487);
    expect(verifyMessageIntegrity((sent[0] as Sent).buf, (sent[0] as Sent).msg, Buffer.from(LOCAL_PWD))).toBe(true);
    expect(agent.role).toBe('controlling');
    expect(routes).toHaveLength(0);
  });

  it('switches to controlled for a controlling peer with a larger tie-breaker, then selects the pair the peer nominates', () => {
    deliver(clientRequest({ controlling: TIE_BREAKER + 1n }));
    expect(agent.role).toBe('controlled');
    expect(sent[0]?.msg.type).toBe(StunType.BindingSuccess);
    agent.setRemoteCredentials(REMOTE_UFRAG, REMOTE_PWD);
    const check = lastRequest();
    expect(check.msg.iceControlled).toBe(TIE_BREAKER);
    expect(check.msg.iceControlling).toBeUndefined();
    deliver(clientResponse(check));
    expect(agent.state).toBe('checking'); // controlled: no nomination of our own
    expect(lastRequest()).toBe(check);
    deliver(clientRequest({ controlling: TIE_BREAKER + 1n, useCandidate: true }));
    expect(agent.state).toBe('connected');
  });

  it('switches role and retries when its check gets 487', () => {
    deliver(clientRequest());
    agent.setRemoteCredentials(REMOTE_UFRAG, REMOTE_PWD);
    deliver(clientResponse(lastRequest(), { error: 487 }));
    expect(agent.role).toBe('controlled');
    expect(agent.counters.roleSwitches).toBe(1);
    expect(lastRequest().msg.iceControlled).toBe(TIE_BREAKER);
  });
});

describe('IceAgent consent freshness (RFC 7675)', () => {
  it('sends a new consent request every ~interval and stays connected while answered', () => {
    connectAgent();
    const firstConsentAt = agent.nextDeadline();
    expect(firstConsentAt - now).toBe(1000); // 0.8 + 0.4 × random(0.5) = 1.0 × interval
    const ids = new Set<string>();
    for (let i = 0; i < 10; i++) {
      now = agent.nextDeadline();
      agent.poll();
      const req = lastRequest();
      expect(req.msg.useCandidate).toBe(false);
      ids.add(req.msg.transactionId.toString('hex'));
      deliver(clientResponse(req));
    }
    expect(ids.size).toBe(10);
    expect(agent.state).toBe('connected');
  });

  it('accepts a late answer to an older consent request', () => {
    connectAgent();
    now = agent.nextDeadline();
    agent.poll();
    const older = lastRequest();
    now = agent.nextDeadline();
    agent.poll();
    deliver(clientResponse(older));
    expect(agent.counters.ignored).toBe(0);
  });

  it('fails with consent-expired after consentTimeoutMs without responses', () => {
    connectAgent();
    const connectedAt = now;
    let consentRequests = 0;
    while (agent.state === 'connected') {
      now = agent.nextDeadline();
      const before = sent.length;
      agent.poll();
      consentRequests += sent.length - before;
    }
    expect(states.at(-1)).toEqual(['failed', 'consent-expired']);
    expect(now - connectedAt).toBe(5000);
    expect(consentRequests).toBe(4); // at 1 s, 2 s, 3 s, 4 s; none retransmitted
  });
});

describe('IceAgent limits and lifecycle', () => {
  it('answers but does not learn addresses beyond maxPairs', () => {
    agent = createAgent({ maxPairs: 2 });
    for (let i = 0; i < 4; i++) deliver(clientRequest(), CLIENT_IP, CLIENT_PORT + i);
    expect(sent.filter((s) => s.msg.type === StunType.BindingSuccess)).toHaveLength(4);
    expect(routes).toHaveLength(2);
    expect(agent.counters.pairLimit).toBe(2);
  });

  it('close() stops everything and makes later input a no-op', () => {
    connectAgent();
    agent.close();
    const n = sent.length;
    deliver(clientRequest());
    now += 100_000;
    agent.poll();
    expect(sent).toHaveLength(n);
    expect(agent.nextDeadline()).toBe(Infinity);
    expect(agent.state).toBe('closed');
  });

  it('rejects short credentials', () => {
    expect(() => createAgent({ localPwd: 'short' })).toThrow(TypeError);
  });
});
