/**
 * Incremental XML parser for XMPP streams, with the limits a public server needs.
 *
 * XMPP uses a restricted subset of XML (RFC 6120 §11.1): no comments, no processing instructions (except the
 * XML declaration at the start), no DTD, no entity references other than the five predefined ones and
 * character references. Anything from that list ends the stream with `restricted-xml`; a billion-laughs
 * document therefore dies at its `<!DOCTYPE`. Malformed XML gets `not-well-formed`. A top-level element larger
 * than `maxStanzaSize` characters or nested deeper than `maxDepth` gets `policy-violation`.
 *
 * Two modes:
 * - `stream` (TCP c2s, XEP-0114): the first element is the stream root; its direct children are emitted as
 *   they complete; the root's end tag is the stream close.
 * - `framed` (RFC 7395 WebSocket, BOSH bodies): every top-level element is emitted as it completes.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc6120#section-11 (XML usage restrictions)
 * - https://www.w3.org/TR/xml/ (well-formedness)
 */
import { StreamError } from '../stanza/errors.js';
import { Element } from '../stanza/xml.js';

export interface ParserLimits {
  /** Largest top-level element (stanza) in characters, tags and text included. */
  maxStanzaSize: number;
  /** Deepest element nesting inside a stanza (the stanza itself is depth 1). */
  maxDepth: number;
  /** Most attributes on one element. */
  maxAttributes: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = { maxStanzaSize: 262_144, maxDepth: 32, maxAttributes: 64 };

export interface ParserHandler {
  /** Stream mode only: the root element opened. */
  streamOpen?(name: string, attrs: Record<string, string>): void;
  /** A complete top-level element (framed) or a complete child of the root (stream). */
  element(el: Element): void;
  /** Stream mode only: the root element closed. */
  streamClose?(): void;
  /** The input is bad; the parser refuses further input until reset(). */
  error(err: StreamError): void;
}

const NAME_RE = /^[A-Za-z_\u00C0-\uFFFF][-A-Za-z0-9_.:\u00B7\u00C0-\uFFFF]*$/;
const WS_RE = /^[ \t\r\n]*$/;
/** Characters XML 1.0 forbids even literally (§2.2 Char): C0 controls other than TAB/LF/CR, U+FFFE, U+FFFF. */
const BAD_CHAR_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/**
 * What a kept partial token waits for. New input is scanned only for that (never the kept part again), so a
 * token that arrives in many small chunks costs linear, not quadratic, time.
 */
type Wait =
  | { kind: 'none' }
  /** A few characters ('<', '<!', '<![CD'): just rejoin. */
  | { kind: 'short' }
  /** A tag: the '>' outside quoted attribute values; `quote` is the open quote's char code or 0. */
  | { kind: 'tag'; quote: number }
  /** CDATA (']]>') or a processing instruction ('?>'); `tail` is the kept input's last seq.length-1 characters. */
  | { kind: 'seq'; seq: string; tail: string }
  /** Text ending in an unterminated '&' reference: ';', '<' or another '&' decides it. */
  | { kind: 'ref' };

export class XmlStreamParser {
  readonly #mode: 'stream' | 'framed';
  readonly #limits: ParserLimits;
  readonly #handler: ParserHandler;
  #buf = '';
  /** Input received after #buf while waiting for #wait (joined only once the token can complete). */
  #parts: string[] = [];
  #partsLen = 0;
  #wait: Wait = { kind: 'none' };
  #failed = false;
  #rootOpen = false;
  #rootName = '';
  #seenAnything = false;
  /** Open elements of the current stanza (index 0 = the stanza itself). */
  #stack: Element[] = [];
  /** Characters consumed since the current stanza started. */
  #stanzaSize = 0;

  constructor(mode: 'stream' | 'framed', handler: ParserHandler, limits: Partial<ParserLimits> = {}) {
    this.#mode = mode;
    this.#handler = handler;
    this.#limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Forget everything (stream restart after STARTTLS or SASL). */
  reset(): void {
    this.#buf = '';
    this.#parts = [];
    this.#partsLen = 0;
    this.#wait = { kind: 'none' };
    this.#failed = false;
    this.#rootOpen = false;
    this.#rootName = '';
    this.#seenAnything = false;
    this.#stack = [];
    this.#stanzaSize = 0;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Feed decoded text. Handlers run synchronously, in document order. */
  write(chunk: string): void {
    if (this.#failed) return;
    let data: string;
    if (this.#wait.kind !== 'none') {
      if (!this.#completes(chunk)) {
        this.#parts.push(chunk);
        this.#partsLen += chunk.length;
        if (this.#pendingSize(this.#buf.length + this.#partsLen) > this.#limits.maxStanzaSize) this.#fail('policy-violation', 'stanza too large');
        return;
      }
      data = this.#parts.length ? this.#buf + this.#parts.join('') + chunk : this.#buf + chunk;
      this.#parts = [];
      this.#partsLen = 0;
      this.#wait = { kind: 'none' };
    } else data = this.#buf.length ? this.#buf + chunk : chunk;
    this.#buf = '';
    let pos = 0;
    const len = data.length;
    while (pos < len && !this.#failed) {
      const lt = data.indexOf('<', pos);
      if (lt !== pos) {
        // Text up to the next tag (or to the end of the chunk).
        const end = lt === -1 ? len : lt;
        if (lt === -1 && this.#stack.length > 0) {
          // Text may continue in the next chunk; an '&' reference may be split, so keep from the last '&' on.
          const amp = data.lastIndexOf('&', end);
          const semi = amp === -1 ? -1 : data.indexOf(';', amp);
          if (amp >= pos && semi === -1) {
            this.#text(data.slice(pos, amp));
            if (!this.#failed) this.#keep(data.slice(amp), { kind: 'ref' });
            return;
          }
        }
        this.#text(data.slice(pos, end));
        if (lt === -1) return;
        pos = lt;
        if (this.#failed) return;
      }
      // data[pos] === '<'
      const next = data.charCodeAt(pos + 1);
      if (Number.isNaN(next)) return this.#keep(data.slice(pos), { kind: 'short' });
      if (next === 33 /* ! */) {
        if (data.startsWith('<![CDATA[', pos)) {
          const close = data.indexOf(']]>', pos + 9);
          if (this.#stack.length === 0) return this.#fail('not-well-formed', 'CDATA outside an element');
          if (close === -1) return this.#keep(data.slice(pos), { kind: 'seq', seq: ']]>', tail: data.slice(-2) });
          this.#count(close + 3 - pos);
          if (this.#failed) return;
          const cdata = data.slice(pos + 9, close);
          if (BAD_CHAR_RE.test(cdata)) return this.#fail('not-well-formed', 'character not allowed in XML');
          this.#appendText(cdata);
          pos = close + 3;
          continue;
        }
        if (data.length - pos < 9 && '<![CDATA['.startsWith(data.slice(pos))) return this.#keep(data.slice(pos), { kind: 'short' });
        return this.#fail('restricted-xml', 'comments and DTDs are not allowed');
      }
      if (next === 63 /* ? */) {
        // Only the XML declaration, once, before anything else; any other PI fails as soon as it is recognisable.
        const head = data.slice(pos, pos + 6);
        if (this.#seenAnything || !(head.length < 6 ? '<?xml'.startsWith(head) : /^<\?xml[ \t\r\n]/.test(head))) {
          return this.#fail('restricted-xml', 'processing instructions are not allowed');
        }
        const close = data.indexOf('?>', pos + 2);
        if (close === -1) return this.#keep(data.slice(pos), head.length < 6 ? { kind: 'short' } : { kind: 'seq', seq: '?>', tail: data.slice(-1) });
        // Same bound whether the declaration arrives whole or in pieces (a kept partial one is bounded by #keep).
        if (close + 2 - pos > this.#limits.maxStanzaSize) return this.#fail('policy-violation', 'XML declaration too large');
        this.#seenAnything = true;
        pos = close + 2;
        continue;
      }
      const gt = findTagEnd(data, pos + 1);
      if (gt === -1) return this.#keep(data.slice(pos), { kind: 'tag', quote: openQuote(data, pos + 1) });
      this.#seenAnything = true;
      this.#count(gt + 1 - pos);
      if (this.#failed) return;
      if (next === 47 /* / */) this.#endTag(data.slice(pos + 2, gt).trimEnd());
      else this.#startTag(data, pos + 1, gt);
      pos = gt + 1;
    }
  }

  #keep(rest: string, wait: Wait): void {
    // A partial token waits for more input, but the stanza it belongs to never grows beyond the limit.
    if (this.#pendingSize(rest.length) > this.#limits.maxStanzaSize) return this.#fail('policy-violation', 'stanza too large');
    this.#buf = rest;
    this.#wait = wait;
  }

  /** Size of the current stanza if `pending` more characters joined it. */
  #pendingSize(pending: number): number {
    return (this.#stack.length > 0 ? this.#stanzaSize : 0) + pending;
  }

  /** Whether `chunk` may complete the kept partial token (updating the scan state when it cannot). */
  #completes(chunk: string): boolean {
    const w = this.#wait;
    switch (w.kind) {
      case 'none':
      case 'short':
        return true;
      case 'ref':
        return /[;<&]/.test(chunk);
      case 'seq': {
        const s = w.tail + chunk;
        if (s.includes(w.seq)) return true;
        w.tail = s.slice(-(w.seq.length - 1));
        return false;
      }
      case 'tag': {
        let q = w.quote;
        let i = 0;
        while (i < chunk.length) {
          if (q !== 0) {
            const close = chunk.indexOf(q === 34 ? '"' : "'", i);
            if (close === -1) break;
            q = 0;
            i = close + 1;
            continue;
          }
          const c = chunk.charCodeAt(i);
          if (c === 62 /* > */) return true;
          if (c === 34 || c === 39) q = c;
          i++;
        }
        w.quote = q;
        return false;
      }
    }
  }

  #fail(condition: string, text: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#buf = '';
    this.#parts = [];
    this.#partsLen = 0;
    this.#wait = { kind: 'none' };
    this.#stack = [];
    this.#handler.error(new StreamError(condition, text));
  }

  #count(n: number): void {
    if (this.#stack.length === 0) return;
    this.#stanzaSize += n;
    if (this.#stanzaSize > this.#limits.maxStanzaSize) this.#fail('policy-violation', 'stanza too large');
  }

  #text(raw: string): void {
    if (raw.length === 0) return;
    if (this.#stack.length === 0) {
      // Between stanzas only whitespace (keepalives) is allowed.
      if (!WS_RE.test(raw)) this.#fail('not-well-formed', 'text outside an element');
      return;
    }
    this.#count(raw.length);
    if (this.#failed) return;
    if (BAD_CHAR_RE.test(raw)) return this.#fail('not-well-formed', 'character not allowed in XML');
    const t = unescape(raw);
    if (t === undefined) return this.#fail('restricted-xml', 'entity references other than the predefined ones are not allowed');
    if (t === null) return this.#fail('not-well-formed', 'bad character reference');
    this.#appendText(t);
  }

  #appendText(t: string): void {
    const top = this.#stack[this.#stack.length - 1];
    if (!top || t.length === 0) return;
    const last = top.children.length - 1;
    if (last >= 0 && typeof top.children[last] === 'string') top.children[last] = (top.children[last] as string) + t;
    else top.children.push(t);
  }

  #startTag(data: string, start: number, gt: number): void {
    let end = gt;
    const selfClosing = data.charCodeAt(gt - 1) === 47; /* / */
    if (selfClosing) end = gt - 1;
    // Tag name
    let i = start;
    while (i < end && !isSpace(data.charCodeAt(i))) i++;
    const name = data.slice(start, i);
    if (!NAME_RE.test(name)) return this.#fail('not-well-formed', 'bad element name');
    const attrs: Record<string, string> = {};
    let nAttrs = 0;
    // Attributes: name = "value" | 'value'
    while (i < end) {
      while (i < end && isSpace(data.charCodeAt(i))) i++;
      if (i >= end) break;
      const eq = data.indexOf('=', i);
      if (eq === -1 || eq >= end) return this.#fail('not-well-formed', 'bad attribute');
      const aname = data.slice(i, eq).trim();
      if (!NAME_RE.test(aname)) return this.#fail('not-well-formed', 'bad attribute name');
      let q = eq + 1;
      while (q < end && isSpace(data.charCodeAt(q))) q++;
      const quote = data.charCodeAt(q);
      if (quote !== 34 && quote !== 39) return this.#fail('not-well-formed', 'unquoted attribute');
      const close = data.indexOf(quote === 34 ? '"' : "'", q + 1);
      if (close === -1 || close >= end + (selfClosing ? 1 : 0)) return this.#fail('not-well-formed', 'bad attribute');
      const raw = data.slice(q + 1, close);
      if (raw.includes('<')) return this.#fail('not-well-formed', '< in attribute value');
      if (BAD_CHAR_RE.test(raw)) return this.#fail('not-well-formed', 'character not allowed in XML');
      const value = unescape(raw);
      if (value === undefined) return this.#fail('restricted-xml', 'entity references are not allowed');
      if (value === null) return this.#fail('not-well-formed', 'bad character reference');
      if (Object.prototype.hasOwnProperty.call(attrs, aname)) return this.#fail('not-well-formed', 'duplicate attribute');
      if (++nAttrs > this.#limits.maxAttributes) return this.#fail('policy-violation', 'too many attributes');
      attrs[aname] = value;
      i = close + 1;
      if (i < end && !isSpace(data.charCodeAt(i))) return this.#fail('not-well-formed', 'attributes must be separated');
    }

    if (this.#mode === 'stream' && !this.#rootOpen) {
      if (this.#stack.length === 0 && this.#rootName === '') {
        if (gt + 2 - start > this.#limits.maxStanzaSize) return this.#fail('policy-violation', 'stream header too large');
        this.#rootOpen = true;
        this.#rootName = name;
        this.#handler.streamOpen?.(name, attrs);
        if (selfClosing) {
          this.#rootOpen = false;
          this.#handler.streamClose?.();
        }
        return;
      }
    }
    if (this.#mode === 'stream' && !this.#rootOpen) return this.#fail('not-well-formed', 'element after stream end');

    const el = new Element(name, attrs);
    const parent = this.#stack[this.#stack.length - 1];
    if (parent) {
      if (this.#stack.length >= this.#limits.maxDepth) return this.#fail('policy-violation', 'XML nested too deeply');
      el.parent = parent;
      parent.children.push(el);
    } else {
      this.#stanzaSize = gt + 1 - (start - 1);
      if (this.#stanzaSize > this.#limits.maxStanzaSize) return this.#fail('policy-violation', 'stanza too large');
    }
    if (selfClosing) {
      if (!parent) this.#emit(el);
      return;
    }
    this.#stack.push(el);
  }

  #endTag(name: string): void {
    const top = this.#stack[this.#stack.length - 1];
    if (!top) {
      if (this.#mode === 'stream' && this.#rootOpen && name === this.#rootName) {
        this.#rootOpen = false;
        this.#handler.streamClose?.();
        return;
      }
      return this.#fail('not-well-formed', 'unexpected end tag');
    }
    if (top.name !== name) return this.#fail('not-well-formed', 'mismatched end tag');
    this.#stack.pop();
    if (this.#stack.length === 0) this.#emit(top);
  }

  #emit(el: Element): void {
    el.parent = null;
    this.#stanzaSize = 0;
    this.#handler.element(el);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** The quote (char code) still open at the end of a partial tag starting at `from`, or 0. */
function openQuote(data: string, from: number): number {
  let i = from;
  while (i < data.length) {
    const c = data.charCodeAt(i);
    if (c === 34 || c === 39) {
      const close = data.indexOf(c === 34 ? '"' : "'", i + 1);
      if (close === -1) return c;
      i = close + 1;
      continue;
    }
    i++;
  }
  return 0;
}

/** Index of the '>' that ends the tag starting after `from`, skipping quoted attribute values; -1 if incomplete. */
function findTagEnd(data: string, from: number): number {
  let i = from;
  const len = data.length;
  while (i < len) {
    const c = data.charCodeAt(i);
    if (c === 62 /* > */) return i;
    if (c === 34 || c === 39) {
      const close = data.indexOf(c === 34 ? '"' : "'", i + 1);
      if (close === -1) return -1;
      i = close + 1;
      continue;
    }
    i++;
  }
  return -1;
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Unescape predefined and character references. undefined: other entity (restricted); null: malformed. */
function unescape(s: string): string | undefined | null {
  let amp = s.indexOf('&');
  if (amp === -1) return s;
  let out = '';
  let last = 0;
  while (amp !== -1) {
    const semi = s.indexOf(';', amp + 1);
    if (semi === -1) return null;
    const ref = s.slice(amp + 1, semi);
    let rep: string | undefined;
    if (ref.charCodeAt(0) === 35 /* # */) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      const valid = /^#(x[0-9a-fA-F]+|[0-9]+)$/.test(ref);
      if (!valid || !isXmlChar(code)) return null;
      rep = String.fromCodePoint(code);
    } else {
      rep = PREDEFINED[ref];
      if (rep === undefined) return /^[A-Za-z_][-A-Za-z0-9_.]*$/.test(ref) ? undefined : null;
    }
    out += s.slice(last, amp) + rep;
    last = semi + 1;
    amp = s.indexOf('&', last);
  }
  return out + s.slice(last);
}

function isXmlChar(n: number): boolean {
  return n === 0x9 || n === 0xa || n === 0xd || (n >= 0x20 && n <= 0xd7ff) || (n >= 0xe000 && n <= 0xfffd) || (n >= 0x10000 && n <= 0x10ffff);
}
