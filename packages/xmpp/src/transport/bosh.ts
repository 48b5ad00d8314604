/**
 * XMPP over BOSH (XEP-0124 with XEP-0206) at /http-bind. Framing only: a BOSH session is a Transport under an
 * ordinary Session; every `<body/>` payload goes to `session.receive()`, and what the session sends is queued and
 * returned in the bodies of the requests the client keeps open ("long polling").
 *
 * Behaviour (strophe.js / lib-jitsi-meet, PROTOCOL.md §2.2):
 * - Session creation: the response carries sid, wait, requests, hold, inactivity, polling, ver, from, authid and
 *   the XEP-0206 attributes, and already contains the stream features.
 * - Request ids (§14): payloads are processed strictly in rid order (early requests wait for the gap); a rid
 *   beyond the window, or a repeated rid whose response is no longer buffered, ends the session with
 *   `item-not-found`; a repeated rid gets the buffered response again (the last `requests` are kept).
 * - Hold/wait (§8): at most `hold` requests are held; the oldest is answered as soon as there is data or when a
 *   newer request arrives beyond `hold`, and with an empty body after `wait` seconds.
 * - Inactivity (§10): no request held for `inactivity` seconds ends the session (the user leaves its rooms).
 * - Errors (§17): binding errors are `<body type="terminate" condition="…"/>` with HTTP 200; for a client without
 *   `ver` (legacy) the deprecated HTTP codes 400/403/404 are used instead. A stream error from the session becomes
 *   condition `remote-stream-error` with the `<stream:error/>` inside (`host-unknown` and `system-shutdown` keep
 *   their own binding condition).
 * - Bodies are parsed incrementally by our XmlStreamParser in stream mode with `<body>` as the root, so the
 *   stanza limits (size, depth, attributes) apply to each payload exactly as on WebSocket, while the whole body
 *   is capped by `bosh.maxBodyBytes` (HTTP 413). Reading is throttled per BOSH session with a ByteRateLimiter:
 *   an over-rate request is processed later, never dropped.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0124.html (§7 session creation, §8 payloads, §10 inactivity, §13 terminate,
 *   §14 request ids, §17 error conditions)
 * - https://xmpp.org/extensions/xep-0206.html (§4 session creation, §5 stream restart, §6 stream errors)
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { tokenFromUrl } from '../auth/jwt.js';
import type { ConnectionInfo, XmppServer } from '../server.js';
import { Session, type Transport } from '../session.js';
import { StreamError } from '../stanza/errors.js';
import { NS_HTTPBIND, NS_STREAM_ERRORS, NS_STREAMS, NS_XBOSH } from '../stanza/ns.js';
import { type Element, escapeXML } from '../stanza/xml.js';
import { XmlStreamParser } from '../stream/parser.js';
import { ByteRateLimiter } from './throttle.js';

/** Highest BOSH protocol version implemented. */
const BOSH_VERSION = { major: 1, minor: 11 };
const DEFAULT_CONTENT_TYPE = 'text/xml; charset=utf-8';
/** `content` attributes we echo as Content-Type (anything else falls back to the default). */
const CONTENT_TYPE_RE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(?:\s*;\s*charset=[A-Za-z0-9_.:-]+)?$/;
/** Shortest polling interval we advertise (seconds); not enforced. */
const POLLING_SECONDS = 5;
/** Largest rid a client may use (XEP-0124 §14.1: 2^53-1). */
const MAX_RID = Number.MAX_SAFE_INTEGER;
/** Stream errors that are also BOSH terminal conditions raised by the connection manager itself. */
const OWN_CONDITIONS = new Set(['host-unknown', 'system-shutdown']);
/** Deprecated HTTP codes for legacy clients (XEP-0124 §17.1). */
const LEGACY_HTTP: Record<string, number> = { 'bad-request': 400, 'policy-violation': 403, 'item-not-found': 404 };

const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
};

/** One POSTed `<body/>` (after parsing). */
interface BoshRequest {
  rid: number;
  attrs: Record<string, string>;
  payloads: Element[];
  /** Where the answer goes; replaced when the client re-sends the same rid. */
  res: ServerResponse;
  /** Wait timer while held. */
  timer?: NodeJS.Timeout | undefined;
}

/** A BOSH session's request bookkeeping (see BoshManager.inspect). */
export interface BoshSessionState {
  /** Requests held open (processed, not answered). */
  held: number;
  /** Requests received ahead of a rid gap. */
  early: number;
  /** Requests delayed by the rate limiter. */
  delayed: number;
  /** Stanzas waiting for a request. */
  queued: number;
  /** The rid expected next. */
  nextRid: number;
}

/** `<body/>` (self-closing when empty) with the given attributes and serialized payloads. */
function bodyXml(attrs: Record<string, string | undefined>, payloads = ''): string {
  let s = `<body xmlns="${NS_HTTPBIND}"`;
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) s += ` ${k}="${escapeXML(v)}"`;
  }
  return payloads ? `${s} xmlns:stream="${NS_STREAMS}">${payloads}</body>` : `${s}/>`;
}

function terminateXml(condition: string | undefined, payloads = ''): string {
  return bodyXml({ type: 'terminate', condition }, payloads);
}

function usable(res: ServerResponse): boolean {
  return !res.writableEnded && !res.destroyed;
}

function send(res: ServerResponse, status: number, body: string, contentType = DEFAULT_CONTENT_TYPE): void {
  if (!usable(res)) return;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-store');
  res.end(body);
}

/** A non-negative integer attribute, or undefined. */
function intAttr(v: string | undefined): number | undefined {
  if (v === undefined || !/^[0-9]{1,16}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= MAX_RID ? n : undefined;
}

/** The version we answer with: the client's `ver` or ours, whichever is lower (XEP-0124 §7.2). */
function negotiateVersion(ver: string | undefined): string {
  const m = ver ? /^([0-9]{1,4})\.([0-9]{1,4})$/.exec(ver) : null;
  const ours = `${BOSH_VERSION.major}.${BOSH_VERSION.minor}`;
  if (!m) return ours;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major < BOSH_VERSION.major || (major === BOSH_VERSION.major && minor < BOSH_VERSION.minor)) return `${major}.${minor}`;
  return ours;
}

/** Attribute `local` of namespace urn:xmpp:xbosh, whatever prefix the client declared for it (usually `xmpp`). */
function xboshAttr(attrs: Record<string, string>, local: string): string | undefined {
  for (const k in attrs) {
    if (k.startsWith('xmlns:') && attrs[k] === NS_XBOSH) {
      const v = attrs[`${k.slice(6)}:${local}`];
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** The BOSH session: a Transport for one Session, plus the rid window and the held requests. */
class BoshSession implements Transport {
  readonly kind = 'bosh' as const;
  readonly secure: boolean;
  readonly remoteAddress: string | undefined;
  readonly sid: string;
  readonly session: Session;
  readonly limiter: ByteRateLimiter;
  readonly wait: number;
  readonly hold: number;
  readonly requests: number;
  readonly inactivity: number;
  readonly ver: string;
  /** The client sent no `ver` (XEP-0124 §17.1): it expects HTTP error codes. */
  readonly legacy: boolean;
  readonly contentType: string;
  readonly #manager: BoshManager;
  readonly #server: XmppServer;
  readonly #to: string;
  readonly #lang: string;
  /** The rid expected next: every lower rid has been processed. */
  #nextRid: number;
  /** Requests that arrived ahead of a gap, by rid. */
  readonly #early = new Map<number, BoshRequest>();
  /** Processed requests not answered yet, oldest (lowest rid) first. */
  #held: BoshRequest[] = [];
  /** Answers to the most recent requests, for re-sent rids (XEP-0124 §14.3). */
  readonly #answers = new Map<number, string>();
  /** Serialized stanzas waiting for a request to carry them. */
  #queue: string[] = [];
  #queuedChars = 0;
  readonly #maxQueuedChars: number;
  /** Attributes of the last stream header the session sent (sendOpen). */
  #stream: Record<string, string> = {};
  /** `<stream:error/>` the session sent just before closing. */
  #streamError: string | undefined;
  #streamErrorCondition: string | undefined;
  /** Requests delayed by the rate limiter. */
  readonly #delayed = new Map<NodeJS.Timeout, BoshRequest>();
  #inactivityTimer: NodeJS.Timeout | undefined;
  #flushScheduled: NodeJS.Immediate | undefined;
  #ended = false;

  constructor(manager: BoshManager, server: XmppServer, sid: string, first: BoshRequest, info: ConnectionInfo) {
    const cfg = server.config.bosh;
    const attrs = first.attrs;
    this.#manager = manager;
    this.#server = server;
    this.sid = sid;
    this.secure = info.secure;
    this.remoteAddress = info.remoteAddress;
    this.wait = Math.min(intAttr(attrs.wait) ?? cfg.maxWaitSeconds, cfg.maxWaitSeconds);
    this.hold = Math.min(intAttr(attrs.hold) ?? 1, cfg.maxHold);
    // "RECOMMENDED value is one more than the value of hold" (§7.2); at least 2 so pipelining clients work.
    this.requests = Math.max(2, this.hold + 1);
    this.inactivity = cfg.inactivitySeconds;
    this.legacy = attrs.ver === undefined;
    this.ver = negotiateVersion(attrs.ver);
    const content = attrs.content;
    this.contentType = content && CONTENT_TYPE_RE.test(content) ? content : DEFAULT_CONTENT_TYPE;
    this.#to = attrs.to ?? '';
    this.#lang = attrs['xml:lang'] ?? 'en';
    this.#nextRid = first.rid + 1;
    this.#maxQueuedChars = cfg.maxBodyBytes * 8;
    const limits = server.config.limits;
    this.limiter = new ByteRateLimiter(limits.bytesPerSecond, limits.burstBytes);
    this.session = new Session(server, this);
    // JWT auth: `?token=` of the session creation request (PROTOCOL-FEATURES §9.1).
    if (server.auth.wantsToken) this.session.token = info.token;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Counters for tests and diagnostics. */
  get state(): BoshSessionState {
    return { held: this.#held.length, early: this.#early.size, delayed: this.#delayed.size, queued: this.#queue.length, nextRid: this.#nextRid };
  }

  // ------------------------------------------------------------------ Transport (called by the session)

  sendOpen(attrs: Record<string, string>): void {
    this.#stream = { ...attrs };
  }

  send(data: string): void {
    if (this.#ended) return;
    if (data.startsWith('<stream:error')) {
      // Session.close(err) sends this right before close(); it goes into the terminate body.
      this.#streamError = data;
      this.#streamErrorCondition = /<([a-z-]+) xmlns="urn:ietf:params:xml:ns:xmpp-streams"/.exec(data)?.[1];
      return;
    }
    this.#queue.push(data);
    this.#queuedChars += data.length;
    if (this.#queuedChars > this.#maxQueuedChars) {
      // The client stopped fetching; don't buffer without bound until the inactivity timer fires.
      this.session.close(new StreamError('policy-violation', 'too much undelivered data'));
      return;
    }
    if (!this.#flushScheduled) this.#flushScheduled = setImmediate(() => {
      this.#flushScheduled = undefined;
      this.#flush();
    });
  }

  /** The session ends the stream: answer what we hold with a terminate body. */
  close(): void {
    if (this.#ended) return;
    let condition: string | undefined;
    if (this.#streamError !== undefined) {
      const c = this.#streamErrorCondition;
      condition = c && OWN_CONDITIONS.has(c) ? c : 'remote-stream-error';
    }
    this.#end(condition);
  }

  // ------------------------------------------------------------------ requests (called by the manager)

  /** First request: open the stream and answer with the session attributes and the features. */
  start(first: BoshRequest): void {
    this.#server.registerSession(this.session);
    this.#watch(first);
    this.#held.push(first);
    const version = xboshAttr(first.attrs, 'version');
    this.session.streamOpened({ to: this.#to, 'xml:lang': this.#lang, ...(version !== undefined ? { version } : {}) });
    if (this.#ended) return; // host-unknown etc.: close() answered the request
    this.#held.shift();
    this.#answer(first, {
      'xmlns:xmpp': NS_XBOSH,
      sid: this.sid,
      wait: String(this.wait),
      requests: String(this.requests),
      hold: String(this.hold),
      inactivity: String(this.inactivity),
      polling: String(POLLING_SECONDS),
      ver: this.ver,
      from: this.#stream.from,
      authid: this.#stream.id,
      'xmpp:version': '1.0',
      'xmpp:restartlogic': 'true',
    });
    this.#armInactivity();
  }

  /** A request for this session arrived (before any rate-limit delay): the client is alive. */
  touch(): void {
    if (this.#inactivityTimer) clearTimeout(this.#inactivityTimer);
    this.#inactivityTimer = undefined;
  }

  /** Process `req` after `delayMs` (rate limit): it keeps its place, it is not dropped. */
  defer(req: BoshRequest, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#delayed.delete(timer);
      this.receive(req);
    }, delayMs);
    this.#delayed.set(timer, req);
  }

  receive(req: BoshRequest): void {
    if (this.#ended) return send(req.res, 200, terminateXml('item-not-found'));
    this.touch();
    const rid = req.rid;
    if (rid < this.#nextRid) this.#repeated(req);
    else if (rid >= this.#nextRid + this.requests) {
      this.session.log.debug({ rid, expected: this.#nextRid }, 'BOSH rid out of window');
      this.fail('item-not-found', req.res);
      return;
    } else if (rid > this.#nextRid) {
      const prev = this.#early.get(rid);
      if (prev) this.#supersede(prev, req);
      else {
        this.#watch(req);
        this.#early.set(rid, req);
      }
    } else {
      this.#watch(req);
      this.#process(req);
      let next = this.#early.get(this.#nextRid);
      while (next && !this.#ended) {
        this.#early.delete(next.rid);
        this.#process(next);
        next = this.#early.get(this.#nextRid);
      }
    }
    this.#flush();
  }

  /** End the session with a binding error; `res` (a request not in the session) gets it too. */
  fail(condition: string, res?: ServerResponse): void {
    if (res) this.#sendError(res, condition);
    if (this.#ended) return;
    this.#end(condition, false, res !== undefined);
    this.session.close();
  }

  // ------------------------------------------------------------------ internals

  #process(req: BoshRequest): void {
    this.#nextRid = req.rid + 1;
    this.#held.push(req);
    for (const el of req.payloads) {
      if (this.#ended) return;
      this.session.receive(el);
    }
    if (this.#ended) return;
    if (xboshAttr(req.attrs, 'restart') === 'true') {
      // XEP-0206 §5: the response to the restart request carries the new stream features.
      this.session.streamOpened({ to: req.attrs.to ?? this.#to, 'xml:lang': req.attrs['xml:lang'] ?? this.#lang, version: '1.0' });
    }
    if (req.attrs.type === 'terminate' && !this.#ended) {
      // §13: payloads (unavailable presence) were forwarded; the oldest open request acknowledges.
      this.session.log.debug('BOSH session terminated by the client');
      this.#end(undefined, true);
      this.session.close();
    }
  }

  /** A rid we have already processed: answer again from the buffer, or take over the held request. */
  #repeated(req: BoshRequest): void {
    const answer = this.#answers.get(req.rid);
    if (answer !== undefined) return send(req.res, 200, answer, this.contentType);
    const held = this.#held.find((r) => r.rid === req.rid);
    if (held) return this.#supersede(held, req);
    this.session.log.debug({ rid: req.rid }, 'BOSH rid repeated but no longer buffered');
    this.fail('item-not-found', req.res);
  }

  /** The client re-sent a rid we have not answered yet: the old connection gets a recoverable error (§14.3). */
  #supersede(old: BoshRequest, req: BoshRequest): void {
    send(old.res, 200, bodyXml({ type: 'error' }), this.contentType);
    old.res = req.res;
    this.#watch(old);
  }

  /** Notice when a request's connection goes away before we answer it. */
  #watch(req: BoshRequest): void {
    const res = req.res;
    res.once('close', () => {
      if (req.res !== res || res.writableEnded || this.#ended) return;
      const i = this.#held.indexOf(req);
      if (i === -1) return; // early or delayed: still processed when its turn comes; the answer is lost
      // A held request whose client went away: it counts as answered with an empty body (so a re-send gets that,
      // and nothing queued is lost).
      this.#held.splice(i, 1);
      if (req.timer) clearTimeout(req.timer);
      this.#remember(req.rid, bodyXml({}));
      this.#armInactivity();
    });
  }

  /** Answer held requests that have something to carry or that exceed `hold`; time the rest. */
  #flush(): void {
    if (this.#ended) return;
    if (this.#flushScheduled) {
      clearImmediate(this.#flushScheduled);
      this.#flushScheduled = undefined;
    }
    while (this.#held.length > 0 && (this.#queue.length > 0 || this.#held.length > this.hold)) {
      this.#answer(this.#held.shift() as BoshRequest);
    }
    for (const r of this.#held) {
      if (!r.timer) r.timer = setTimeout(() => this.#expire(r), this.wait * 1000);
    }
    this.#armInactivity();
  }

  /** `wait` elapsed for `req`: answer it (and anything older) with what we have, usually nothing. */
  #expire(req: BoshRequest): void {
    if (this.#ended) return;
    const i = this.#held.indexOf(req);
    if (i === -1) return;
    for (const r of this.#held.splice(0, i + 1)) this.#answer(r);
    this.#flush();
  }

  /** Answer `req` with the queued stanzas (when its connection is still there) and buffer the answer. */
  #answer(req: BoshRequest, attrs: Record<string, string | undefined> = {}): void {
    if (req.timer) clearTimeout(req.timer);
    req.timer = undefined;
    if (!usable(req.res)) {
      this.#remember(req.rid, bodyXml({}));
      return;
    }
    const payloads = this.#queue.join('');
    this.#queue = [];
    this.#queuedChars = 0;
    const body = bodyXml(attrs, payloads);
    this.#remember(req.rid, body);
    send(req.res, 200, body, this.contentType);
  }

  #remember(rid: number, body: string): void {
    this.#answers.set(rid, body);
    // Keep the answers to the last `requests` rids only (answers may be recorded out of rid order).
    const oldest = this.#nextRid - this.requests;
    for (const k of this.#answers.keys()) if (k < oldest) this.#answers.delete(k);
  }

  /** Inactivity counts while no request is held or waiting (XEP-0124 §10). */
  #armInactivity(): void {
    if (this.#ended) return;
    if (this.#held.length > 0 || this.#delayed.size > 0) {
      this.touch();
      return;
    }
    if (this.#inactivityTimer) return;
    this.#inactivityTimer = setTimeout(() => {
      this.#inactivityTimer = undefined;
      if (this.#ended) return;
      this.session.log.debug('BOSH session inactive');
      this.#end(undefined);
      this.session.close();
    }, this.inactivity * 1000);
    this.#inactivityTimer.unref?.();
  }

  #sendError(res: ServerResponse, condition: string): void {
    const legacyCode = this.legacy ? LEGACY_HTTP[condition] : undefined;
    if (legacyCode) send(res, legacyCode, '', 'text/plain; charset=utf-8');
    else send(res, 200, terminateXml(condition), this.contentType);
  }

  /**
   * Tear down: timers off, unregistered, every open request answered. The oldest gets the terminate body with
   * whatever was still queued (and the stream error); for a client-requested terminate the others get empty
   * bodies (§13), otherwise the same terminate.
   */
  #end(condition: string | undefined, byClient = false, delivered = false): void {
    if (this.#ended) return;
    this.#ended = true;
    this.touch();
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled);
    this.#flushScheduled = undefined;
    this.#manager.removeSession(this);
    this.#server.connectionClosed(this.remoteAddress);
    const open: BoshRequest[] = [...this.#held, ...[...this.#early.values()].sort((a, b) => a.rid - b.rid), ...this.#delayed.values()];
    for (const t of this.#delayed.keys()) clearTimeout(t);
    this.#delayed.clear();
    this.#early.clear();
    this.#held = [];
    this.#answers.clear();
    const payloads = this.#queue.join('') + (this.#streamError ?? '');
    this.#queue = [];
    this.#queuedChars = 0;
    let first = true;
    for (const r of open) {
      if (r.timer) clearTimeout(r.timer);
      r.timer = undefined;
      if (!usable(r.res)) continue;
      if (!first && byClient) send(r.res, 200, bodyXml({}), this.contentType);
      else if (condition !== undefined && this.legacy && LEGACY_HTTP[condition]) this.#sendError(r.res, condition);
      else send(r.res, 200, terminateXml(condition, first ? payloads : ''), this.contentType);
      first = false;
    }
    if (first && condition !== undefined && !delivered) {
      // No request to carry the error (the client was between requests): its next request gets it (the stream
      // error only; undelivered stanzas of a dead session are not worth keeping).
      this.#manager.tombstone(this.sid, terminateXml(condition, this.#streamError ?? ''), this.contentType, this.inactivity * 1000);
    }
  }
}

/** The /http-bind endpoint: HTTP plumbing, body parsing and the sid → BOSH session table. */
export class BoshManager {
  readonly #server: XmppServer;
  readonly #sessions = new Map<string, BoshSession>();
  /** Terminate bodies of sessions that ended while no request was open, for the client's next request. */
  readonly #tombstones = new Map<string, { body: string; contentType: string; timer: NodeJS.Timeout }>();
  #stopped = false;

  constructor(server: XmppServer) {
    this.#server = server;
  }

  /** Live BOSH sessions (for tests and stats). */
  get size(): number {
    return this.#sessions.size;
  }

  /** Terminate bodies kept for sessions that ended between requests (introspection). */
  get tombstoneCount(): number {
    return this.#tombstones.size;
  }

  handle(req: IncomingMessage, res: ServerResponse, info: ConnectionInfo): void {
    for (const k in CORS_HEADERS) res.setHeader(k, CORS_HEADERS[k] as string);
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.statusCode = 204;
      res.end();
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(method === 'HEAD' ? undefined : 'XMPP over BOSH (XEP-0124, XEP-0206): POST <body/> elements here.\n');
      return;
    }
    if (method !== 'POST') {
      res.statusCode = 405;
      res.setHeader('Allow', 'GET, HEAD, POST, OPTIONS');
      res.end();
      return;
    }
    // The token only matters for a session creation request; the URL is never logged.
    this.#readBody(req, res, this.#server.auth.wantsToken ? { ...info, token: info.token ?? tokenFromUrl(req.url) } : info);
  }

  /** Answer every held request with `system-shutdown`, stop all timers, refuse new sessions. */
  stop(): void {
    this.#stopped = true;
    for (const s of [...this.#sessions.values()]) s.fail('system-shutdown');
    this.#sessions.clear();
    for (const t of this.#tombstones.values()) clearTimeout(t.timer);
    this.#tombstones.clear();
  }

  /** Keep `body` for the next request on `sid` (at most `ttlMs`). */
  tombstone(sid: string, body: string, contentType: string, ttlMs: number): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => this.#tombstones.delete(sid), ttlMs);
    timer.unref();
    this.#tombstones.set(sid, { body, contentType, timer });
  }

  /** The Session and request bookkeeping behind `sid` (tests, diagnostics). */
  inspect(sid: string): (BoshSessionState & { session: Session }) | undefined {
    const s = this.#sessions.get(sid);
    return s ? { ...s.state, session: s.session } : undefined;
  }

  /** Called by a BOSH session when it ends. */
  removeSession(s: { readonly sid: string }): void {
    if (this.#sessions.get(s.sid) === s) this.#sessions.delete(s.sid);
  }

  #readBody(req: IncomingMessage, res: ServerResponse, info: ConnectionInfo): void {
    const maxBytes = this.#server.config.bosh.maxBodyBytes;
    const limits = this.#server.config.limits;
    let root: Record<string, string> | undefined;
    let rootOk = false;
    let closed = false;
    let error: StreamError | undefined;
    const payloads: Element[] = [];
    const parser = new XmlStreamParser(
      'stream',
      {
        streamOpen: (name, attrs) => {
          root = attrs;
          rootOk = name === 'body' && attrs.xmlns === NS_HTTPBIND;
        },
        element: (el) => void payloads.push(el),
        streamClose: () => {
          closed = true;
        },
        error: (err) => {
          error = err;
        },
      },
      { maxStanzaSize: limits.maxStanzaSize, maxDepth: limits.maxXmlDepth, maxAttributes: limits.maxAttributes },
    );
    const decoder = new StringDecoder('utf8');
    let bytes = 0;
    let done = false;

    const tooLarge = () => {
      done = true;
      res.setHeader('Connection', 'close');
      send(res, 413, terminateXml('policy-violation'));
      // The session whose body this was (if its start tag got through) has lost a request: end it.
      const s = root?.sid !== undefined ? this.#sessions.get(root.sid) : undefined;
      s?.fail('policy-violation');
      req.resume(); // discard the rest; the connection closes after the response
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) return tooLarge();

    req.on('data', (chunk: Buffer) => {
      if (done) return;
      bytes += chunk.length;
      if (bytes > maxBytes) return tooLarge();
      if (!error) parser.write(decoder.write(chunk));
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      if (!error) parser.write(decoder.end());
      this.#dispatch(res, info, root, rootOk && closed && !error, error, payloads, bytes);
    });
    req.on('error', () => {
      done = true; // the client went away mid-body: nothing to answer
    });
  }

  #dispatch(
    res: ServerResponse,
    info: ConnectionInfo,
    attrs: Record<string, string> | undefined,
    ok: boolean,
    error: StreamError | undefined,
    payloads: Element[],
    bytes: number,
  ): void {
    if (this.#stopped) return send(res, 200, terminateXml('system-shutdown'));
    const sid = attrs?.sid;
    const session = sid !== undefined ? this.#sessions.get(sid) : undefined;
    if (sid !== undefined && !session) {
      const t = this.#tombstones.get(sid);
      if (!t) return send(res, 200, terminateXml('item-not-found'));
      clearTimeout(t.timer);
      this.#tombstones.delete(sid);
      return send(res, 200, t.body, t.contentType);
    }
    const rid = intAttr(attrs?.rid);
    if (!ok || !attrs || rid === undefined) {
      // XEP-0124 §17.2: a body we cannot use is a terminal `bad-request` (limits exceeded: `policy-violation`).
      const condition = error?.condition === 'policy-violation' ? 'policy-violation' : 'bad-request';
      if (session) session.fail(condition, res);
      else send(res, 200, terminateXml(condition));
      return;
    }
    const request: BoshRequest = { rid, attrs, payloads, res };
    if (!session) return this.#create(request, info, bytes);
    session.touch();
    const delay = session.limiter.consume(bytes);
    if (delay > 0) session.defer(request, delay);
    else session.receive(request);
  }

  /** Session creation request (XEP-0124 §7.1, XEP-0206 §4). */
  #create(first: BoshRequest, info: ConnectionInfo, bytes: number): void {
    if (!first.attrs.to) return send(first.res, 200, terminateXml('improper-addressing'));
    if (!this.#server.connectionOpened(info.remoteAddress)) {
      return send(first.res, 200, terminateXml('policy-violation'));
    }
    // XEP-0124 §7.2 / §19.3: unique and unpredictable; 144 random bits.
    const sid = randomBytes(18).toString('base64url');
    const s = new BoshSession(this, this.#server, sid, first, info);
    this.#sessions.set(sid, s);
    s.limiter.consume(bytes);
    s.session.log.debug({ wait: s.wait, hold: s.hold }, 'BOSH session created');
    s.start(first);
  }
}
