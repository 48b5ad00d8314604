/**
 * The koa app for everything HTTP except WebSocket upgrades (see `xmpp-mount.ts`): `/config.js`, `/about/health`,
 * the keep-alive answer on `/xmpp-websocket`, BOSH on `/http-bind`, and the built-in pages.
 *
 * Privacy: there is deliberately no access-log middleware, and request data (addresses, headers, paths) is never
 * logged. The client address is handed to the XMPP server only for its in-memory per-address limits.
 *
 * References:
 * - /work/shared/PROTOCOL.md §1.2 (URLs the browser uses; the keep-alive GET must not carry `x-jitsi-shard`)
 */
import type { TLSSocket } from 'node:tls';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { ConnectionInfo, XmppServer } from '@jitsi-one/xmpp';
import type { WebConfig } from './config.js';
import { buildClientConfig, isValidHost, renderConfigJs, type IceServer, type RequestOrigin } from './routes/config-js.js';
import { health } from './routes/health.js';
import {
  DEFAULT_IMPRINT,
  DEFAULT_PRIVACY_NOTICE,
  STYLE_CSS,
  renderHomePage,
  renderTextPage,
} from './routes/pages.js';

/** The parts of the XMPP server the HTTP side uses. */
export type XmppHttpEndpoints = Pick<XmppServer, 'domains' | 'handleBosh'>;

/** The config sections the web app reads (the server's full AppConfig satisfies this). */
export interface WebAppConfig {
  web: WebConfig;
  http: {
    /**
     * Plain HTTP behind a TLS-terminating reverse proxy: then `X-Forwarded-Proto` / `X-Forwarded-Host` decide the
     * URLs in `/config.js`, and connections count as secure.
     */
    insecureHttp: boolean;
  };
}

export interface WebAppOptions {
  config: WebAppConfig;
  xmpp: XmppHttpEndpoints;
  log: Logger;
  /** STUN servers for `/config.js` `p2p.stunServers` (the embedded one or the operator's). Default none. */
  stunServers?: readonly IceServer[];
  /** Whether the XMPP server resumes WebSocket sessions (XEP-0198), for `enableWebsocketResume`. Default false. */
  websocketResume?: boolean;
}

/** Sent with every response we generate (BOSH responses are written by the XMPP server). */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'self'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function firstHeaderValue(v: string): string | undefined {
  const first = v.split(',')[0]?.trim();
  return first ? first : undefined;
}

/** Whether the connection counts as secure for XMPP (TLS here, or TLS at a proxy in `insecureHttp` mode). */
export function isSecureConnection(socket: unknown, insecureHttp: boolean): boolean {
  return insecureHttp || (socket as Partial<TLSSocket>).encrypted === true;
}

export function createWebApp({ config, xmpp, log, stunServers = [], websocketResume = false }: WebAppOptions): Koa {
  const behindProxy = config.http.insecureHttp;
  const privacyNotice = config.web.privacyNotice ?? DEFAULT_PRIVACY_NOTICE;
  const imprint = config.web.imprint ?? DEFAULT_IMPRINT;
  const homePage = renderHomePage(xmpp.domains.domain);
  const privacyPage = renderTextPage('Privacy notice', privacyNotice);
  const imprintPage = renderTextPage('Imprint', imprint);
  const clientOptions = { p2pEnabled: config.web.p2p.enabled, stunServers, websocketResume };

  const app = new Koa();
  // Koa's default error handler prints stacks (and would print request details) to stderr; route errors to our
  // logger instead, without the request.
  app.silent = true;
  app.on('error', (err: unknown) => {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status < 500) log.debug({ err }, 'http request rejected');
    else log.error({ err }, 'http request failed');
  });

  function origin(ctx: Koa.Context): RequestOrigin | undefined {
    let secure = (ctx.req.socket as Partial<TLSSocket>).encrypted === true;
    let host = ctx.get('host');
    if (behindProxy) {
      const proto = firstHeaderValue(ctx.get('x-forwarded-proto'))?.toLowerCase();
      if (proto === 'https') secure = true;
      else if (proto === 'http') secure = false;
      host = firstHeaderValue(ctx.get('x-forwarded-host')) ?? host;
    }
    return isValidHost(host) ? { secure, host } : undefined;
  }

  app.use(async (ctx) => {
    if (ctx.path === '/http-bind') {
      // The XMPP server owns the raw request/response (POST, OPTIONS, CORS, long polling).
      ctx.respond = false;
      xmpp.handleBosh(ctx.req, ctx.res, {
        secure: isSecureConnection(ctx.req.socket, config.http.insecureHttp),
        remoteAddress: ctx.req.socket.remoteAddress,
      } satisfies ConnectionInfo);
      return;
    }

    ctx.set(SECURITY_HEADERS);
    const route = ROUTES.get(ctx.path);
    if (!route) {
      ctx.status = 404;
      ctx.type = 'text/plain';
      ctx.body = 'Not Found';
      return;
    }
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    switch (route) {
      case 'home':
        send(ctx, 'text/html; charset=utf-8', homePage);
        break;
      case 'privacy':
        send(ctx, 'text/html; charset=utf-8', privacyPage);
        break;
      case 'imprint':
        send(ctx, 'text/html; charset=utf-8', imprintPage);
        break;
      case 'style':
        send(ctx, 'text/css; charset=utf-8', STYLE_CSS);
        break;
      case 'favicon':
        ctx.status = 204;
        break;
      case 'health':
        ctx.set('Cache-Control', 'no-store');
        ctx.body = health();
        break;
      case 'config': {
        const o = origin(ctx);
        if (!o) {
          ctx.status = 400;
          ctx.type = 'text/plain';
          ctx.body = 'Bad Host header';
          return;
        }
        ctx.set('Cache-Control', 'no-store');
        send(ctx, 'application/javascript; charset=utf-8', renderConfigJs(buildClientConfig(xmpp.domains, o, clientOptions)));
        break;
      }
      case 'websocket-keepalive':
        // LJM's WebSocket keep-alive GETs the service URL over HTTP. Any 200 will do; never send
        // `x-jitsi-shard` (a mismatching shard is fatal for the client).
        ctx.set('Cache-Control', 'no-store');
        send(ctx, 'text/plain; charset=utf-8', '');
        break;
    }
  });

  return app;
}

type Route = 'home' | 'privacy' | 'imprint' | 'style' | 'favicon' | 'health' | 'config' | 'websocket-keepalive';

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/', 'home'],
  ['/privacy', 'privacy'],
  ['/imprint', 'imprint'],
  ['/style.css', 'style'],
  ['/favicon.ico', 'favicon'],
  ['/about/health', 'health'],
  ['/config.js', 'config'],
  ['/xmpp-websocket', 'websocket-keepalive'],
]);

function send(ctx: Koa.Context, type: string, body: string): void {
  ctx.status = 200;
  ctx.type = type;
  ctx.body = body;
  if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-cache');
}
