/**
 * `/metrics` in the Prometheus text format (prom-client), served by the loopback ops listener (ops-server.ts).
 *
 * Everything is read at scrape time from the packages' own introspection: the XMPP server's counters and sessions,
 * the MUC, the focus's conferences, the bridge service's `stats()` (conferences, endpoints, transports, UDP socket
 * counters) and the drain and health state. One snapshot is taken per scrape, so a scrape costs one walk over the
 * live endpoints and nothing is counted per packet here. prom-client's default metrics add process memory, CPU,
 * event-loop delay percentiles, GC and handles.
 *
 * Counters stay monotonic across endpoints leaving: the bridge counts traffic per endpoint, so the totals are the
 * live endpoints' counters plus what expired endpoints had counted (added up once, when each expires).
 *
 * Labels are fixed vocabularies (direction, transport, state, reason). Nothing is labelled by address, nickname,
 * room, conference or endpoint id.
 */
import type { BridgeService, BridgeServiceStats, Endpoint } from '@jitsi-one/bridge';
import type { FocusManager } from '@jitsi-one/focus';
import type { Health } from '@jitsi-one/web';
import type { XmppServer } from '@jitsi-one/xmpp';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Drain } from './drain.js';

/** Every metric name starts with this. */
export const METRICS_PREFIX = 'jitsi_one_';

export interface MetricsSources {
  xmpp: XmppServer;
  bridge: BridgeService | undefined;
  focus: FocusManager | undefined;
  drain: Drain;
  /** The worst recent event-loop lag in ms (the figure health uses). */
  eventLoopLagMs: () => number;
  /** The current health answer. */
  health: () => Health;
}

/** Traffic counters of endpoints that have expired (numbers only). */
interface EndpointTotals {
  packetsReceived: number;
  bytesReceived: number;
  packetsSent: number;
  bytesSent: number;
  nackRetransmissions: number;
  keyframeRequests: number;
}

function zeroTotals(): EndpointTotals {
  return { packetsReceived: 0, bytesReceived: 0, packetsSent: 0, bytesSent: 0, nackRetransmissions: 0, keyframeRequests: 0 };
}

function addEndpoint(t: EndpointTotals, ep: ReturnType<Endpoint['stats']>): void {
  t.packetsReceived += ep.received.packets;
  t.bytesReceived += ep.received.bytes;
  t.packetsSent += ep.sent.packets;
  t.bytesSent += ep.sent.bytes;
  t.nackRetransmissions += ep.nackRetransmissions;
  t.keyframeRequests += ep.keyframeRequestsSent;
}

interface Snapshot {
  bridge: BridgeServiceStats | undefined;
  /** Live + expired endpoint totals. */
  totals: EndpointTotals;
  /** Mean loss fractions over connected endpoints. */
  loss: { incoming: number; outgoing: number };
}

/** The registry plus what a scrape needs. Create with {@link createMetrics}. */
export class Metrics {
  readonly registry = new Registry();
  readonly #sources: MetricsSources;
  readonly #expired = zeroTotals();
  #snapshot: Snapshot | undefined;
  #closed = false;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    if (sources.bridge !== undefined) this.#trackExpiredEndpoints(sources.bridge);
    collectDefaultMetrics({ register: this.registry });
    this.#define();
  }

  /** The content type of {@link scrape}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Renders every metric (one snapshot of the sources for the whole scrape). */
  async scrape(): Promise<string> {
    this.#snapshot = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.#snapshot = undefined;
    }
  }

  /** Stops counting expired endpoints and drops the metrics. Idempotent. */
  close(): void {
    this.#closed = true;
    this.registry.clear();
  }

  /** Adds an endpoint's counters to the expired totals when it expires (once per endpoint; numbers only). */
  #trackExpiredEndpoints(svc: BridgeService): void {
    const watch = (ep: Endpoint): void => {
      ep.on('expired', () => {
        if (!this.#closed) addEndpoint(this.#expired, ep.stats());
      });
    };
    for (const conf of svc.bridge.conferences.values()) for (const ep of conf.endpoints.values()) watch(ep);
    svc.bridge.on('conferenceCreated', (conferenceId) => {
      const conf = svc.bridge.getConference(conferenceId);
      conf?.on('endpointCreated', (endpointId) => {
        const ep = conf.endpoints.get(endpointId);
        if (ep !== undefined) watch(ep);
      });
    });
  }

  #snap(): Snapshot {
    if (this.#snapshot !== undefined) return this.#snapshot;
    const bridge = this.#sources.bridge?.stats();
    const totals = { ...this.#expired };
    let incoming = 0;
    let outgoing = 0;
    let connected = 0;
    for (const conf of bridge?.bridge.conferenceList ?? []) {
      for (const ep of conf.endpoints) {
        addEndpoint(totals, ep);
        if (ep.transportState !== 'connected') continue;
        connected++;
        incoming += ep.incomingLossFraction;
        outgoing += ep.outgoingLossFraction;
      }
    }
    const loss = connected === 0 ? { incoming: 0, outgoing: 0 } : { incoming: incoming / connected, outgoing: outgoing / connected };
    this.#snapshot = { bridge, totals, loss };
    return this.#snapshot;
  }

  #define(): void {
    const { xmpp, focus, drain } = this.#sources;
    const registers = [this.registry];
    const snap = (): Snapshot => this.#snap();
    const n = (name: string): string => `${METRICS_PREFIX}${name}`;

    // ---- conferences (focus) and MUC
    new Gauge({
      name: n('conferences'),
      help: 'Conferences the focus runs',
      registers,
      collect() {
        this.set(drain.status().conferences);
      },
    });
    new Gauge({
      name: n('participants'),
      help: 'Participants in the conferences the focus runs',
      registers,
      collect() {
        let p = 0;
        for (const c of focus?.conferences.values() ?? []) if (!c.ended) p += c.participants.size;
        this.set(p);
      },
    });
    new Gauge({
      name: n('muc_rooms'),
      help: 'MUC rooms',
      registers,
      collect() {
        this.set(xmpp.muc.rooms.size);
      },
    });
    new Gauge({
      name: n('muc_occupants'),
      help: 'MUC occupants (the focus included)',
      registers,
      collect() {
        this.set(xmpp.muc.occupantCount());
      },
    });

    // ---- XMPP
    new Gauge({
      name: n('xmpp_sessions'),
      help: 'XMPP client sessions by transport (local = in-process, such as the focus)',
      labelNames: ['transport'] as const,
      registers,
      collect() {
        const counts: Record<string, number> = { websocket: 0, bosh: 0, tcp: 0, local: 0 };
        for (const s of xmpp.allSessions) counts[s.transport.kind] = (counts[s.transport.kind] ?? 0) + 1;
        for (const [transport, v] of Object.entries(counts)) this.set({ transport }, v);
      },
    });
    new Counter({
      name: n('xmpp_stanzas_total'),
      help: 'Stanzas routed by the XMPP server (in: received from any session; out: delivered)',
      labelNames: ['direction'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ direction: 'in' }, xmpp.counters.stanzasIn);
        this.inc({ direction: 'out' }, xmpp.counters.stanzasOut);
      },
    });
    new Counter({
      name: n('xmpp_stream_errors_total'),
      help: 'XMPP streams ended with a stream error',
      registers,
      collect() {
        this.reset();
        this.inc(xmpp.counters.streamErrors);
      },
    });
    new Counter({
      name: n('xmpp_connections_refused_total'),
      help: 'Connections refused by xmpp.limits.maxConnectionsPerAddress',
      registers,
      collect() {
        this.reset();
        this.inc(xmpp.counters.connectionsRefused);
      },
    });

    // ---- bridge
    if (this.#sources.bridge !== undefined) {
      const gauge = (name: string, help: string, read: (s: Snapshot) => number): void => {
        new Gauge({
          name: n(name),
          help,
          registers,
          collect() {
            this.set(read(snap()));
          },
        });
      };
      const counter = (name: string, help: string, read: (s: Snapshot) => number): void => {
        new Counter({
          name: n(name),
          help,
          registers,
          collect() {
            this.reset();
            this.inc(read(snap()));
          },
        });
      };
      const byDirection = (name: string, help: string, labels: readonly [string, string], read: (s: Snapshot) => readonly [number, number]): void => {
        new Counter({
          name: n(name),
          help,
          labelNames: ['direction'] as const,
          registers,
          collect() {
            const [a, b] = read(snap());
            this.reset();
            this.inc({ direction: labels[0] }, a);
            this.inc({ direction: labels[1] }, b);
          },
        });
      };
      gauge('bridge_conferences', 'Bridge conferences', (s) => s.bridge?.bridge.conferences ?? 0);
      gauge('bridge_endpoints', 'Bridge endpoints', (s) => s.bridge?.bridge.endpoints ?? 0);
      new Gauge({
        name: n('bridge_transports'),
        help: 'Endpoint media transports by state (failed: ICE/DTLS failed or consent expired)',
        labelNames: ['state'] as const,
        registers,
        collect() {
          for (const [state, v] of Object.entries(snap().bridge?.transports ?? {})) this.set({ state }, v);
        },
      });
      gauge('bridge_websockets', 'Open colibri-ws bridge channel WebSockets', (s) => s.bridge?.channels.webSockets ?? 0);
      byDirection('bridge_rtp_packets_total', 'RTP packets received from endpoints and forwarded to endpoints', ['received', 'sent'], (s) => [
        s.totals.packetsReceived,
        s.totals.packetsSent,
      ]);
      byDirection('bridge_rtp_bytes_total', 'RTP bytes received from endpoints and forwarded to endpoints', ['received', 'sent'], (s) => [
        s.totals.bytesReceived,
        s.totals.bytesSent,
      ]);
      counter('bridge_nack_retransmissions_total', 'Packets retransmitted from the NACK cache', (s) => s.totals.nackRetransmissions);
      counter('bridge_keyframe_requests_total', 'Key frame requests (PLI/FIR) sent to senders', (s) => s.totals.keyframeRequests);
      new Gauge({
        name: n('bridge_loss_ratio'),
        help: 'Packet loss, mean over connected endpoints (incoming: what the bridge misses from senders; outgoing: what receivers report missing)',
        labelNames: ['direction'] as const,
        registers,
        collect() {
          const { loss } = snap();
          this.set({ direction: 'incoming' }, loss.incoming);
          this.set({ direction: 'outgoing' }, loss.outgoing);
        },
      });
      byDirection('bridge_udp_datagrams_total', 'Datagrams through the media UDP port', ['in', 'out'], (s) => [
        s.bridge?.mux.datagramsIn ?? 0,
        s.bridge?.mux.datagramsOut ?? 0,
      ]);
      byDirection('bridge_udp_bytes_total', 'Bytes through the media UDP port', ['in', 'out'], (s) => [s.bridge?.mux.bytesIn ?? 0, s.bridge?.mux.bytesOut ?? 0]);
      new Counter({
        name: n('bridge_udp_dropped_total'),
        help: 'Datagrams dropped at the media UDP port, by reason',
        labelNames: ['reason'] as const,
        registers,
        collect() {
          this.reset();
          for (const [reason, v] of Object.entries(snap().bridge?.mux.dropped ?? {})) this.inc({ reason }, v);
        },
      });
      counter('bridge_udp_socket_errors_total', 'Errors of the media UDP socket', (s) => s.bridge?.mux.socketErrors ?? 0);
      counter('bridge_udp_sends_queued_total', 'Media sends queued by libuv because the kernel buffer was full', (s) => s.bridge?.mux.sendsQueued ?? 0);
    }

    // ---- operations
    const { eventLoopLagMs, health } = this.#sources;
    new Gauge({
      name: n('event_loop_lag_max_seconds'),
      help: 'Worst event-loop lag of the last 5 s (what /about/health compares with health.maxEventLoopLagMs)',
      registers,
      collect() {
        this.set(eventLoopLagMs() / 1000);
      },
    });
    new Gauge({
      name: n('draining'),
      help: '1 while new conferences are refused (SIGUSR2 or POST /admin/drain)',
      registers,
      collect() {
        this.set(drain.draining ? 1 : 0);
      },
    });
    new Gauge({
      name: n('healthy'),
      help: '1 when /about/health answers 200 (ok or draining), 0 when it answers 503',
      registers,
      collect() {
        this.set(health().status === 'unhealthy' ? 0 : 1);
      },
    });
  }
}

/** Creates the metrics of a running server. */
export function createMetrics(sources: MetricsSources): Metrics {
  return new Metrics(sources);
}
