/**
 * XML fuzz targets for the test suite (fuzz-xml.test.ts) and `npm run bench -- fuzz` (family `xml`, `xml-session`).
 * Both run on the bridge's fuzz engine (seeded per-case PRNG, failure reports with seed/case/hex, watchdog).
 *
 * `xml` — the XmlStreamParser alone, in stream or framed mode, with the default limits or small random ones, fed a
 * mutated corpus entry in random chunk sizes. Invariants per case:
 * - write() never throws; the handler sees elements and at most one error, a StreamError whose condition is one of
 *   restricted-xml, not-well-formed, policy-violation; nothing is emitted after the error or after more input;
 * - every emitted element is within the limits (depth, attributes per element, a lower bound of its source size);
 * - chunking does not matter: for the chunked feeds (a share of the cases) the same input fed in one piece gives
 *   the same elements and the same error condition;
 * - unmutated corpus entries parse without an error.
 * Linearity is checked separately (fuzz-xml.test.ts) and the watchdog kills a case stuck for 10 s.
 *
 * `xml-session` — a live XmppServer: every case opens a WebSocket connection through the server's real
 * `acceptWebSocket` (a fake ws object, so thousands of connections cost no sockets), optionally logs in
 * (open, SASL ANONYMOUS, restart, bind) and sends mutated stanzas as frames in random chunks. Afterwards a separate
 * healthy in-process session must get its ping answered; the fuzzed connection either was closed (with a stream error
 * when the server ended it) or answers a well-formed ping sent after the fuzz whenever the fuzz input ended on an
 * element boundary; everything the server wrote must be well-formed XML; nothing may be logged at error level.
 * `finish` checks that every connection's session is gone (no session leak).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { type CaseContext, type FuzzFamily, check } from '../../../bridge/test/fuzz/engine.js';
import type { Prng } from '../../../bridge/test/fuzz/prng.js';
import { type Element, type ParserLimits, type Session, StreamError, XmlStreamParser } from '../../src/index.js';
import { DEFAULT_PARSER_LIMITS } from '../../src/stream/parser.js';
import { type TestServer, startTestServer } from '../helpers.js';
import { FRAMED, STREAMS } from './corpus.js';
import { type XmlMutationContext, chunks, mutateSemantic, mutateXml } from './mutators.js';

const CONDITIONS = new Set(['restricted-xml', 'not-well-formed', 'policy-violation']);

export interface FeedResult {
  elements: string[];
  error: string | undefined;
  opens: number;
  closes: number;
}

function depthOf(el: Element): number {
  let d = 1;
  for (const c of el.children) if (typeof c !== 'string') d = Math.max(d, 1 + depthOf(c));
  return d;
}

/** A lower bound of the characters `el` took in the source (unescaping only shortens). */
function minSourceSize(el: Element): number {
  let n = el.name.length + 2;
  let attrs = 0;
  for (const k in el.attrs) {
    attrs++;
    n += k.length + (el.attrs[k] as string).length + 4;
  }
  check(attrs > 0 || Object.keys(el.attrs).length === 0, 'attrs');
  for (const c of el.children) n += typeof c === 'string' ? c.length : minSourceSize(c);
  return n;
}

function maxAttrs(el: Element): number {
  let m = Object.keys(el.attrs).length;
  for (const c of el.children) if (typeof c !== 'string') m = Math.max(m, maxAttrs(c));
  return m;
}

/** Feeds `parts` to a fresh parser, checking the per-element and error invariants. */
export function feed(mode: 'stream' | 'framed', limits: ParserLimits, parts: readonly string[]): FeedResult {
  const r: FeedResult = { elements: [], error: undefined, opens: 0, closes: 0 };
  const parser = new XmlStreamParser(
    mode,
    {
      streamOpen: (name, attrs) => {
        check(r.error === undefined, 'streamOpen after an error');
        check(r.opens === 0, 'second streamOpen');
        check(Object.keys(attrs).length <= limits.maxAttributes, 'stream header over the attribute limit');
        check(typeof name === 'string' && name.length > 0, 'empty root name');
        r.opens++;
      },
      streamClose: () => {
        check(r.error === undefined, 'streamClose after an error');
        check(r.opens === 1, 'streamClose without streamOpen');
        r.closes++;
      },
      element: (el) => {
        check(r.error === undefined, 'element after an error');
        check(mode === 'framed' || (r.opens === 1 && r.closes === 0), 'stream-mode element outside the root');
        check(el.parent === null, 'emitted element still has a parent');
        const d = depthOf(el);
        check(d <= limits.maxDepth, () => `element depth ${d} > maxDepth ${limits.maxDepth}`);
        const a = maxAttrs(el);
        check(a <= limits.maxAttributes, () => `${a} attributes > maxAttributes ${limits.maxAttributes}`);
        const size = minSourceSize(el);
        check(size <= limits.maxStanzaSize, () => `stanza of at least ${size} characters > maxStanzaSize ${limits.maxStanzaSize}`);
        r.elements.push(el.toString());
      },
      error: (err) => {
        check(r.error === undefined, 'second error');
        check(err instanceof StreamError, () => `error is not a StreamError: ${String(err)}`);
        check(CONDITIONS.has(err.condition), () => `unexpected error condition ${err.condition}`);
        r.error = err.condition;
      },
    },
    limits,
  );
  for (const p of parts) parser.write(p);
  if (r.error !== undefined) {
    check(parser.failed, 'error reported but parser.failed is false');
    const n = r.elements.length;
    parser.write('<a/><b>x</b>');
    check(r.elements.length === n, 'parser emitted after its error');
  }
  return r;
}

export interface XmlParserFamilyOptions {
  /** Share of chunked cases re-fed in one piece and compared (default 0.5). */
  differential?: number;
}

/** The `xml` family (see the file comment). */
export function createXmlParserFamily(opts: XmlParserFamilyOptions = {}): FuzzFamily {
  const diff = opts.differential ?? 0.5;
  const donors = [...FRAMED, ...STREAMS];
  return {
    name: 'xml',
    runCase(ctx: CaseContext): void {
      const rng = ctx.rng;
      const mode = rng.chance(0.5) ? 'framed' : 'stream';
      let base: string;
      if (mode === 'stream') {
        base = rng.chance(0.6)
          ? rng.pick(STREAMS)
          : `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="meet.jitsi" version="1.0">${rng.pick(FRAMED)}${rng.chance(0.5) ? rng.pick(FRAMED) : ''}`;
      } else {
        base = rng.pick(FRAMED);
        if (rng.chance(0.2)) base += rng.pick(FRAMED);
      }
      const limits: ParserLimits = rng.chance(0.35)
        ? { maxStanzaSize: rng.range(64, 4096), maxDepth: rng.range(1, 12), maxAttributes: rng.range(1, 12) }
        : DEFAULT_PARSER_LIMITS;
      const pristine = rng.chance(0.04);
      const mctx: XmlMutationContext = { donors, ...limits };
      const input = pristine ? base : mutateXml(rng, base, mctx, ctx.mutations);
      ctx.input(Buffer.from(input, 'utf8'));
      const parts = chunks(rng, input);
      const a = feed(mode, limits, parts);
      if (pristine && limits === DEFAULT_PARSER_LIMITS) {
        check(a.error === undefined, () => `valid corpus entry rejected: ${a.error}`);
        check(a.elements.length > 0 || (mode === 'stream' && a.opens === 1), 'valid corpus entry produced nothing');
      }
      if (parts.length > 1 && rng.chance(diff)) {
        const b = feed(mode, limits, [input]);
        // Input with two faults may report either: the chunked feed can decide that a kept partial token is too
        // large before its malformed rest arrives, or check a text run piecewise (an undefined entity in an early
        // piece before a forbidden character in a later one). Whether the input fails must not depend on chunking.
        check((a.error === undefined) === (b.error === undefined), () => `chunking changed the outcome: ${a.error ?? 'ok'} in ${parts.length} chunks, ${b.error ?? 'ok'} in one`);
        if (a.error !== b.error) ctx.outcome('chunked-error-condition-differs');
        check(a.opens === b.opens && a.closes === b.closes, 'chunking changed stream open/close');
        check(
          a.elements.length === b.elements.length && a.elements.every((e, i) => e === b.elements[i]),
          () => `chunking changed the elements (${a.elements.length} vs ${b.elements.length})`,
        );
      }
      ctx.outcome(`${mode}:${a.error ?? (a.elements.length > 0 || a.opens > 0 ? 'parsed' : 'pending')}`);
    },
  };
}

// ------------------------------------------------------------------------------------------- live session

/** Enough of a `ws` WebSocket for acceptWebSocket: frames the server sends are collected. */
class FakeWs extends EventEmitter {
  readyState = 1;
  readonly extensions = '';
  readonly sent: string[] = [];
  closeCode: number | undefined;

  send(data: string): void {
    this.sent.push(String(data));
  }

  ping(): void {}
  pause(): void {}
  resume(): void {}

  close(code?: number): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.closeCode = code ?? 1005;
    setImmediate(() => this.emit('close', this.closeCode));
  }

  /** The peer went away. */
  drop(): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    this.emit('close', 1006);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

function wellFormed(frames: readonly string[], from = 0): string | undefined {
  let bad: string | undefined;
  const p = new XmlStreamParser('framed', { element: () => {}, error: (e) => void (bad = e.condition) }, { maxStanzaSize: 50_000_000, maxDepth: 10_000, maxAttributes: 10_000 });
  for (let i = from; i < frames.length && bad === undefined; i++) {
    p.write(frames[i] as string);
    if (bad !== undefined) return `${bad}: ${(frames[i] as string).slice(0, 300)}`;
  }
  return bad;
}

export interface XmlSessionFamily extends FuzzFamily {
  readonly srv: TestServer;
  /** Sessions of fuzzed connections still alive (excluding ones detached for XEP-0198 resumption). */
  liveFuzzSessions(): number;
}

/** The `xml-session` family (see the file comment). */
export async function createXmlSessionFamily(): Promise<XmlSessionFamily> {
  const srv = await startTestServer({ limits: { maxConnectionsPerAddress: 10_000_000 } }, { logLevel: 'warn' });
  const domain = srv.domain;
  const healthyIn: Element[] = [];
  const healthy = srv.xmpp.createLocalSession(`healthy@${domain}/fuzz`, (el) => void healthyIn.push(el));
  const fuzzSessions = new Set<Session>();
  const donors = [...FRAMED];
  const limits = srv.xmpp.config.limits;
  const mctx: XmlMutationContext = { donors, maxDepth: limits.maxXmlDepth, maxAttributes: limits.maxAttributes, maxStanzaSize: limits.maxStanzaSize };
  let pingId = 0;
  let logsSeen = 0;
  const req = { url: '/xmpp-websocket', headers: {} } as IncomingMessage;

  const healthyPing = async (): Promise<void> => {
    const id = `h${++pingId}`;
    const ping = new XmlStreamParser('framed', { element: (el) => healthy.receive(el), error: (e) => { throw e; } });
    ping.write(`<iq xmlns="jabber:client" type="get" id="${id}" to="${domain}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    for (let i = 0; i < 200; i++) {
      const k = healthyIn.findIndex((el) => el.name === 'iq' && el.attrs.id === id);
      if (k !== -1) {
        const el = healthyIn[k] as Element;
        healthyIn.length = 0;
        check(el.attrs.type === 'result', () => `healthy ping answered with ${el.toString()}`);
        return;
      }
      await (i < 20 ? tick() : new Promise((r) => setTimeout(r, 5)));
    }
    check(false, 'the healthy session got no answer to its ping after the fuzzed input');
  };

  const sendFrames = (ws: FakeWs, frames: readonly string[]): void => {
    for (const f of frames) {
      if (ws.readyState !== 1) return;
      ws.emit('message', Buffer.from(f, 'utf8'), false);
    }
  };

  const buildFuzz = (rng: Prng, applied: string[]): string => {
    let s = '';
    for (let n = rng.range(1, 3); n > 0; n--) s += rng.pick(FRAMED);
    const k = rng.int(10);
    if (k === 0) return s;
    if (k <= 4) return mutateSemantic(rng, s, applied);
    return mutateXml(rng, s, mctx, applied);
  };

  const family: XmlSessionFamily = {
    name: 'xml-session',
    srv,
    liveFuzzSessions: () => {
      let n = 0;
      for (const s of fuzzSessions) if (s.state !== 'closed' && !s.detached) n++;
      return n;
    },
    async runCase(ctx: CaseContext): Promise<void> {
      const rng = ctx.rng;
      const ws = new FakeWs();
      const before = new Set(srv.xmpp.allSessions);
      srv.xmpp.handleWebSocket(ws as unknown as WebSocket, req, { secure: true, remoteAddress: '192.0.2.7' });
      for (const s of srv.xmpp.allSessions) if (!before.has(s)) fuzzSessions.add(s);
      const prelude = rng.int(3);
      if (prelude >= 1) sendFrames(ws, [`<open xmlns="${NS_FRAMING}" to="${domain}" version="1.0"/>`]);
      if (prelude === 2) {
        sendFrames(ws, [`<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>`]);
        for (let i = 0; i < 50 && !ws.sent.some((f) => f.startsWith('<success') || f.startsWith('<failure')); i++) await tick();
        sendFrames(ws, [`<open xmlns="${NS_FRAMING}" to="${domain}" version="1.0"/>`, `<iq type="set" id="bind1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`]);
        for (let i = 0; i < 50 && !ws.sent.some((f) => f.includes('id="bind1"')); i++) await tick();
        check(ws.sent.some((f) => f.includes('id="bind1"') && f.includes('type="result"')), () => `login failed: ${ws.sent.join(' | ').slice(0, 500)}`);
      }
      const input = buildFuzz(rng, ctx.mutations);
      ctx.input(Buffer.from(input, 'utf8'));
      const sentBefore = ws.sent.length;
      sendFrames(ws, chunks(rng, input));
      await tick();
      await tick();

      // Would a fresh ping after this input be an element of its own? (Our parser, with the server's limits.)
      let pingParses = false;
      const model = new XmlStreamParser('framed', { element: (el) => void (pingParses ||= el.attrs.id === 'fz-ping'), error: () => {} }, {
        maxStanzaSize: limits.maxStanzaSize,
        maxDepth: limits.maxXmlDepth,
        maxAttributes: limits.maxAttributes,
      });
      model.write(input);
      const ping = `<iq xmlns="jabber:client" type="get" id="fz-ping" to="${domain}"><ping xmlns="urn:xmpp:ping"/></iq>`;
      model.write(ping);

      let outcome: string;
      if (ws.readyState !== 1) {
        const closedByError = ws.sent.slice(sentBefore).some((f) => f.includes('urn:ietf:params:xml:ns:xmpp-streams'));
        outcome = closedByError ? 'stream-error' : 'closed';
      } else {
        const n = ws.sent.length;
        sendFrames(ws, [ping]);
        let answered = false;
        // A ping the server's parser must see as an element gets up to ~1 s; otherwise a few turns of the loop.
        for (let i = 0; i < (pingParses ? 300 : 4) && !answered; i++) {
          await (i < 20 ? tick() : new Promise((r) => setTimeout(r, 3)));
          answered = ws.readyState !== 1 || ws.sent.slice(n).some((f) => f.includes('fz-ping') || f.includes('xmpp-streams'));
        }
        if (answered) outcome = ws.readyState === 1 ? 'usable' : 'stream-error-after-ping';
        else {
          check(!pingParses, 'the fuzzed connection stays open but does not answer a well-formed ping');
          outcome = 'pending-partial-input';
        }
      }
      const bad = wellFormed(ws.sent);
      check(bad === undefined, () => `server wrote malformed XML: ${bad}`);
      ctx.outcome(`${prelude === 2 ? 'bound' : prelude === 1 ? 'opened' : 'raw'}:${outcome}`);
      ws.drop();
      await tick();
      await healthyPing();
      const logs = srv.logs;
      for (; logsSeen < logs.length; logsSeen++) {
        const l = logs[logsSeen] as Record<string, unknown>;
        check(typeof l.level !== 'number' || l.level < 50, () => `server logged an error: ${JSON.stringify(l).slice(0, 600)}`);
      }
      if (logs.length > 10_000) {
        logs.length = 0;
        logsSeen = 0;
      }
      for (const s of fuzzSessions) if (s.state === 'closed') fuzzSessions.delete(s);
    },
    async finish(): Promise<void> {
      for (let i = 0; i < 20 && family.liveFuzzSessions() > 0; i++) await new Promise((r) => setTimeout(r, 10));
      check(family.liveFuzzSessions() === 0, () => `${family.liveFuzzSessions()} fuzzed sessions still alive after their connections closed`);
      await healthyPing();
    },
    async close(): Promise<void> {
      await srv.stop();
    },
  };
  return family;
}
