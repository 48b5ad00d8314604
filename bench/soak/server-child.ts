/**
 * The server under test for the soak bench, in its own process: `startServer()` with the bench's config (argv[2],
 * JSON), plus an IPC channel over which the bench asks for samples. Started by bench/soak/index.ts with
 * `fork(this file, [config], { execArgv: ['--expose-gc', '--import', 'tsx'] })`, so the process is the server alone
 * (its RSS is the server's) and `global.gc` exists.
 *
 * Messages: to the parent `{ type: 'ready', wsUrl, domain, mucDomain, focusDomain }`, then one `{ type: 'sample',
 * … }` per `{ type: 'sample', gc }` request: memory (`process.memoryUsage()`, after a full GC when asked), active
 * handles and resources (`process._getActiveHandles()`, `process.getActiveResourcesInfo()` by type), and what the
 * server still holds: XMPP sessions, MUC rooms and occupants, focus conferences, bridge conferences and endpoints,
 * packets pooled by the bridge. `{ type: 'snapshot', path }` writes a V8 heap snapshot there (after a full GC) and
 * answers `{ type: 'snapshot', path }`. `{ type: 'stop' }` stops the server and exits.
 */
import { writeHeapSnapshot } from 'node:v8';
import { type AppConfigInput, type RunningServer, startServer } from '../../packages/server/src/index.js';

export interface ServerSample {
  type: 'sample';
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** `process._getActiveHandles().length`. */
  handles: number;
  /** `process.getActiveResourcesInfo()`, counted by type. */
  resources: Record<string, number>;
  xmppSessions: number;
  mucRooms: number;
  focusConferences: number;
  bridgeConferences: number;
  bridgeEndpoints: number;
  /** Packet buffers the bridge's pool has created so far / holds for reuse. */
  packetPool: { created: number; pooled: number };
}

function tell(msg: Record<string, unknown>): void {
  process.send?.(msg);
}

function sample(server: RunningServer, gc: boolean): ServerSample {
  const g = globalThis as { gc?: (opts?: { type: string; execution: string }) => void };
  if (gc && g.gc !== undefined) {
    // Twice: objects freed by the first collection's finalizers go in the second.
    g.gc();
    g.gc();
  }
  const m = process.memoryUsage();
  const resources: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
  const bridge = server.bridge?.bridge;
  let endpoints = 0;
  for (const c of bridge?.conferences.values() ?? []) endpoints += c.endpoints.size;
  const pool = bridge?.poolStats() ?? { created: 0, pooled: 0 };
  return {
    type: 'sample',
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
    handles,
    resources,
    xmppSessions: server.xmpp.allSessions.size,
    mucRooms: server.xmpp.muc.rooms.size,
    focusConferences: server.focus?.conferences.size ?? 0,
    bridgeConferences: bridge?.conferences.size ?? 0,
    bridgeEndpoints: endpoints,
    packetPool: { created: pool.created, pooled: pool.pooled },
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as AppConfigInput;
  const server = await startServer({ config });
  process.on('message', (raw) => {
    const msg = raw as { type: string; gc?: boolean; path?: string };
    if (msg.type === 'sample') tell({ ...sample(server, msg.gc === true) });
    else if (msg.type === 'snapshot' && msg.path !== undefined) {
      sample(server, true);
      tell({ type: 'snapshot', path: writeHeapSnapshot(msg.path) });
    }
    else if (msg.type === 'stop') void server.stop().finally(() => process.exit(0));
  });
  process.on('disconnect', () => void server.stop().finally(() => process.exit(0)));
  tell({ type: 'ready', wsUrl: server.wsUrl, domain: server.domain, mucDomain: server.mucDomain, focusDomain: server.focusDomain });
}

main().catch((err: unknown) => {
  process.stderr.write(`soak server failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
