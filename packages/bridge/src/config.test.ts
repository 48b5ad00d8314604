import { describe, expect, it } from 'vitest';
import { defaultBridgeConfig, parseBridgeConfig } from './config.js';

describe('bridge config', () => {
  it('has documented defaults', () => {
    const c = defaultBridgeConfig();
    expect(c).toMatchObject({
      id: 'jvb1',
      expireEmptyConferences: true,
      allocationIntervalMs: 1000,
      constraints: { initialMaxHeightPx: 180, defaultMaxHeightPx: 180 },
      feedback: { rtcpIntervalMs: 1000, transportCcIntervalMs: 100 },
      video: { nackCacheSize: 512, nackCacheBytes: 1_048_576, nackMaxAgeMs: 1000, keyframeMinIntervalMs: 200 },
      audio: { dropSilence: true },
      ssrcRewriting: { maxVideoSlots: 50, maxAudioSlots: 50 },
    });
    expect(c.webSocketBaseUrl).toBeUndefined();
  });

  it('merges partial input and rejects bad values naming the key', () => {
    expect(parseBridgeConfig({ video: { nackCacheSize: 64 } }).video).toMatchObject({ nackCacheSize: 64, keyframeMinIntervalMs: 200 });
    expect(() => parseBridgeConfig({ id: 'has space' })).toThrow(/id/);
    expect(() => parseBridgeConfig({ feedback: { transportCcIntervalMs: 5 } })).toThrow(/feedback\.transportCcIntervalMs/);
  });
});
