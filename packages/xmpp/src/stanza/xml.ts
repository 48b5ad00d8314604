/**
 * The only module that imports ltx (our XML element type). Everything else imports from here.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc6120#section-11 (XML usage in XMPP)
 */
import { Element, createElement, escapeXML, escapeXMLText } from 'ltx';

export { Element, escapeXML, escapeXMLText };

export type Attrs = Record<string, string | number | undefined>;
export type Child = Element | string | undefined | null | false;

/** Build an element: xml('iq', { type: 'get' }, xml('ping', { xmlns: NS_PING })). Undefined attrs are dropped. */
export function xml(name: string, attrs?: Attrs | null, ...children: Child[]): Element {
  const clean: Record<string, string> = {};
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v !== undefined) clean[k] = String(v);
    }
  }
  const el = createElement(name, clean) as Element;
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.cnode(c as Element);
  }
  return el;
}

/** Deep copy of an element (parent links are not copied). */
export function cloneElement(el: Element): Element {
  const copy = new Element(el.name, { ...el.attrs });
  for (const c of el.children) {
    if (typeof c === 'string') copy.children.push(c);
    else {
      const cc = cloneElement(c as Element);
      cc.parent = copy;
      copy.children.push(cc);
    }
  }
  return copy;
}

/** First child element with the given local name and (optionally) namespace attribute. */
export function child(el: Element, name: string, xmlns?: string): Element | undefined {
  for (const c of el.children) {
    if (typeof c === 'string') continue;
    const e = c as Element;
    if (e.name === name && (xmlns === undefined || e.attrs.xmlns === xmlns)) return e;
  }
  return undefined;
}

/** Child elements (no text nodes). */
export function elements(el: Element): Element[] {
  const out: Element[] = [];
  for (const c of el.children) if (typeof c !== 'string') out.push(c as Element);
  return out;
}

/** Concatenated text of the direct text children. */
export function text(el: Element | undefined): string {
  if (!el) return '';
  let s = '';
  for (const c of el.children) if (typeof c === 'string') s += c;
  return s;
}

/** Serialize an element to a string (no XML declaration, double-quoted attributes). */
export function serialize(el: Element): string {
  return el.toString();
}
