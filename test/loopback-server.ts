/**
 * The server as the system tests run it: the same `startServer` wiring as `npm start`, all on 127.0.0.1, plain HTTP
 * on a free port, the bridge on a free UDP port advertising 127.0.0.1, no TCP c2s, no embedded STUN, silent logs.
 * A test's own settings are merged over these (objects key by key, anything else replaced).
 */
import { type AppConfigInput, type RunningServer, startServer } from '../packages/server/src/index.js';

export const LOOPBACK_CONFIG: AppConfigInput = {
  http: { port: 0, host: '127.0.0.1', insecureHttp: true },
  xmpp: { c2s: { port: null } },
  log: { level: 'silent' },
  bridge: { transport: { port: 0, bindAddress: '127.0.0.1', hostAddresses: ['127.0.0.1'] } },
  stun: { enabled: false },
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? merge(b, v) : v;
  }
  return out;
}

/** LOOPBACK_CONFIG with `extra` merged over it. */
export function loopbackConfig(extra: AppConfigInput = {}): AppConfigInput {
  return merge(LOOPBACK_CONFIG as Record<string, unknown>, extra as Record<string, unknown>) as AppConfigInput;
}

export function startLoopbackServer(extra: AppConfigInput = {}): Promise<RunningServer> {
  return startServer({ config: loopbackConfig(extra) });
}
