/**
 * What `/about/health` says: unhealthy (HTTP 503) when the event loop is stalled or the media UDP port is not bound,
 * `draining` while a drain is on (still 200: running conferences keep being served), else `ok`.
 *
 * The decision ({@link evaluateHealth}) is pure over three probes; the server wires the real ones (the
 * {@link EventLoopLagMonitor}, the bridge's UDP socket, the {@link Drain}) and tests pass their own. The answer
 * never names a room, user or address.
 */
import type { Health } from '@jitsi-one/web';
import type { BridgeService } from '@jitsi-one/bridge';

/** The inputs of the health decision. Each is called once per health request. */
export interface HealthProbes {
  /** The worst recent event-loop lag in ms (see `EventLoopLagMonitor.lagMs`). */
  eventLoopLagMs(): number;
  /** Whether the media UDP port is bound; `undefined` when the bridge is not run (`bridge.enabled: false`). */
  mediaPortBound(): boolean | undefined;
  /** Whether new conferences are refused (see `Drain`). */
  draining(): boolean;
}

/** The `health` config section (see config.ts). */
export interface HealthLimits {
  maxEventLoopLagMs: number;
}

/** Decides the health answer. Unhealthy wins over draining. */
export function evaluateHealth(probes: HealthProbes, limits: HealthLimits): Health {
  const reasons: string[] = [];
  const lag = probes.eventLoopLagMs();
  if (lag > limits.maxEventLoopLagMs) {
    reasons.push(`event loop stalled: lag ${Math.round(lag)} ms exceeds ${limits.maxEventLoopLagMs} ms`);
  }
  if (probes.mediaPortBound() === false) reasons.push('media UDP port not bound');
  if (reasons.length > 0) return { status: 'unhealthy', reasons };
  return { status: probes.draining() ? 'draining' : 'ok' };
}

/** Whether the bridge's media socket is bound: open and answering `address()` (which throws once it is closed). */
export function isMediaPortBound(bridge: BridgeService): boolean {
  try {
    return !bridge.mux.closed && bridge.mux.port > 0;
  } catch {
    return false;
  }
}
