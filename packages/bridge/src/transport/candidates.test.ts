import { describe, expect, it } from 'vitest';
import { buildLocalCandidates, candidatePriority, defaultHostAddresses, pairPriority } from './candidates.js';

describe('candidatePriority()', () => {
  it('follows RFC 8445 §5.1.2.1', () => {
    expect(candidatePriority('host', 65535)).toBe(2130706431); // JVB's host priority
    expect(candidatePriority('srflx', 65535)).toBe(1694498815);
    expect(candidatePriority('prflx', 65535)).toBe(1862270975);
    expect(candidatePriority('host', 65534)).toBe(2130706175);
  });
});

describe('pairPriority()', () => {
  it('is 2^32·min + 2·max + (G > D)', () => {
    expect(pairPriority(10, 20)).toBe((10n << 32n) + 40n);
    expect(pairPriority(20, 10)).toBe((10n << 32n) + 41n);
  });
});

describe('buildLocalCandidates()', () => {
  it('gives host candidates distinct local preferences and foundations, in the Jingle shape', () => {
    const c = buildLocalCandidates({ hostAddresses: ['10.0.0.5', '127.0.0.1'] }, 10000, 'ab');
    expect(c).toEqual([
      { foundation: '1', component: 1, protocol: 'udp', priority: 2130706431, ip: '10.0.0.5', port: 10000, type: 'host', generation: 0, network: 0, id: 'ab1' },
      { foundation: '2', component: 1, protocol: 'udp', priority: 2130706175, ip: '127.0.0.1', port: 10000, type: 'host', generation: 0, network: 0, id: 'ab2' },
    ]);
  });

  it('adds a srflx candidate for a public address (1:1 NAT) with rel-addr/rel-port', () => {
    const c = buildLocalCandidates({ hostAddresses: ['10.0.0.5'], publicAddress: '203.0.113.7' }, 10000, 'x');
    expect(c[1]).toMatchObject({ type: 'srflx', ip: '203.0.113.7', port: 10000, relAddr: '10.0.0.5', relPort: 10000, priority: 1694498815, foundation: '2' });
  });

  it('maps each configured local address and can leave host candidates out', () => {
    const c = buildLocalCandidates(
      { hostAddresses: ['10.0.0.5', '10.0.1.5'], natMappings: [{ local: '10.0.1.5', public: '198.51.100.9' }, { local: '10.9.9.9', public: '198.51.100.10' }], advertiseHostCandidates: false },
      4000,
      'x',
    );
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ type: 'srflx', ip: '198.51.100.9', relAddr: '10.0.1.5', priority: 100 * 2 ** 24 + 65534 * 256 + 255 });
  });

  it('defaults to the non-internal IPv4 addresses and never adds loopback by itself', () => {
    const c = buildLocalCandidates({}, 1, 'x');
    expect(c.map((x) => x.ip)).toEqual(defaultHostAddresses());
    expect(c.some((x) => x.ip.startsWith('127.'))).toBe(false);
  });

  it('rejects non-IPv4 addresses', () => {
    expect(() => buildLocalCandidates({ hostAddresses: ['::1'] }, 1, 'x')).toThrow(TypeError);
    expect(() => buildLocalCandidates({ hostAddresses: ['10.0.0.1'], publicAddress: 'example.com' }, 1, 'x')).toThrow(TypeError);
  });
});
