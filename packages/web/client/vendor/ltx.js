// The parts of ltx the browser bundle needs (elements, escaping), without ltx's stream parser, which needs Node's
// `events`. The web client parses stanzas with the browser's DOMParser (src/xmpp/dom.ts). esbuild aliases `ltx` here
// for the client build only (src/client-bundle.ts).
export { default as Element } from 'ltx/src/Element.js';
export { default as createElement } from 'ltx/src/createElement.js';
export { escapeXML, escapeXMLText, unescapeXML, unescapeXMLText } from 'ltx/src/escape.js';
