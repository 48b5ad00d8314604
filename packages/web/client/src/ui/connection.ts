/**
 * The connection, as people see it in a meeting:
 *
 * - {@link connectionBanner}: a banner while the connection to the server is lost (`role="alert"`, so it is
 *   announced), saying that we reconnect and when the next attempt is; it goes away once we are back in the room.
 * - {@link attachConnectionIndicators}: a connection indicator in the corner of every camera tile — three bars
 *   (good / fair / poor) and, on hover or keyboard focus, the bitrate, packet loss and resolution — from getStats
 *   every 2 s: for others what we receive from them, on our own tile what we send. The same text is the
 *   indicator's accessible label, and the numbers are `data-*` attributes for tests.
 *
 * Quality grades and the wording are in connection-quality.ts.
 */
import './connection.css';
import type { Conference, ConnectionStatus, InboundStats, OutboundStats } from '../conference/conference.js';
import { type ConnectionSummary, type Counters, describe, qualityOf, rates } from './connection-quality.js';
import { h } from './dom.js';
import type { Tile } from './tile.js';

/** How often the indicators are refreshed. */
export const INDICATOR_INTERVAL_MS = 2000;

/** The banner for a dropped connection; hidden while connected. */
export function connectionBanner(conference: Conference): HTMLElement {
  const text = h('span', { class: 'connection-banner-text' });
  const el = h('div', { class: 'connection-banner', role: 'alert', 'data-connection': 'connected', hidden: true }, text);
  let timer: number | undefined;
  let status: ConnectionStatus = { state: 'connected', attempt: 0 };
  const render = (): void => {
    window.clearTimeout(timer);
    timer = undefined;
    el.dataset.connection = status.state;
    if (status.state === 'connected') {
      el.hidden = true;
      text.textContent = '';
      return;
    }
    el.hidden = false;
    const wait = status.retryAt === undefined ? 0 : Math.ceil((status.retryAt - Date.now()) / 1000);
    text.textContent =
      wait > 0
        ? `The connection to the server was lost. Trying again in ${wait} s (attempt ${status.attempt + 1})…`
        : 'The connection to the server was lost. Reconnecting…';
    if (wait > 0) timer = window.setTimeout(render, 1000);
  };
  conference.on('connection', (s) => {
    status = s;
    render();
  });
  return el;
}

/**
 * Keeps a connection indicator on each camera tile of `tiles` (the local tile under `local`), refreshed every
 * {@link INDICATOR_INTERVAL_MS} while `root` is in the document. Returns the stop function.
 */
export function attachConnectionIndicators(conference: Conference, tiles: ReadonlyMap<string, Tile>, root: HTMLElement): () => void {
  const previous = new Map<string, Counters>();
  const indicators = new Map<Tile, HTMLElement>();
  let busy = false;
  let shown = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    // The meeting view left the page (ended): stop polling.
    if (root.isConnected) shown = true;
    else if (shown) {
      stop();
      return;
    }
    busy = true;
    try {
      const [inbound, outbound] = await Promise.all([conference.inboundStats(), conference.outboundStats()]);
      const now = performance.now();
      for (const [key, tile] of tiles) {
        if (tile.screen) continue;
        const summary = key === 'local' ? localSummary(outbound, now, previous) : remoteSummary(key, inbound, now, previous, conference);
        if (summary !== undefined) render(tile, summary, key === 'local');
      }
    } catch (err) {
      console.warn('connection statistics failed', err);
    } finally {
      busy = false;
    }
  };
  const render = (tile: Tile, s: ConnectionSummary, local: boolean): void => {
    let el = indicators.get(tile);
    if (el === undefined || !tile.el.contains(el)) {
      el = h(
        'span',
        { class: 'connection-indicator', 'data-indicator': 'connection', role: 'img', tabindex: 0 },
        h('span', { class: 'bar' }),
        h('span', { class: 'bar' }),
        h('span', { class: 'bar' }),
      );
      indicators.set(tile, el);
      tile.el.append(el);
    }
    const text = describe(s, local);
    el.setAttribute('aria-label', text);
    el.dataset.summary = text;
    el.dataset.quality = s.quality;
    el.dataset.kbps = String(Math.round(s.kbps));
    el.dataset.loss = s.loss.toFixed(4);
    el.dataset.resolution = s.height > 0 ? `${s.width}x${s.height}` : '';
    el.dataset.path = s.path;
  };
  const timer = window.setInterval(() => void tick(), INDICATOR_INTERVAL_MS);
  void tick();
  // After a reconnect our endpoint id is new: keep the local tile's attribute current.
  conference.on('connection', ({ state }) => {
    const local = tiles.get('local');
    if (state === 'connected' && local !== undefined) local.el.dataset.endpoint = conference.endpointId;
  });
  const stop = (): void => window.clearInterval(timer);
  return stop;
}

function remoteSummary(id: string, inbound: readonly InboundStats[], now: number, previous: Map<string, Counters>, conference: Conference): ConnectionSummary | undefined {
  const mine = inbound.filter((s) => s.participantId === id && !s.sourceName.endsWith('-v1'));
  const path = mine[0]?.path ?? 'jvb';
  const next: Counters = {
    at: now,
    path,
    bytes: mine.reduce((a, s) => a + s.bytesReceived, 0),
    packets: mine.reduce((a, s) => a + s.packetsReceived, 0),
    lost: mine.reduce((a, s) => a + s.packetsLost, 0),
  };
  const r = rates(previous.get(id), next);
  previous.set(id, next);
  const video = mine.find((s) => s.kind === 'video');
  const p = conference.participants.get(id);
  const expecting = p !== undefined && (!p.audioMuted || !p.videoMuted) && mine.length > 0;
  return {
    quality: r === undefined ? 'unknown' : qualityOf(r.loss, expecting && r.packets === 0),
    kbps: r?.kbps ?? 0,
    loss: r?.loss ?? 0,
    width: video?.frameWidth ?? 0,
    height: video?.frameHeight ?? 0,
    path,
  };
}

function localSummary(out: OutboundStats | undefined, now: number, previous: Map<string, Counters>): ConnectionSummary | undefined {
  if (out === undefined) return undefined;
  const next: Counters = { at: now, path: out.path, bytes: out.bytesSent, packets: out.packetsSent, lost: out.packetsLost };
  const r = rates(previous.get('local'), next);
  previous.set('local', next);
  return {
    quality: r === undefined ? 'unknown' : qualityOf(r.loss, false),
    kbps: r?.kbps ?? 0,
    loss: r?.loss ?? 0,
    width: out.frameWidth,
    height: out.frameHeight,
    path: out.path,
  };
}
