/**
 * XML mutators for the parser and session fuzzers. Inputs are JS strings (what the transports hand the parser after
 * UTF-8 decoding); byte-level mutators encode to UTF-8, mutate the bytes and decode again the way the transports do
 * (`Buffer#toString('utf8')`: invalid sequences become U+FFFD), and a few string mutators put in what decoding can
 * never produce (lone surrogates, U+FFFE) to keep the parser honest when called directly.
 *
 * Structure-aware ones: truncation at tag boundaries, splicing two documents at '<', deep nesting around the
 * configured depth limit (and far past it), huge attribute values and attribute counts around the limits, duplicate
 * attributes, restricted XML (comments, PIs, DOCTYPE/ENTITY, undefined entities, bad character references),
 * mismatched end tags, broken quoting, mangled names and whole-stanza repetition. Each case stacks 1–4 of them; the
 * names go into failure reports. The PRNG is the bridge fuzzers' (seeded sfc32, one per case).
 */
import type { Prng } from '../../../bridge/test/fuzz/prng.js';
import { RESTRICTED } from './corpus.js';

export interface XmlMutationContext {
  /** Other corpus entries (for splicing). */
  donors: readonly string[];
  /** The limits the target runs with (nesting and attribute mutators aim around them). */
  maxDepth: number;
  maxAttributes: number;
  maxStanzaSize: number;
}

export type XmlMutator = (rng: Prng, s: string, ctx: XmlMutationContext) => string;

/** A position biased towards tag boundaries (just after '>' or at '<') half the time. */
function pos(rng: Prng, s: string): number {
  if (s.length === 0) return 0;
  const i = rng.int(s.length + 1);
  if (rng.chance(0.5)) {
    const c = rng.chance(0.5) ? s.indexOf('>', i) : s.indexOf('<', i);
    if (c !== -1) return s[c] === '>' ? c + 1 : c;
  }
  return i;
}

function insertAt(s: string, i: number, x: string): string {
  return s.slice(0, i) + x + s.slice(i);
}

const SPECIAL = ['<', '>', '&', '"', "'", '/', '=', ' ', ':', ';', '#', '!', '?', '[', ']', '-', '\t', '\n', '\u00e9', '\u4e2d', '\u{1F600}', '\u200b', '\u0085'];

const bytes = (f: (rng: Prng, b: Buffer) => Buffer): XmlMutator => (rng, s) => f(rng, Buffer.from(s, 'utf8')).toString('utf8');

export const XML_MUTATORS: Readonly<Record<string, XmlMutator>> = {
  byteFlip: bytes((rng, b) => {
    if (b.length === 0) return b;
    for (let n = rng.range(1, 6); n > 0; n--) {
      const i = rng.int(b.length);
      b[i] = (b[i] as number) ^ (1 << rng.int(8));
    }
    return b;
  }),
  byteSet: bytes((rng, b) => {
    if (b.length === 0) return b;
    for (let n = rng.range(1, 4); n > 0; n--) b[rng.int(b.length)] = rng.pick([0x00, 0x3c, 0x3e, 0x26, 0x22, 0x27, 0x2f, 0x3d, 0x80, 0xc0, 0xfe, 0xff, rng.byte()]);
    return b;
  }),
  invalidUtf8: bytes((rng, b) => {
    const bad = rng.pick([[0xc0, 0x80], [0xed, 0xa0, 0x80], [0xff], [0xfe, 0xff], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xc3]]);
    const i = rng.int(b.length + 1);
    return Buffer.concat([b.subarray(0, i), Buffer.from(bad), b.subarray(i)]);
  }),
  loneSurrogate: (rng, s) => insertAt(s, pos(rng, s), rng.pick(['\uD800', '\uDFFF', '\uDBFF\uDBFF', '\uFFFE', '\uFFFF', '\u0000', '\u000B', '\u001F'])),
  truncate: (rng, s) => {
    if (s.length === 0) return s;
    const k = rng.int(3);
    if (k === 0) return s.slice(0, rng.int(s.length));
    if (k === 1) return s.slice(0, Math.max(0, s.length - rng.range(1, 8)));
    return s.slice(0, pos(rng, s));
  },
  chopHead: (rng, s) => s.slice(rng.chance(0.5) ? pos(rng, s) : rng.int(s.length + 1)),
  splice: (rng, s, ctx) => {
    const d = ctx.donors.length > 0 ? rng.pick(ctx.donors) : s;
    return s.slice(0, pos(rng, s)) + d.slice(pos(rng, d));
  },
  deleteRange: (rng, s) => {
    const i = rng.int(s.length + 1);
    return s.slice(0, i) + s.slice(i + rng.length(Math.min(64, s.length - i)));
  },
  duplicateRange: (rng, s) => {
    const i = rng.int(s.length + 1);
    const n = rng.length(Math.min(200, s.length - i));
    return insertAt(s, i, s.slice(i, i + n).repeat(rng.range(1, 4)));
  },
  insertSpecial: (rng, s) => {
    let out = s;
    for (let n = rng.range(1, 4); n > 0; n--) out = insertAt(out, rng.int(out.length + 1), rng.pick(SPECIAL));
    return out;
  },
  replaceChar: (rng, s) => {
    if (s.length === 0) return s;
    const i = rng.int(s.length);
    return s.slice(0, i) + rng.pick(SPECIAL) + s.slice(i + 1);
  },
  restricted: (rng, s) => insertAt(s, pos(rng, s), rng.pick(RESTRICTED)),
  billionLaughs: () =>
    `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]><lolz>&lol9;</lolz>`,
  deepNest: (rng, s, ctx) => {
    const k = rng.int(4);
    const n = Math.max(1, k === 0 ? ctx.maxDepth + rng.range(-2, 2) : k === 1 ? rng.range(1, 64) : k === 2 ? rng.range(100, 5000) : ctx.maxDepth * 2);
    const name = rng.pick(['a', 'x', 'query', 'p:q']);
    const close = rng.chance(0.7);
    const inner = `<${name}>`.repeat(n) + (rng.chance(0.3) ? 'text' : '') + (close ? `</${name}>`.repeat(n) : '');
    return insertAt(s, pos(rng, s), inner);
  },
  hugeAttr: (rng, s, ctx) => {
    const at = s.indexOf(' ', s.indexOf('<', rng.int(s.length)));
    const k = rng.int(3);
    const len = k === 0 ? rng.range(1000, 5000) : k === 1 && (ctx.maxStanzaSize <= 8192 || rng.chance(0.1)) ? ctx.maxStanzaSize + rng.range(-64, 64) : rng.length(4096);
    const fill = rng.pick(['a', '&amp;', '&#x41;', ' ', '"', '\u00e9', '&lt;']);
    const value = fill.repeat(Math.max(0, Math.ceil(len / fill.length)));
    const q = rng.chance(0.8) ? '"' : "'";
    return insertAt(s, at === -1 ? 0 : at, ` huge=${q}${value}${q}`);
  },
  manyAttrs: (rng, s, ctx) => {
    const at = s.indexOf(' ', s.indexOf('<', rng.int(s.length)));
    const n = rng.chance(0.5) ? ctx.maxAttributes + rng.range(-2, 2) : rng.range(1, 500);
    let a = '';
    for (let i = 0; i < n; i++) a += ` a${i}="${i}"`;
    return insertAt(s, at === -1 ? 0 : at, a);
  },
  duplicateAttr: (rng, s) => {
    const m = /\s([A-Za-z:-]+)="[^"]*"/.exec(s.slice(rng.int(s.length)));
    if (!m) return s;
    const i = s.indexOf(m[0]);
    return insertAt(s, i, m[0]);
  },
  hugeText: (rng, s, ctx) => {
    const fill = rng.pick(['x', '&amp;', '&#233;', '&#x1F600;', ' ', ']]', '&amp']);
    const len = rng.chance(0.5) && (ctx.maxStanzaSize <= 8192 || rng.chance(0.1)) ? ctx.maxStanzaSize + rng.range(-16, 16) : rng.range(100, 8_000);
    const at = s.indexOf('>', rng.int(s.length));
    return insertAt(s, at === -1 ? s.length : at + 1, fill.repeat(Math.ceil(len / fill.length)));
  },
  mismatchEnd: (rng, s) => {
    const i = s.indexOf('</', rng.int(s.length));
    if (i === -1) return s;
    return insertAt(s, i + 2, rng.pick(['x', 'Y', ':', '-', ' ', '/']));
  },
  breakQuote: (rng, s) => {
    const i = s.indexOf(rng.chance(0.5) ? '"' : '=', rng.int(s.length));
    if (i === -1) return s;
    return s.slice(0, i) + rng.pick(['', "'", '""', '"\'"', '=', ' = ', '>', '<']) + s.slice(i + 1);
  },
  mangleName: (rng, s) => {
    const i = s.indexOf('<', rng.int(s.length));
    if (i === -1 || i + 1 >= s.length) return s;
    return insertAt(s, i + 1 + rng.int(3), rng.pick(['1', '-', '.', ':', ' ', '\u00b7', '\u0300', '\u{10000}', '', '\u00e9']));
  },
  repeat: (rng, s) => s.repeat(rng.range(2, 6)),
  whitespace: (rng, s) => insertAt(s, pos(rng, s), rng.pick([' ', '\n', '\r\n', '\t', '  \n\t ', '\u00a0', '\u3000']).repeat(rng.range(1, 50))),
};

const NAMES = Object.keys(XML_MUTATORS);
const FUNCS = Object.values(XML_MUTATORS);

/** Applies 1–4 random mutations (their names pushed to `applied`). */
export function mutateXml(rng: Prng, input: string, ctx: XmlMutationContext, applied: string[]): string {
  let s = input;
  for (let n = rng.weighted([0, 50, 30, 12, 8]); n > 0; n--) {
    const k = rng.int(FUNCS.length);
    applied.push(NAMES[k] as string);
    s = (FUNCS[k] as XmlMutator)(rng, s, ctx);
    // Keep inputs bounded: a few stacked "huge" mutations stay well under a megabyte.
    if (s.length > 600_000) s = s.slice(0, 600_000);
  }
  return s;
}

/** Splits `s` into chunks the way the network might: whole, one character at a time, small, or random sizes. */
export function chunks(rng: Prng, s: string): string[] {
  const k = rng.int(8);
  if (k <= 1 || s.length === 0) return [s];
  // Single-character chunks only for small inputs (they are the slowest path to feed, not to parse).
  // Large inputs get larger chunks (the cost of many tiny writes is the caller's, and linearity has its own test).
  const floor = s.length > 16_384 ? s.length >> 6 : 1;
  const max = Math.max(floor, k === 2 && s.length <= 4096 ? 1 : k <= 4 ? 8 : k <= 6 ? 128 : Math.max(1, s.length >> 1));
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const n = max === 1 ? 1 : rng.range(floor, max);
    out.push(s.slice(i, i + n));
    i += n;
  }
  return out;
}

const VALUES = [
  '', ' ', '@', '/', '@/', 'a@b@c', 'room1@conference.meet.jitsi', 'room1@conference.meet.jitsi/focus', 'meet.jitsi', 'focus.meet.jitsi',
  'conference.meet.jitsi', 'x'.repeat(1100), `${'a'.repeat(1030)}@meet.jitsi`, 'get', 'set', 'result', 'error', 'groupchat', 'chat', 'unavailable',
  'subscribe', '-1', '0', '4294967296', '1e309', 'NaN', 'true', '&amp;', '&lt;&gt;', '&#x1F600;', '\u00e9\u4e2d', 'jabber:client',
  'urn:xmpp:sm:3', 'http://jabber.org/protocol/muc', 'urn:xmpp:jingle:1', 'ANONYMOUS', 'PLAIN', 'session-initiate', '[', '{"a":', 'a\u200bb',
];

/**
 * Well-formedness-preserving mutations (attribute values, text, element names swapped among real ones), so the
 * session fuzzer reaches the stanza handlers rather than stopping at the parser.
 */
export function mutateSemantic(rng: Prng, input: string, applied: string[]): string {
  let s = input;
  for (let n = rng.range(1, 4); n > 0; n--) {
    const k = rng.int(4);
    if (k === 0 || k === 1) {
      // Attribute value (k = 1: the value of a routing attribute).
      const re = k === 1 ? /\s(to|from|type|id|xmlns|mechanism|h|action|sid|room)="([^"]*)"/g : /\s([A-Za-z:-]+)="([^"]*)"/g;
      const all = [...s.matchAll(re)];
      if (all.length === 0) continue;
      const m = rng.pick(all);
      const v = rng.pick(VALUES);
      const at = (m.index ?? 0) + m[0].length - 1 - (m[2] ?? '').length;
      s = s.slice(0, at) + v.replace(/"/g, '&quot;') + s.slice(at + (m[2] ?? '').length);
      applied.push(k === 0 ? 'attrValue' : 'routingAttr');
    } else if (k === 2) {
      const all = [...s.matchAll(/>([^<]+)</g)];
      if (all.length === 0) continue;
      const m = rng.pick(all);
      const at = (m.index ?? 0) + 1;
      s = s.slice(0, at) + rng.pick(VALUES).replace(/</g, '&lt;') + s.slice(at + (m[1] ?? '').length);
      applied.push('textValue');
    } else {
      // Drop a whole child element (<x .../> or <x ...>...</x> without nested same-name elements).
      const all = [...s.matchAll(/<([A-Za-z:_-]+)(\s[^<>]*)?(\/>|>[^<]*<\/\1>)/g)];
      if (all.length === 0) continue;
      const m = rng.pick(all);
      s = s.slice(0, m.index ?? 0) + s.slice((m.index ?? 0) + m[0].length);
      applied.push('dropChild');
    }
  }
  return s;
}
