import { describe, expect, it } from 'vitest';
import { parseTransportConfig } from './config.js';

describe('parseTransportConfig()', () => {
  it('fills every default', () => {
    const c = parseTransportConfig();
    expect(c).toMatchObject({ port: 10000, bindAddress: '0.0.0.0', advertiseHostCandidates: true, srtpProfiles: [1, 7], replayWindowSize: 1024 });
    expect(c.ice).toEqual({ checkIntervalMs: 50, checkRtoMs: 250, maxCheckRtoMs: 2000, maxCheckTransmissions: 7, consentIntervalMs: 5000, consentTimeoutMs: 30000, connectTimeoutMs: 30000 });
    expect(c.hostAddresses).toBeUndefined();
  });

  it('accepts NAT settings and rejects bad values with the key path', () => {
    expect(parseTransportConfig({ publicAddress: '203.0.113.1', natMappings: [{ local: '10.0.0.1', public: '203.0.113.1' }] }).natMappings).toHaveLength(1);
    expect(() => parseTransportConfig({ port: 70000 })).toThrow(/port/);
    expect(() => parseTransportConfig({ hostAddresses: ['example.com'] })).toThrow(/hostAddresses/);
    expect(() => parseTransportConfig({ replayWindowSize: 1000 })).toThrow(/replayWindowSize/);
    expect(() => parseTransportConfig({ srtpProfiles: [2 as 1] })).toThrow(/srtpProfiles/);
  });
});
