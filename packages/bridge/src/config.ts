/**
 * Configuration of the bridge core (the `bridge` section of the app config). The transport (UDP port, advertised
 * addresses) has its own section next to it; this one covers conferences, forwarding and feedback. Every key is
 * documented here with its default; tests construct `{ … }` inputs directly.
 *
 * References: STYLE.md §3.9; JVB `reference.conf` (defaults cited per key).
 */
import { z } from 'zod';

export const bridgeConstraintsSchema = z.object({
  /**
   * Default max height (px) a receiver gets before its first ReceiverVideoConstraints. JVB uses 0 (nothing until
   * the receiver speaks); 180 lets a client without a bridge channel see thumbnails.
   */
  initialMaxHeightPx: z.number().int().min(-1).default(180),
  /** Default max height when the receiver's first message has no `defaultConstraints` (JVB 180). */
  defaultMaxHeightPx: z.number().int().min(-1).default(180),
});

export const bridgeBweSchema = z.object({
  /**
   * Use the per-receiver bandwidth estimate (from its REMB or transport-cc feedback) in allocation. Until a
   * receiver sent any feedback its bandwidth counts as unlimited.
   */
  enabled: z.boolean().default(true),
  /** Estimate a receiver starts from once it gives feedback (bps). */
  startBitrateBps: z.number().int().min(10_000).default(2_500_000),
  /** Lower clamp of the estimate (bps). */
  minBitrateBps: z.number().int().min(10_000).default(30_000),
  /** Upper clamp of the estimate (bps). */
  maxBitrateBps: z.number().int().min(10_000).default(20_000_000),
});

export const bridgeFeedbackSchema = z.object({
  /** How often RR (towards senders) and SR (towards receivers) are sent (ms). Also the REMB interval. */
  rtcpIntervalMs: z.number().int().min(50).default(1000),
  /**
   * Bitrate announced in the REMB sent to senders that did not negotiate transport-cc (bps). Chrome uses it as the
   * cap for its send rate (PROTOCOL.md §7.6: a fixed 2–4 Mbps is enough for 720p simulcast).
   */
  rembBitrateBps: z.number().int().min(30_000).default(3_000_000),
  /** transport-cc feedback interval towards senders that negotiated it (ms). Chrome expects ~100 ms. */
  transportCcIntervalMs: z.number().int().min(20).max(1000).default(100),
});

export const bridgeVideoSchema = z.object({
  /**
   * Sequence numbers remembered per outgoing video stream to answer its receiver's NACKs: what each forwarded packet
   * was rewritten to (40 bytes each, no packet bytes: those are kept once per source, `nackCacheBytes`). The log
   * starts at 64 and doubles while the stream sends more than that within `nackMaxAgeMs`, up to this: 512 ≈ 1 s of
   * a 4–5 Mbit/s stream. A paused stream's log is cleared.
   */
  nackCacheSize: z.number().int().min(16).max(8192).default(512),
  /**
   * Bytes of each video source's forwarded packets kept, once for all its receivers, to answer NACKs (JVB keeps one
   * cache per incoming stream too). The buffer starts at 16 KiB and doubles while packets younger than
   * `nackMaxAgeMs` would be evicted, up to this; it halves when it holds little. 1 MiB ≈ 1 s of 8 Mbit/s.
   */
  nackCacheBytes: z.number().int().min(16_384).max(64 * 1_048_576).default(1_048_576),
  /** Packets older than this are not retransmitted (the receiver has given up on them). */
  nackMaxAgeMs: z.number().int().min(50).default(1000),
  /** Minimum time between two keyframe requests for one source (ms; PROTOCOL.md §7.4: ≥ 200). */
  keyframeMinIntervalMs: z.number().int().min(0).default(200),
  /** A simulcast layer without packets for this long is inactive (ms). */
  layerActiveTimeoutMs: z.number().int().min(100).default(1000),
  /** Temporal layers assumed per encoding (Chrome VP8 simulcast: 3). */
  temporalLayers: z.number().int().min(1).max(4).default(3),
  /** Frame rate of a full encoding, for the allocator's frame-rate rules. */
  maxFrameRate: z.number().min(1).default(30),
});

export const bridgeAudioSchema = z.object({
  /** Drop audio packets whose RFC 6464 level is 127 (digital silence), as JVB does. */
  dropSilence: z.boolean().default(true),
});

export const bridgeLimitsSchema = z.object({
  /**
   * Media (RTP, after decryption) one endpoint may send to the bridge, bits per second. Packets beyond it are dropped
   * on arrival, before anything is forwarded, so a flooding client cannot multiply its flood to every receiver. A
   * browser's 720p simulcast camera plus a 1080p screen share send about 6 Mbit/s; short bursts (key frames,
   * bandwidth probes) fit in `receiveBurstMs`. 0 = no limit.
   */
  maxReceiveBitrateBps: z.number().int().min(0).default(20_000_000),
  /** Burst allowance of that limit: this many milliseconds of traffic at the full rate. */
  receiveBurstMs: z.number().int().min(10).max(10_000).default(500),
});

export const bridgeSsrcRewritingSchema = z.object({
  /** Video slots per SSRC-rewriting receiver (JVB `ssrc-limit`: 50). */
  maxVideoSlots: z.number().int().min(1).max(500).default(50),
  /** Audio slots per SSRC-rewriting receiver. */
  maxAudioSlots: z.number().int().min(1).max(500).default(50),
});

export const bridgeConfigSchema = z.object({
  /** The bridge's id: second segment of the colibri-ws path `/colibri-ws/<id>/<conference>/<endpoint>`. */
  id: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/).default('jvb1'),
  /**
   * Public base URL of the colibri-ws endpoint, e.g. `wss://meet.example.com/colibri-ws`. The endpoint URL handed to
   * the focus is `<base>/<id>/<conference id>/<endpoint id>?pwd=<password>`. Unset: no URL in the replies (the
   * composition root normally sets it from the HTTP server's public address).
   */
  webSocketBaseUrl: z.string().url().optional(),
  /** Expire a conference when its last endpoint expires (JVB behaviour). */
  expireEmptyConferences: z.boolean().default(true),
  /** How often the allocator re-runs for every receiver even without events (ms; layers that stopped, BWE drift). */
  allocationIntervalMs: z.number().int().min(50).default(1000),
  constraints: bridgeConstraintsSchema.prefault({}),
  bwe: bridgeBweSchema.prefault({}),
  feedback: bridgeFeedbackSchema.prefault({}),
  video: bridgeVideoSchema.prefault({}),
  audio: bridgeAudioSchema.prefault({}),
  ssrcRewriting: bridgeSsrcRewritingSchema.prefault({}),
  limits: bridgeLimitsSchema.prefault({}),
});

/** The validated bridge config. */
export type BridgeConfig = z.output<typeof bridgeConfigSchema>;
/** What callers may pass: any subset; omitted keys take their defaults. */
export type BridgeConfigInput = z.input<typeof bridgeConfigSchema>;

/** Parses and validates a bridge config; throws TypeError naming the bad keys. */
export function parseBridgeConfig(input: BridgeConfigInput = {}): BridgeConfig {
  const r = bridgeConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const what = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new TypeError(`invalid bridge config: ${what}`, { cause: r.error });
}

/** Every default. */
export function defaultBridgeConfig(): BridgeConfig {
  return bridgeConfigSchema.parse({});
}
