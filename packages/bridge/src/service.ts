/**
 * The assembled bridge: what the server creates once at start. It owns the DTLS certificate, the one UDP port
 * (UdpMux), the SFU core ({@link Bridge}) whose endpoints get an {@link EndpointTransport} on that port, and the
 * colibri-ws handler with one {@link BridgeChannel} per endpoint.
 *
 * ```ts
 * const svc = await createBridgeService({ config: appConfig.bridge, log });
 * httpServer.on('upgrade', (req, socket, head) => svc.handleUpgrade(req, socket, head) || …);
 * svc.bridge.conferenceModify({ meetingId, create: true, endpoints: [{ id, create: true, … }] });   // the focus
 * await svc.close();
 * ```
 *
 * Channels. A channel is created when its endpoint is created (the Conference's `endpointCreated` event, before
 * the request's sources and transport are applied) and closed when the endpoint expires (its `expired` event, which
 * every way of expiring emits once). The colibri-ws `lookup` finds the live endpoint by conference and endpoint id
 * and hands back `{ password: ep.wsPassword, channel }`. Each channel is bound to its endpoint:
 * - in: ReceiverVideoConstraints / LastNChangedEvent → `setReceiverConstraints`; SourceVideoTypeMessage and the
 *   legacy VideoTypeMessage (the sender's first video source) → `setSourceVideoType`; ReceiverAudioSubscription →
 *   `setReceiverAudioSubscription`; EndpointMessage → relayed to its target, or to every other endpoint of the
 *   conference when `to` is empty, with `from` = the sender's endpoint id, serialized once; EndpointStats → relayed
 *   to every other endpoint with `from`. Visitors' endpoint messages are not relayed (JVB).
 * - out: `forwardedSourcesChanged` → ForwardedSources; `senderSourceConstraints` → SenderSourceConstraints;
 *   `videoSourcesMap`/`audioSourcesMap` → VideoSourcesMap/AudioSourcesMap (SSRC-rewriting receivers); the
 *   conference's `dominantSpeakerChanged` → one DominantSpeakerEndpointChangeEvent serialized once for every
 *   endpoint of the conference.
 * - (re)connect: the channel queues (and coalesces) what was sent while no socket was open and flushes it after
 *   ServerHello, so the first connection already gets the current state. When a socket replaces another, or the
 *   queue overflowed, the current state is sent in full: ForwardedSources, SenderSourceConstraints per source, the
 *   dominant speaker and, for SSRC-rewriting receivers, the complete source maps (JVB
 *   `endpointMessageTransportConnected`).
 *
 * Lifecycle: `close()` expires every conference (closing transports, timers and channels), closes the colibri-ws
 * handler (terminating its sockets and its keepalive timer) and then the UDP socket. Idempotent.
 *
 * References: STYLE.md §3.4 (composition), §3.8 (logging, no addresses), §3.9 (config); PROTOCOL.md §1.2 (URL),
 * §6 (bridge channel), §7.7/§7.8 (transport); JVB `Endpoint.kt` (`endpointMessageTransportConnected`),
 * `EndpointMessageTransport.java` (relay rules).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Bridge } from './bridge.js';
import { BridgeChannel, broadcast } from './channel/bridge-channel.js';
import { createColibriWsHandler, type ColibriWsHandler } from './channel/colibri-ws.js';
import {
  buildAudioSourcesMap,
  buildDominantSpeakerChange,
  buildEndpointStats,
  buildForwardedSources,
  buildRelayedEndpointMessage,
  buildSenderSourceConstraints,
  buildVideoSourcesMap,
  serializeMessage,
} from './channel/messages.js';
import type { Conference } from './conference.js';
import { bridgeConfigSchema } from './config.js';
import type { Endpoint } from './endpoint.js';
import { createBridgeCertificate, type BridgeCertificate } from './transport/certificate.js';
import { transportConfigSchema } from './transport/config.js';
import { EndpointTransport } from './transport/endpoint-transport.js';
import { UdpMux, type UdpMuxCounters } from './transport/udp-mux.js';
import {
  type BridgeStatsSnapshot,
  type Clock,
  type MediaTransport,
  type MediaTransportState,
  type Scheduler,
  silentLogger,
} from './types.js';

// EndpointTransport is the real MediaTransport: checked here, where the two meet.
const _endpointTransportIsMediaTransport = (t: EndpointTransport): MediaTransport => t;
void _endpointTransportIsMediaTransport;

/**
 * The `bridge` section of the app config: the bridge core's keys (config.ts) plus `enabled` and the media
 * transport (`transport`, transport/config.ts: UDP port, bind address, advertised addresses and NAT mappings, ICE
 * timings, SRTP). `webSocketBaseUrl` unset: the server derives it from its own public URL.
 */
export const bridgeServiceConfigSchema = z.object({
  /** Run the bridge (media). Off: no UDP port, no colibri-ws; conferences cannot have media. */
  enabled: z.boolean().default(true),
  ...bridgeConfigSchema.shape,
  /** The media transport: the one UDP port and what is advertised for it. */
  transport: transportConfigSchema.prefault({}),
});

/** The validated `bridge` section. */
export type BridgeServiceConfig = z.output<typeof bridgeServiceConfigSchema>;
/** What callers may pass: any subset; omitted keys take their defaults. */
export type BridgeServiceConfigInput = z.input<typeof bridgeServiceConfigSchema>;

/** Parses and validates the `bridge` section; throws TypeError naming the bad keys. */
export function parseBridgeServiceConfig(input: BridgeServiceConfigInput = {}): BridgeServiceConfig {
  const r = bridgeServiceConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const what = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new TypeError(`invalid bridge config: ${what}`, { cause: r.error });
}

/** Options of {@link createBridgeService}. */
export interface BridgeServiceOptions {
  /** The `bridge` config section (validated here). `enabled` is the caller's business: this always starts. */
  config?: BridgeServiceConfigInput;
  /** Parent logger (components add `{ component }`). Default: silent. */
  log?: Logger;
  /** A certificate to use instead of generating one (tests share one). */
  certificate?: BridgeCertificate;
  /** colibri-ws ping interval, ms (default 15 000, JVB). */
  webSocketKeepaliveMs?: number;
  /** colibri-ws idle timeout, ms (default 60 000, JVB). */
  webSocketIdleTimeoutMs?: number;
  /** Clock of the bridge core (default `performance.now()`). */
  clock?: Clock;
  /** Timers of the bridge core (default Node timers, unref'd). */
  scheduler?: Scheduler;
}

/** Snapshot from {@link BridgeService.stats}. */
export interface BridgeServiceStats {
  /** The bound UDP port (0 after close). */
  port: number;
  /** Conferences and endpoints (see {@link Bridge.stats}). */
  bridge: BridgeStatsSnapshot;
  /** The UDP socket's counters and how many ufrag/address routes are registered. */
  mux: UdpMuxCounters & { registrations: number };
  /** Bridge channels (one per live endpoint), how many have an open socket, and open colibri WebSockets. */
  channels: { count: number; open: number; webSockets: number };
  /** Endpoint transports by state (`failed`: ICE/DTLS failed or consent expired; the endpoint stays until expired). */
  transports: Record<MediaTransportState, number>;
}

/** The running bridge. See the module comment. */
export interface BridgeService {
  /** The SFU core; the focus calls `bridge.conferenceModify()`. */
  readonly bridge: Bridge;
  /** The one UDP port. */
  readonly mux: UdpMux;
  /** The DTLS certificate every endpoint uses. */
  readonly certificate: BridgeCertificate;
  /** The validated config. */
  readonly config: BridgeServiceConfig;
  /**
   * Handles an HTTP `upgrade` for `/colibri-ws/…` (answers it: 101 or an HTTP error) and returns true; returns
   * false, without touching the socket, for any other path.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** The bridge channel of a live endpoint (debugging, tests). */
  channel(conferenceId: string, endpointId: string): BridgeChannel | undefined;
  /** Counters of everything. */
  stats(): BridgeServiceStats;
  /** Expires every conference, closes every channel and socket and the UDP port. Idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the certificate (unless given), binds the UDP port and assembles the bridge. Rejects when the port cannot
 * be bound (the error's `code`, e.g. `EADDRINUSE`, is dgram's) or the config is invalid (TypeError).
 */
export async function createBridgeService(options: BridgeServiceOptions = {}): Promise<BridgeService> {
  const config = parseBridgeServiceConfig(options.config ?? {});
  const log = (options.log ?? silentLogger()).child({ component: 'bridge-service' });
  const root = options.log ?? silentLogger();
  const { enabled: _enabled, transport: tc, ...core } = config;
  const certificate = options.certificate ?? (await createBridgeCertificate());
  const mux = await UdpMux.create({
    port: tc.port,
    bindAddress: tc.bindAddress,
    ...(tc.hostAddresses !== undefined ? { hostAddresses: tc.hostAddresses } : {}),
    ...(tc.publicAddress !== undefined ? { publicAddress: tc.publicAddress } : {}),
    ...(tc.natMappings !== undefined ? { natMappings: tc.natMappings } : {}),
    advertiseHostCandidates: tc.advertiseHostCandidates,
    ...(tc.receiveBufferBytes !== undefined ? { receiveBufferBytes: tc.receiveBufferBytes } : {}),
    ...(tc.sendBufferBytes !== undefined ? { sendBufferBytes: tc.sendBufferBytes } : {}),
    log: root,
  });
  if (mux.localCandidates().length === 0) {
    log.warn('no ICE candidates to advertise: set bridge.transport.hostAddresses or publicAddress');
  }

  const bridge = new Bridge({
    config: core,
    log: root,
    ...(options.clock !== undefined ? { clock: options.clock } : {}),
    ...(options.scheduler !== undefined ? { scheduler: options.scheduler } : {}),
    // The endpoint owns its transport and closes it when it expires.
    transportFactory: (endpointId) =>
      new EndpointTransport({
        mux,
        certificate,
        log: root.child({ epId: endpointId }),
        iceTiming: tc.ice,
        srtpProfiles: tc.srtpProfiles,
        replayWindowSize: tc.replayWindowSize,
      }),
  });

  const channels = new Map<Endpoint, BridgeChannel>();

  const channelsOf = (conf: Conference): BridgeChannel[] => {
    const out: BridgeChannel[] = [];
    for (const ep of conf.endpoints.values()) {
      const c = channels.get(ep);
      if (c !== undefined) out.push(c);
    }
    return out;
  };

  /** Everything a (re)connected client needs to know (JVB `endpointMessageTransportConnected`). */
  const sendState = (ep: Endpoint, channel: BridgeChannel): void => {
    channel.send(buildForwardedSources(ep.forwardedSources));
    for (const c of ep.senderSourceConstraints()) channel.send(buildSenderSourceConstraints(c.sourceName, c.maxHeight));
    const dominant = ep.conference.dominantSpeaker;
    if (dominant !== null) {
      const order = ep.conference.speakerOrder();
      channel.send(buildDominantSpeakerChange(dominant, order.filter((id) => id !== dominant), false));
    }
    if (ep.ssrcRewriting) {
      const video = ep.videoSourcesMap();
      const audio = ep.audioSourcesMap();
      if (video.length > 0) channel.send(buildVideoSourcesMap(video));
      if (audio.length > 0) channel.send(buildAudioSourcesMap(audio));
    }
  };

  const attachEndpoint = (conf: Conference, ep: Endpoint): void => {
    const channel = new BridgeChannel({ endpointId: ep.id, log: root.child({ confId: conf.id }) });
    channels.set(ep, channel);
    channel.bind({
      onReceiverVideoConstraints: (c) => ep.setReceiverConstraints(c),
      onLastN: (lastN) => ep.setReceiverConstraints({ lastN }),
      onSourceVideoType: (sourceName, videoType) => ep.setSourceVideoType(sourceName, videoType),
      onVideoType: (videoType) => {
        const src = ep.sources.find((s) => s.kind === 'video');
        if (src !== undefined) ep.setSourceVideoType(src.name, videoType);
      },
      onReceiverAudioSubscription: (s) => ep.setReceiverAudioSubscription(s),
      onEndpointMessage: (to, message) => {
        if (ep.mucRole === 'visitor') return;
        const relayed = serializeMessage(buildRelayedEndpointMessage(message, ep.id));
        if (to === '') {
          broadcast(channelsOf(conf), relayed, channel);
          return;
        }
        const target = conf.endpoints.get(to);
        const targetChannel = target !== undefined ? channels.get(target) : undefined;
        if (targetChannel !== undefined && target !== ep) targetChannel.sendSerialized(relayed);
        else ep.log.debug('endpoint message for an unknown endpoint dropped');
      },
      onEndpointStats: (stats) => {
        broadcast(channelsOf(conf), buildEndpointStats(stats, ep.id), channel);
      },
      onConnected: (info) => {
        if (info.reconnect || info.droppedWhileDisconnected > 0) sendState(ep, channel);
      },
    });
    ep.on('forwardedSourcesChanged', (sources) => channel.send(buildForwardedSources(sources)));
    ep.on('senderSourceConstraints', (c) => channel.send(buildSenderSourceConstraints(c.sourceName, c.maxHeight)));
    ep.on('videoSourcesMap', (m) => channel.send(buildVideoSourcesMap(m)));
    ep.on('audioSourcesMap', (m) => channel.send(buildAudioSourcesMap(m)));
    ep.on('expired', () => {
      channels.delete(ep);
      channel.close();
    });
  };

  bridge.on('conferenceCreated', (conferenceId) => {
    const conf = bridge.getConference(conferenceId);
    if (conf === undefined) return;
    conf.on('endpointCreated', (endpointId) => {
      const ep = conf.endpoints.get(endpointId);
      if (ep !== undefined) attachEndpoint(conf, ep);
    });
    conf.on('dominantSpeakerChanged', (change) => {
      broadcast(channelsOf(conf), buildDominantSpeakerChange(change));
    });
  });

  const ws: ColibriWsHandler = createColibriWsHandler({
    bridgeId: config.id,
    log: root,
    lookup: (conferenceId, endpointId) => {
      const ep = bridge.getEndpoint(conferenceId, endpointId);
      if (ep === undefined || ep.expired) return undefined;
      const channel = channels.get(ep);
      return channel === undefined ? undefined : { password: ep.wsPassword, channel };
    },
    ...(options.webSocketKeepaliveMs !== undefined ? { keepaliveMs: options.webSocketKeepaliveMs } : {}),
    ...(options.webSocketIdleTimeoutMs !== undefined ? { idleTimeoutMs: options.webSocketIdleTimeoutMs } : {}),
  });

  log.info({ port: mux.port, bridgeId: config.id }, 'bridge started');

  let closing: Promise<void> | undefined;
  return {
    bridge,
    mux,
    certificate,
    config,
    handleUpgrade: (req, socket, head) => ws.handleUpgrade(req, socket, head),
    channel(conferenceId, endpointId) {
      const ep = bridge.getEndpoint(conferenceId, endpointId);
      return ep === undefined ? undefined : channels.get(ep);
    },
    stats() {
      let open = 0;
      for (const c of channels.values()) if (c.isOpen) open++;
      const byState: Record<MediaTransportState, number> = { new: 0, checking: 0, connected: 0, failed: 0, closed: 0 };
      for (const conf of bridge.conferences.values()) for (const ep of conf.endpoints.values()) byState[ep.transport.state]++;
      return {
        port: mux.port,
        bridge: bridge.stats(),
        mux: { ...mux.counters, dropped: { ...mux.counters.dropped }, registrations: mux.registrationCount },
        channels: { count: channels.size, open, webSockets: ws.connectionCount },
        transports: byState,
      };
    },
    close() {
      closing ??= (async () => {
        bridge.close();
        for (const c of channels.values()) c.close();
        channels.clear();
        await ws.close();
        await mux.close();
        log.info('bridge stopped');
      })();
      return closing;
    },
  };
}
