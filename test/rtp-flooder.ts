/**
 * A flooding participant in its own process, for test/reliability-flood.test.ts: it joins like any headless
 * participant (test/participant.ts) and, when told, turns its top simulcast layer into a flood of the given bit rate
 * (MediaPump.flood). In its own process its encryption work (werift SRTP, thousands of packets per second) does not
 * take turns with the server under test, as a real attacker's would not.
 *
 * Started with `fork(this file, [JSON options], { execArgv: ['--import', 'tsx'] })`. Messages over the IPC channel:
 * - to the parent: `{ type: 'ready' }` once its media flows to the bridge; `{ type: 'done', packets, bytes, ms }` after
 *   a flood; `{ type: 'error', message }`;
 * - from the parent: `{ type: 'flood', bitrateBps, durationMs }`; `{ type: 'leave' }` (leaves and exits).
 */
import { Participant, type ParticipantOptions, waitFor } from './participant.js';

type FromParent = { type: 'flood'; bitrateBps: number; durationMs: number } | { type: 'leave' };

function tell(msg: Record<string, unknown>): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const opts = JSON.parse(process.argv[2] ?? '{}') as ParticipantOptions;
  const p = await Participant.join(opts);
  await waitFor(() => (p.sendingToBridge() ? undefined : `not sending to the bridge yet: ${p.problems.join('; ')}`), 20_000);
  process.on('message', (raw) => {
    const msg = raw as FromParent;
    if (msg.type === 'flood') {
      const pump = p.pump;
      if (pump === undefined) {
        tell({ type: 'error', message: 'no media pump' });
        return;
      }
      const before = { ...pump.flooded };
      const t0 = performance.now();
      p.flood(msg.bitrateBps);
      setTimeout(() => {
        pump.stopFlood();
        tell({ type: 'done', packets: pump.flooded.packets - before.packets, bytes: pump.flooded.bytes - before.bytes, ms: performance.now() - t0 });
      }, msg.durationMs);
    } else if (msg.type === 'leave') {
      void p.leave().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => void p.leave().finally(() => process.exit(0)));
  tell({ type: 'ready' });
}

main().catch((err: unknown) => {
  tell({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
