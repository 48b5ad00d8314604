/**
 * The connection indicator's arithmetic and words, pure (unit-tested in Node): bitrate and packet loss between two
 * samples of getStats' cumulative counters, the quality grade, and the text that is also the accessible label.
 *
 * Quality: poor above 10 % loss (or nothing received in the interval while the camera or microphone is on), fair
 * above 2 %, else good — the thresholds Jitsi Meet's indicator uses for loss, without its bitrate targets.
 */

/** One tile's numbers over the last interval. */
export interface ConnectionSummary {
  quality: 'good' | 'fair' | 'poor' | 'unknown';
  /** Kilobits per second over the last interval. */
  kbps: number;
  /** Packet loss over the last interval, 0–1. */
  loss: number;
  width: number;
  height: number;
  path: 'jvb' | 'p2p';
}

/** Cumulative counters of one tile at one time (`at` in ms). */
export interface Counters {
  at: number;
  path: string;
  bytes: number;
  packets: number;
  lost: number;
}

/**
 * Bitrate and loss from two cumulative samples (pure). Counters restart when the path changes (a new connection),
 * so the first sample after a change gives `undefined`.
 */
export function rates(prev: Counters | undefined, next: Counters): { kbps: number; loss: number; packets: number } | undefined {
  if (prev === undefined || prev.path !== next.path || next.at <= prev.at || next.bytes < prev.bytes) return undefined;
  const seconds = (next.at - prev.at) / 1000;
  const packets = Math.max(0, next.packets - prev.packets);
  const lost = Math.max(0, next.lost - prev.lost);
  return { kbps: ((next.bytes - prev.bytes) * 8) / 1000 / seconds, loss: packets + lost === 0 ? 0 : lost / (packets + lost), packets };
}

/** The quality class for a loss rate (and whether anything arrived while something should have). */
export function qualityOf(loss: number, silent: boolean): ConnectionSummary['quality'] {
  if (silent || loss > 0.1) return 'poor';
  if (loss > 0.02) return 'fair';
  return 'good';
}

/** The indicator's text, also its accessible label. */
export function describe(s: ConnectionSummary, local: boolean): string {
  const quality = s.quality === 'unknown' ? 'being measured' : s.quality;
  const rate = s.kbps >= 1000 ? `${(s.kbps / 1000).toFixed(1)} Mbit/s` : `${Math.round(s.kbps)} kbit/s`;
  const resolution = s.height > 0 ? `${s.width}×${s.height}` : 'no video';
  const via = s.path === 'p2p' ? 'direct (peer to peer)' : 'through the server';
  return `${local ? 'Your connection' : 'Connection'} ${quality}: ${local ? 'sending' : 'receiving'} ${rate}, ${(s.loss * 100).toFixed(1)} % packet loss, ${resolution}, ${via}`;
}
