/** `GET /about/health`: liveness for load balancers and monitors. Reveals nothing about users or rooms. */
export interface Health {
  status: 'ok';
}

export function health(): Health {
  return { status: 'ok' };
}
