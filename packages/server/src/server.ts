/**
 * The composition root: config → logger → TLS material → XMPP server → koa app on one http(s) server, plus the
 * XMPP WebSocket upgrade handler → the media bridge (its UDP port, and its colibri-ws handler on the same http(s)
 * port) → the focus (conference IQ on `focus.<domain>`, Jingle, in-process Colibri2 to the bridge). Started in
 * dependency order, stopped in reverse. The embedded STUN server starts before the XMPP server, which announces it
 * (XEP-0215) when `xmpp.externalServices` is empty. Then the operations parts: the drain gate, the event-loop monitor
 * behind `/about/health`, and with `metrics.enabled` the loopback listener for `/metrics` and `/admin/drain`.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import { createXmppServer, resolveDomains, resolveGuestDomain, type XmppServer } from '@jitsi-one/xmpp';
import { attachXmppWebSocket, createWebApp, type Health, XMPP_WEBSOCKET_PATH } from '@jitsi-one/web';
import { COLIBRI_WS_PATH, createBridgeService, createStunServer, type BridgeService, type StunServer } from '@jitsi-one/bridge';
import { DEFAULT_OFFER_CONFIG, FocusManager, focusBareJid, type OfferConfig } from '@jitsi-one/focus';
import { type AppConfig, type AppConfigInput, loadConfig } from './config.js';
import { Drain } from './drain.js';
import { ConfigError } from './errors.js';
import { evaluateHealth, type HealthProbes, isMediaPortBound } from './health.js';
import { DailyLogFile } from './log-file.js';
import { createLogger } from './logger.js';
import { EventLoopLagMonitor } from './loop-lag.js';
import { createMetrics, type Metrics } from './metrics.js';
import { type OpsServer, startOpsServer } from './ops-server.js';
import { loadTlsMaterial, type TlsMaterial } from './tls.js';

export interface StartServerOptions {
  /** Command-line arguments after the script name (`process.argv.slice(2)`). Default none. */
  argv?: readonly string[];
  /** Environment variables to honour (`process.env` in main). Default none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Config overrides, applied over file, env and flags (tests use e.g. `{ http: { port: 0 } }`). */
  config?: AppConfigInput;
  /** Where log lines go (default stdout, or the `log.file` files). */
  logDestination?: DestinationStream;
  /** Health probes replacing the real ones (tests simulate a stalled loop or an unbound media port). */
  healthProbes?: Partial<HealthProbes>;
}

export interface RunningServer {
  /** The URL to open in a browser, e.g. `https://localhost:8443/`. */
  readonly url: string;
  /** XMPP over WebSocket, e.g. `wss://localhost:8443/xmpp-websocket`. */
  readonly wsUrl: string;
  /** XMPP over BOSH, e.g. `https://localhost:8443/http-bind`. */
  readonly boshUrl: string;
  readonly domain: string;
  readonly mucDomain: string;
  readonly focusDomain: string;
  /** The port actually bound (differs from the config when it asked for 0). */
  readonly httpPort: number;
  readonly xmpp: XmppServer;
  /**
   * The media bridge (undefined when `bridge.enabled` is false). The focus calls `bridge.bridge.conferenceModify()`
   * in process; `bridge.mux.port` is the UDP port actually bound.
   */
  readonly bridge: BridgeService | undefined;
  /** The embedded STUN server (undefined when `stun.enabled` is false); `stun.port` is the UDP port bound. */
  readonly stun: StunServer | undefined;
  /** The conference focus (undefined when `focus.enabled` is false). */
  readonly focus: FocusManager | undefined;
  /** The validated config in use. */
  readonly config: AppConfig;
  /** The root logger. */
  readonly log: Logger;
  /** The HTTPS certificate in use (undefined for plain HTTP). */
  readonly tls: Readonly<TlsMaterial> | undefined;
  /** Graceful drain (SIGUSR2 in main.ts, `POST /admin/drain`): `drain.start('api')` refuses new conferences. */
  readonly drain: Drain;
  /** What `/about/health` answers now. */
  health(): Health;
  /** The metrics (undefined when `metrics.enabled` is false). */
  readonly metrics: Metrics | undefined;
  /** The port of the `/metrics` + `/admin` listener (undefined when `metrics.enabled` is false). */
  readonly metricsPort: number | undefined;
  /** Closes sockets, sessions and timers. Idempotent; resolves when everything is closed. */
  stop(): Promise<void>;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const messages: Record<string, [string, string]> = {
        EADDRINUSE: ['http.port', `port ${port} on ${host} is already in use`],
        EACCES: ['http.port', `not allowed to listen on port ${port} (ports below 1024 need privileges)`],
        EADDRNOTAVAIL: ['http.host', `${host} is not an address of this machine`],
      };
      const known = err.code ? messages[err.code] : undefined;
      reject(known ? new ConfigError([{ path: known[0], message: known[1] }], { cause: err }) : err);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Opens the `log.file` files, or nothing when no path is set; a failure is a ConfigError naming the key. */
function openLogFile(file: AppConfig['log']['file']): DailyLogFile | undefined {
  if (file.path === undefined) return undefined;
  try {
    return new DailyLogFile({ path: file.path, retentionHours: file.retentionHours });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its directory does not exist' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new ConfigError([{ path: 'log.file.path', message: `cannot open a log file at ${file.path}: ${why}` }], { cause: err });
  }
}

/** A UDP bind failure of the bridge as a ConfigError naming the key, like `listen` does for HTTP. */
function bridgeStartError(err: unknown, transport: { port: number; bindAddress: string }): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const { port, bindAddress } = transport;
  const messages: Record<string, [string, string]> = {
    EADDRINUSE: ['bridge.transport.port', `UDP port ${port} on ${bindAddress} is already in use`],
    EACCES: ['bridge.transport.port', `not allowed to bind UDP port ${port} (ports below 1024 need privileges)`],
    EADDRNOTAVAIL: ['bridge.transport.bindAddress', `${bindAddress} is not an address of this machine`],
  };
  const known = code !== undefined ? messages[code] : undefined;
  return known ? new ConfigError([{ path: known[0], message: known[1] }], { cause: err }) : err;
}

/** A UDP bind failure of the STUN server as a ConfigError naming the key. */
function stunStartError(err: unknown, stun: { port: number; host: string }): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const { port, host } = stun;
  const messages: Record<string, [string, string]> = {
    EADDRINUSE: ['stun.port', `UDP port ${port} on ${host} is already in use`],
    EACCES: ['stun.port', `not allowed to bind UDP port ${port} (ports below 1024 need privileges)`],
    EADDRNOTAVAIL: ['stun.host', `${host} is not an address of this machine`],
    EINVAL: ['stun.host', `${host} is not a usable address`],
    ENOTFOUND: ['stun.host', `${host} is not an address of this machine`],
  };
  const known = code !== undefined ? messages[code] : undefined;
  return known ? new ConfigError([{ path: known[0], message: known[1] }], { cause: err }) : err;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * The host name clients are told to use for our STUN server: `stun.advertisedHost`, else the bridge's public
 * address, else `stun.host` or `http.host` when they name one address, else `localhost`.
 */
export function stunAdvertisedHost(config: AppConfig): string {
  const { stun, http } = config;
  if (stun.advertisedHost !== undefined) return stun.advertisedHost;
  if (config.bridge.transport.publicAddress !== undefined) return config.bridge.transport.publicAddress;
  if (!isWildcard(stun.host)) return stun.host;
  if (!isWildcard(http.host)) return http.host;
  return 'localhost';
}

/**
 * The STUN servers `/config.js` lists for P2P: the STUN entries of the XEP-0215 list actually announced, i.e. our
 * embedded server (when enabled and `xmpp.externalServices` is empty) or the operator's `stun`/`stuns` services.
 */
export function clientStunServers(services: readonly { type: string; host: string; port?: number | undefined }[]): { urls: string }[] {
  return services
    .filter((s) => s.type === 'stun' || s.type === 'stuns')
    .map((s) => {
      const host = s.host.includes(':') && !s.host.startsWith('[') ? `[${s.host}]` : s.host;
      return { urls: `${s.type}:${host}${s.port !== undefined ? `:${s.port}` : ''}` };
    });
}

/**
 * The video codecs the focus offers for bridge sessions (its offer order), as `/config.js`
 * `videoQuality.codecPreferenceOrder` names them. lib-jitsi-meet must be told: it assumes the offer has its own
 * preferred codecs (AV1 first on desktop Chrome) and otherwise misconfigures its sender (see `jvbVideoCodecs` in
 * @jitsi-one/web).
 */
export function offeredVideoCodecs(video: OfferConfig['video'] = DEFAULT_OFFER_CONFIG.video): string[] {
  const names = { av1: 'AV1', vp8: 'VP8', h264: 'H264', vp9: 'VP9' } as const;
  return (['av1', 'vp8', 'h264', 'vp9'] as const).filter((k) => video[k] !== undefined).map((k) => names[k]);
}

/**
 * Loads the config, then starts everything. Rejects with ConfigError for configuration problems (including an
 * unusable port or certificate), leaving nothing running.
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const config = loadConfig({ argv: options.argv ?? [], env: options.env ?? {}, overrides: options.config });
  const logFile = options.logDestination === undefined ? openLogFile(config.log.file) : undefined;
  const log = createLogger(config.log, options.logDestination ?? logFile);
  try {
    return await startStack(config, log, options, logFile);
  } catch (err) {
    logFile?.close();
    throw err;
  }
}

/** Everything after the config and the logger; on failure startServer closes the log file this does not own. */
async function startStack(config: AppConfig, log: Logger, options: StartServerOptions, logFile: DailyLogFile | undefined): Promise<RunningServer> {
  const { http } = config;

  // XMPP c2s STARTTLS needs a certificate even when HTTP is plain (behind a proxy).
  const needsTls = !http.insecureHttp || config.xmpp.c2s.port !== null;
  const d = resolveDomains(config.xmpp);
  const guestDomain = resolveGuestDomain(config.auth, d.domain);
  const tls = needsTls
    ? await loadTlsMaterial(http, [d.domain, d.authDomain, d.mucDomain, d.focusDomain, ...(guestDomain !== undefined ? [guestDomain] : [])])
    : undefined;
  if (tls?.selfSigned) {
    log.info({ fingerprint: tls.fingerprint }, 'using a self-signed certificate generated at start');
  }

  // The focus must be owner of every room and may always create rooms (PROTOCOL.md §3.1): a MUC service admin.
  const focusJid = focusBareJid(d.authDomain);
  const admins = config.xmpp.muc.admins;
  let xmppConfig =
    config.focus.enabled && !admins.includes(focusJid)
      ? { ...config.xmpp, muc: { ...config.xmpp.muc, admins: [...admins, focusJid] } }
      : config.xmpp;

  // STUN first: its bound port (config may ask for 0) goes into the XEP-0215 answer.
  let stun: StunServer | undefined;
  if (config.stun.enabled) {
    try {
      stun = await createStunServer({
        port: config.stun.port,
        host: config.stun.host,
        maxRequestsPerSecondPerAddress: config.stun.maxRequestsPerSecondPerAddress,
        log,
      });
    } catch (err) {
      throw stunStartError(err, config.stun);
    }
    // Operators who list their own STUN/TURN servers get exactly those.
    if (config.xmpp.externalServices.length === 0) {
      xmppConfig = { ...xmppConfig, externalServices: [{ type: 'stun', host: stunAdvertisedHost(config), port: stun.port }] };
    }
  }

  const xmpp = createXmppServer({
    config: xmppConfig,
    auth: config.auth,
    log: log.child({ component: 'xmpp' }),
    ...(tls ? { tls: { key: tls.key, cert: tls.cert } } : {}),
  });
  try {
    await xmpp.start();
  } catch (err) {
    await stun?.close();
    throw err;
  }

  // Health: the event loop (monitor started once everything runs), the media port, the drain (created with the focus).
  const loopLag = new EventLoopLagMonitor();
  let drain: Drain | undefined;
  const probes: HealthProbes = {
    eventLoopLagMs: () => loopLag.lagMs(),
    // Until the bridge has started (or after it failed) the port is not bound.
    mediaPortBound: () => (!config.bridge.enabled ? undefined : bridge !== undefined && isMediaPortBound(bridge)),
    draining: () => drain?.draining ?? false,
    ...options.healthProbes,
  };
  const health = (): Health => evaluateHealth(probes, config.health);

  const app = createWebApp({
    health,
    config,
    xmpp,
    log: log.child({ component: 'web' }),
    stunServers: clientStunServers(xmppConfig.externalServices),
    websocketResume: config.xmpp.streamManagement,
    jvbVideoCodecs: offeredVideoCodecs(),
  });
  const handler = app.callback();
  const server: HttpServer = http.insecureHttp
    ? createHttpServer(handler)
    : createHttpsServer({ key: tls?.key, cert: tls?.cert, minVersion: 'TLSv1.2' }, handler);
  // The bridge starts once the port is known (its colibri-ws URL contains it); until then colibri-ws upgrades get
  // the 404 any unknown path gets, which is right: no endpoint exists yet.
  let bridge: BridgeService | undefined;
  const wsMount = attachXmppWebSocket({
    server,
    xmpp,
    insecureHttp: http.insecureHttp,
    // UTF-8 needs at most 4 bytes per character; the XMPP server enforces the stanza limit itself.
    maxPayloadBytes: config.xmpp.limits.maxStanzaSize * 4,
    log: log.child({ component: 'web' }),
    extraUpgrade: (req, socket, head) => bridge?.handleUpgrade(req, socket, head) ?? false,
  });

  try {
    await listen(server, http.port, http.host);
  } catch (err) {
    await wsMount.close();
    await xmpp.stop();
    await stun?.close();
    throw err;
  }
  server.on('error', (err) => log.error({ err }, 'http server error'));

  const httpPort = (server.address() as AddressInfo).port;
  const secure = !http.insecureHttp;
  const origin = `${secure ? 'https' : 'http'}://${hostForUrl(http.host)}:${httpPort}`;
  const wsOrigin = `${secure ? 'wss' : 'ws'}://${hostForUrl(http.host)}:${httpPort}`;
  log.info({ port: httpPort, tls: secure }, 'http server listening');

  if (config.bridge.enabled) {
    try {
      bridge = await createBridgeService({
        config: { ...config.bridge, webSocketBaseUrl: config.bridge.webSocketBaseUrl ?? `${wsOrigin}${COLIBRI_WS_PATH.replace(/\/$/, '')}` },
        log,
      });
    } catch (err) {
      await wsMount.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await xmpp.stop();
      await stun?.close();
      throw bridgeStartError(err, config.bridge.transport);
    }
  }

  let focus: FocusManager | undefined;
  if (config.focus.enabled) {
    focus = new FocusManager({ xmpp, colibri: bridge?.bridge, config: config.focus, log });
    focus.start();
  }
  drain = new Drain({ xmpp, focus, log });
  const runningDrain = drain;
  loopLag.start();
  let metrics: Metrics | undefined;
  let ops: OpsServer | undefined;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      runningDrain.close();
      loopLag.stop();
      await ops?.close();
      metrics?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        await focus?.stop();
      } catch (err) {
        log.error({ err }, 'focus stop failed');
      }
      try {
        await bridge?.close();
      } catch (err) {
        log.error({ err }, 'bridge stop failed');
      }
      try {
        await xmpp.stop();
      } catch (err) {
        log.error({ err }, 'xmpp server stop failed');
      }
      await wsMount.close();
      server.closeAllConnections();
      await closed;
      try {
        await stun?.close();
      } catch (err) {
        log.error({ err }, 'stun server stop failed');
      }
      log.info('stopped');
      logFile?.close();
    })();
    return stopping;
  };

  if (config.metrics.enabled) {
    metrics = createMetrics({ xmpp, bridge, focus, drain: runningDrain, eventLoopLagMs: () => loopLag.lagMs(), health });
    try {
      ops = await startOpsServer({ host: config.metrics.host, port: config.metrics.port, metrics, drain: runningDrain, log: log.child({ component: 'ops' }) });
    } catch (err) {
      await stop();
      throw err;
    }
  }

  return {
    url: `${origin}/`,
    wsUrl: `${wsOrigin}${XMPP_WEBSOCKET_PATH}`,
    boshUrl: `${origin}/http-bind`,
    domain: xmpp.domains.domain,
    mucDomain: xmpp.domains.mucDomain,
    focusDomain: xmpp.domains.focusDomain,
    httpPort,
    xmpp,
    bridge,
    stun,
    focus,
    config,
    log,
    tls,
    drain: runningDrain,
    health,
    metrics,
    metricsPort: ops?.port,
    stop,
  };
}
