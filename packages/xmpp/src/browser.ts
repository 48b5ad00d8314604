/**
 * The browser entry of @jitsi-one/xmpp (package.json `exports` condition `browser`): the stanza toolkit only (ltx
 * elements, stanza errors, namespaces), which has no Node dependency. Bundlers targeting browsers pick this file, so
 * browser code (the web client) and packages it imports (the focus's Jingle codec) share the server's XML model
 * without pulling in sockets, sessions or the MUC.
 */
export { StanzaError, StreamError, errorReply } from './stanza/errors.js';
export type { StanzaErrorType, StanzaErrorCondition } from './stanza/errors.js';
export * from './stanza/ns.js';
export { xml, Element, child, elements, text, serialize, cloneElement, escapeXML, escapeXMLText } from './stanza/xml.js';
export type { Attrs, Child } from './stanza/xml.js';
