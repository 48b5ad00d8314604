/**
 * @jitsi-one/xmpp: an in-memory XMPP server with MUC for Jitsi clients.
 */
export * from './config.js';
export { XmppServer, createXmppServer, Accounts } from './server.js';
export * from './auth/index.js';
export type { XmppServerOptions, ConnectionInfo, TlsMaterial } from './server.js';
export { Host } from './host.js';
export type { StanzaEvent, IqHandler, Identity } from './host.js';
export { Session } from './session.js';
export type { Transport, Origin } from './session.js';
export { HookBus } from './hooks.js';
export { Jid, JidError } from './stanza/jid.js';
export { StanzaError, StreamError, errorReply } from './stanza/errors.js';
export * from './stanza/ns.js';
export { xml, Element, child, elements, text, serialize, cloneElement, escapeXML, escapeXMLText } from './stanza/xml.js';
export { XmlStreamParser } from './stream/parser.js';
export type { ParserLimits } from './stream/parser.js';
export * from './muc/index.js';
