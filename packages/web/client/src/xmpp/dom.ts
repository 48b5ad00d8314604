/**
 * Browser XML → ltx elements. Each RFC 7395 WebSocket frame is a complete XML document (one element), so the
 * browser's DOMParser reads it; the result is converted to the ltx `Element` model the focus's Jingle codec and the
 * rest of the client use. Namespace declarations stay plain attributes (`xmlns`, `xmlns:stream`), and names stay
 * qualified (`stream:features`), exactly as ltx keeps them.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc7395#section-3.3.3 (one complete XML element per WebSocket message)
 */
import { Element } from '@jitsi-one/xmpp';

/** Parses one frame; undefined if it is not well-formed XML. */
export function parseFrame(data: string): Element | undefined {
  const doc = new DOMParser().parseFromString(data, 'text/xml');
  const root = doc.documentElement;
  if (root.getElementsByTagName('parsererror').length > 0 || root.nodeName === 'parsererror') return undefined;
  return fromDom(root);
}

function fromDom(node: globalThis.Element): Element {
  const attrs: Record<string, string> = {};
  for (const a of Array.from(node.attributes)) attrs[a.name] = a.value;
  const el = new Element(node.nodeName, attrs);
  for (const c of Array.from(node.childNodes)) {
    if (c.nodeType === Node.ELEMENT_NODE) el.cnode(fromDom(c as globalThis.Element));
    else if (c.nodeType === Node.TEXT_NODE || c.nodeType === Node.CDATA_SECTION_NODE) el.t(c.nodeValue ?? '');
  }
  return el;
}
