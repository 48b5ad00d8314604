/**
 * @jitsi-one/web: the HTTP side. A koa app (`/config.js`, health, BOSH mount, built-in pages) and the XMPP
 * WebSocket upgrade handler. It owns no server socket; `@jitsi-one/server` creates the http(s) server.
 */
export { webConfigSchema, webP2pConfigSchema } from './config.js';
export type { WebConfig, WebConfigInput } from './config.js';
export { createWebApp, isSecureConnection } from './app.js';
export type { WebAppConfig, WebAppOptions, XmppHttpEndpoints } from './app.js';
export { attachXmppWebSocket, chooseSubprotocol, XMPP_WEBSOCKET_PATH } from './xmpp-mount.js';
export type { XmppWebSocketMount, XmppWebSocketOptions } from './xmpp-mount.js';
export { health, healthHttpStatus } from './routes/health.js';
export type { Health } from './routes/health.js';
export { buildClientConfig, renderConfigJs, isValidHost } from './routes/config-js.js';
export type { ClientConfigOptions, IceServer, RequestOrigin } from './routes/config-js.js';
export { DEFAULT_PRIVACY_NOTICE, DEFAULT_IMPRINT, escapeHtml, textToHtml, renderClientPage } from './routes/pages.js';
export type { ClientPageOptions } from './routes/pages.js';
export { buildClientBundle, CLIENT_ASSET_PREFIX } from './client-bundle.js';
export type { ClientAsset, ClientBundle, BuildClientOptions } from './client-bundle.js';
