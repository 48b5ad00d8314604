/**
 * `npm start`: the process entry point and the only place that exits the process or reads `process.argv`/`env`.
 */
import { parseCliArgs, USAGE } from './args.js';
import { loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { startServer } from './server.js';
import { loadTlsMaterial } from './tls.js';

/** A shutdown that takes longer than this is cut short (exit 1). */
const SHUTDOWN_TIMEOUT_MS = 5000;

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`jitsi-one: failed to start: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const env = process.env;
  const cli = parseCliArgs(argv);
  if (cli.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (cli.checkConfig) {
    const config = loadConfig({ argv, env });
    // Configured certificate files must be readable and match; a self-signed one is not generated here.
    if (config.http.tls.certFile !== undefined) await loadTlsMaterial(config.http, []);
    process.stdout.write('config ok\n');
    process.exit(0);
  }

  const server = await startServer({ argv, env });
  process.stdout.write(`jitsi-one: open ${server.url}\n`);

  process.on('uncaughtException', (err) => {
    server.log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    server.log.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });

  // Graceful shutdown: stop accepting, the focus ends every conference with session-terminate, XMPP sessions get
  // `system-shutdown`, sockets close, exit 0. A second signal, or a shutdown that hangs, exits at once with 1.
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(1); // second Ctrl-C: do not wait
    signalled = true;
    server.log.info({ signal }, 'shutting down');
    setTimeout(() => {
      server.log.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        server.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Graceful drain (drain.ts): refuse new conferences, let running ones finish; the process stays up until stopped.
  process.on('SIGUSR2', () => {
    if (!server.drain.start('signal')) server.log.info('already draining');
  });
}

main().catch(fail);
