/**
 * The koa app for everything HTTP except WebSocket upgrades (see `xmpp-mount.ts`): `/config.js`, `/about/health`,
 * the keep-alive answer on `/xmpp-websocket`, BOSH on `/http-bind`, the built-in pages, and the web client: its page
 * at `/` and `/<room>` (any single path segment that is not one of the fixed routes) and its bundle under
 * `/static/`, built in memory when the app is created (`client-bundle.ts`).
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
import { CLIENT_ASSET_PREFIX, type ClientBundle, buildClientBundle } from './client-bundle.js';
import { buildClientConfig, isValidHost, renderConfigJs, type IceServer, type RequestOrigin } from './routes/config-js.js';
import { type Health, health, healthHttpStatus } from './routes/health.js';
import {
  DEFAULT_IMPRINT,
  DEFAULT_PRIVACY_NOTICE,
  STYLE_CSS,
  renderClientPage,
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
  /** The video codecs the focus offers for bridge sessions, for `videoQuality.codecPreferenceOrder`. Default VP8. */
  jvbVideoCodecs?: readonly string[];
  /** The MUC's `xmpp.muc.maxRoomNameLength`, which the client enforces too. Default 256 (the XMPP default). */
  maxRoomNameLength?: number;
  /**
   * The web client's bundle. Default: built now, in memory (`buildClientBundle()`); requests for client assets wait
   * for it. Tests that start many servers may share one build.
   */
  clientBundle?: Promise<ClientBundle>;
  /** Answers `/about/health` (called per request; 503 when it says `unhealthy`). Default: always `ok`. */
  health?: () => Health;
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

export function createWebApp({
  config,
  xmpp,
  log,
  stunServers = [],
  websocketResume = false,
  jvbVideoCodecs,
  maxRoomNameLength = 256,
  clientBundle,
  health: healthProbe = health,
}: WebAppOptions): Koa {
  const behindProxy = config.http.insecureHttp;
  const privacyNotice = config.web.privacyNotice ?? DEFAULT_PRIVACY_NOTICE;
  const imprint = config.web.imprint ?? DEFAULT_IMPRINT;
  const clientPage = renderClientPage({ maxRoomNameLength });
  // Built once per app; a failed build is logged once and the client's assets answer 503.
  const client: Promise<ClientBundle | undefined> = (clientBundle ?? buildClientBundle()).catch((err: unknown) => {
    log.error({ err }, 'web client build failed');
    return undefined;
  });
  const privacyPage = renderTextPage('Privacy notice', privacyNotice);
  const imprintPage = renderTextPage('Imprint', imprint);
  const clientOptions = {
    p2pEnabled: config.web.p2p.enabled,
    backToP2PDelay: config.web.p2p.backToP2PDelay,
    stunServers,
    websocketResume,
    recentRooms: config.web.recentRooms,
    channelLastN: config.web.channelLastN,
    ...(jvbVideoCodecs ? { jvbVideoCodecs } : {}),
  };

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
    const route = routeOf(ctx.path);
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
      case 'client-page':
        send(ctx, 'text/html; charset=utf-8', clientPage);
        break;
      case 'client-asset': {
        const asset = (await client)?.get(ctx.path);
        if (asset === undefined) {
          ctx.status = (await client) === undefined ? 503 : 404;
          ctx.type = 'text/plain';
          ctx.body = ctx.status === 503 ? 'The web client is unavailable' : 'Not Found';
          return;
        }
        // Revalidated on every load (no-cache), answered 304 while the ETag matches.
        ctx.status = 200;
        ctx.set('Cache-Control', 'no-cache');
        ctx.type = asset.type;
        ctx.etag = asset.etag;
        if (ctx.fresh) {
          ctx.status = 304;
          return;
        }
        ctx.body = asset.body;
        break;
      }
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
      case 'health': {
        const h = healthProbe();
        ctx.set('Cache-Control', 'no-store');
        ctx.status = healthHttpStatus(h);
        ctx.body = h;
        break;
      }
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

type Route =
  | 'client-page'
  | 'client-asset'
  | 'privacy'
  | 'imprint'
  | 'style'
  | 'favicon'
  | 'health'
  | 'config'
  | 'websocket-keepalive';

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/', 'client-page'],
  ['/privacy', 'privacy'],
  ['/imprint', 'imprint'],
  ['/style.css', 'style'],
  ['/favicon.ico', 'favicon'],
  ['/about/health', 'health'],
  ['/config.js', 'config'],
  ['/xmpp-websocket', 'websocket-keepalive'],
]);

/**
 * The fixed routes; then the client's assets; then any other single path segment is a meeting (`/<room>`: the client
 * page, which explains illegal names itself). Deeper paths are 404.
 */
function routeOf(path: string): Route | undefined {
  const fixed = ROUTES.get(path);
  if (fixed !== undefined) return fixed;
  if (path.startsWith(CLIENT_ASSET_PREFIX)) return 'client-asset';
  if (/^\/[^/]+$/.test(path)) return 'client-page';
  return undefined;
}

function send(ctx: Koa.Context, type: string, body: string): void {
  ctx.status = 200;
  ctx.type = type;
  ctx.body = body;
  if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-cache');
}
