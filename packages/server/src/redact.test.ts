import { describe, expect, it } from 'vitest';
import { censor, maskAddress, maskIPv4, maskIPv6, maskIpsInText, maskJid, redactPaths, shortHash } from './redact.js';

describe('redact', () => {
  it('masks IPv4 to its /16', () => {
    expect(maskIPv4('203.0.113.77')).toBe('203.0.x.x');
  });

  it('masks IPv6 to its /32, keeps loopback, handles v4-mapped', () => {
    expect(maskIPv6('2001:db8:85a3::8a2e:370:7334')).toBe('2001:db8::x');
    expect(maskIPv6('2001:DB8:1:2:3:4:5:6')).toBe('2001:db8::x');
    expect(maskIPv6('fe80::1%eth0')).toBe('fe80:0::x');
    expect(maskIPv6('::ffff:198.51.100.9')).toBe('::ffff:198.51.x.x');
    expect(maskIPv6('::1')).toBe('::1');
  });

  it('masks address fields: IPs with ports, and hashes non-IP values', () => {
    expect(maskAddress('198.51.100.9:51234')).toBe('198.51.x.x');
    expect(maskAddress('::ffff:198.51.100.9')).toBe('::ffff:198.51.x.x');
    expect(maskAddress('client.example.net')).toMatch(/^~[0-9a-f]{8}$/);
  });

  it('masks IPs inside free text and leaves other text alone', () => {
    expect(maskIpsInText('connect ECONNREFUSED 198.51.100.9:443')).toBe('connect ECONNREFUSED 198.51.x.x');
    expect(maskIpsInText('from=198.51.100.9,x')).toBe('from=198.51.x.x,x');
    expect(maskIpsInText('peer 2001:db8::7 left')).toBe('peer 2001:db8::x left');
    expect(maskIpsInText('meet.jitsi at 12:30')).toBe('meet.jitsi at 12:30');
  });

  it('candidate lines keep their structure', () => {
    const line = 'candidate:1 1 udp 2122260223 192.168.1.23 54321 typ host';
    expect(maskIpsInText(line)).toBe('candidate:1 1 udp 2122260223 192.168.x.x 54321 typ host');
  });

  it('hashes JID local part and resource, keeps the domain', () => {
    const masked = maskJid('alice@meet.jitsi/phone');
    expect(masked).toMatch(/^~[0-9a-f]{8}@meet\.jitsi\/~[0-9a-f]{8}$/);
    expect(masked).not.toContain('alice');
    expect(masked).not.toContain('phone');
    expect(maskJid('conference.meet.jitsi')).toBe('conference.meet.jitsi');
  });

  it('hashes are stable within the process (logs stay correlatable)', () => {
    expect(shortHash('Alice')).toBe(shortHash('Alice'));
    expect(shortHash('Alice')).not.toBe(shortHash('Bob'));
  });

  it('censor picks the masking by the field name', () => {
    expect(censor('hunter2', ['password'])).toBe('[redacted]');
    expect(censor('203.0.113.77', ['conn', 'remoteAddress'])).toBe('203.0.x.x');
    expect(censor(['203.0.113.77', '198.51.100.1'], ['ip'])).toEqual(['203.0.x.x', '198.51.x.x']);
    expect(censor('Alice', ['nick'])).toMatch(/^~[0-9a-f]{8}$/);
    expect(censor(undefined, ['nick'])).toBeUndefined();
    // Endpoint ids are MUC nicks: hashed like them, so the focus's `nick` and the bridge's `epId` still match.
    expect(censor('annanick', ['epId'])).toBe(censor('annanick', ['nick']));
    expect(censor('annanick', ['dominantSpeaker'])).toMatch(/^~[0-9a-f]{8}$/);
  });

  it('covers four nesting levels for each key', () => {
    const paths = redactPaths();
    expect(paths).toEqual(expect.arrayContaining(['ip', '*.ip', '*.*.ip', '*.*.*.ip', 'nick', '*.nickname', '*.displayName', '*.jid', '*.body', '*.password', '*.token']));
  });
});
