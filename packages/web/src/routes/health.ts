/**
 * `GET /about/health`: liveness for load balancers and monitors. Reveals nothing about users or rooms.
 *
 * The web package only reports: what counts as healthy is decided by whoever creates the app (the server checks the
 * event loop and the media port; see `@jitsi-one/server` health.ts) and passed in as a probe.
 */

/** The answer of `/about/health`. */
export interface Health {
  /**
   * `ok`: serving. `draining`: serving running conferences but refusing new ones (still HTTP 200, so that a proxy
   * keeps routing the running conferences' requests here). `unhealthy`: HTTP 503.
   */
  status: 'ok' | 'draining' | 'unhealthy';
  /** Why it is unhealthy, one short sentence per failed check (only with `unhealthy`). */
  reasons?: string[];
}

/** The default probe: always healthy. */
export function health(): Health {
  return { status: 'ok' };
}

/** The HTTP status for a health answer: 503 when unhealthy, else 200. */
export function healthHttpStatus(h: Health): number {
  return h.status === 'unhealthy' ? 503 : 200;
}
