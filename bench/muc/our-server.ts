/**
 * Child-process entry for the "ours" target, run as `node --import tsx bench/muc/our-server.ts`
 * so our server gets its own event loop and process (like Prosody), separate from the load client.
 *
 * Dynamically imports '@jitsi-one/server', calls startServer() with a loopback, insecure-HTTP,
 * no-c2s, high-limits config, then prints READY_MARKER + JSON (see our-server-protocol.ts).
 * Stops the server on SIGTERM/SIGINT or when stdin closes (i.e. the parent went away).
 */
import { READY_MARKER, type OurServerReady } from './our-server-protocol.js';

/** The part of the @jitsi-one/server API the bench relies on. */
interface StartedServer {
  wsUrl: string;
  domain: string;
  mucDomain: string;
  stop(): Promise<void>;
}
type StartServer = (opts: { argv: string[]; config: unknown }) => Promise<StartedServer>;

/** BENCH_OUR_SERVER_MODULE overrides the module (e.g. a built copy); default '@jitsi-one/server'. */
const SERVER_MODULE = process.env.BENCH_OUR_SERVER_MODULE || '@jitsi-one/server';

const serverConfig = {
  http: { port: 0, host: '127.0.0.1', insecureHttp: true },
  xmpp: {
    limits: { maxConnectionsPerAddress: 5000, maxOccupantsPerRoom: 2000, bytesPerSecond: 100_000_000, burstBytes: 100_000_000 },
    c2s: { port: null },
  },
  log: { level: 'warn' },
  // The MUC benchmark measures XMPP only: no media bridge (and no UDP port 10000 to collide with).
  bridge: { enabled: false },
  // Nor the STUN server (UDP 3478).
  stun: { enabled: false },
};

function report(msg: OurServerReady): void {
  process.stdout.write(`${READY_MARKER}${JSON.stringify(msg)}\n`);
}

async function main(): Promise<void> {
  let startServer: StartServer;
  try {
    // A non-literal specifier keeps tsc from requiring the package to exist (it is optional here).
    const spec: string = SERVER_MODULE;
    const mod = (await import(spec)) as { startServer?: unknown };
    if (typeof mod.startServer !== 'function') {
      report({ ok: false, unavailable: true, reason: `${SERVER_MODULE} has no startServer export` });
      return;
    }
    startServer = mod.startServer as StartServer;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
    report({ ok: false, unavailable: missing, reason: `cannot import ${SERVER_MODULE}: ${e.message.split('\n')[0]}` });
    return;
  }

  const srv = await startServer({ argv: [], config: serverConfig });
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    srv.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`our-server: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.resume();

  report({ ok: true, wsUrl: srv.wsUrl, domain: srv.domain, mucDomain: srv.mucDomain, pid: process.pid });
}

main().catch((err: unknown) => {
  report({ ok: false, unavailable: false, reason: `startServer failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}` });
  process.exitCode = 1;
});
