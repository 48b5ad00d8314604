import { describe, expect, it } from 'vitest';
import { buildClientConfig, escapeHtml, isValidHost, renderConfigJs, textToHtml } from '../src/index.js';

describe('web helpers', () => {
  it('textToHtml() escapes operator text and builds paragraphs and lists', () => {
    expect(textToHtml('a <b> & "c"\nline 2\n\n- x\n- <y>')).toBe(
      '<p>a &lt;b&gt; &amp; &quot;c&quot;<br>\nline 2</p>\n<ul>\n<li>x</li>\n<li>&lt;y&gt;</li>\n</ul>',
    );
    expect(escapeHtml("'")).toBe('&#39;');
  });

  it('isValidHost() accepts names, IPv4, bracketed IPv6 with ports, and nothing else', () => {
    for (const h of ['meet.example.org', 'localhost:8443', '127.0.0.1:1', '[::1]:8443', '[2001:db8::1]']) {
      expect(isValidHost(h), h).toBe(true);
    }
    for (const h of ['', 'a b', "x'y", 'x"y', 'x/y', 'x:port', '::1', 'a.example<']) {
      expect(isValidHost(h), h).toBe(false);
    }
  });

  it('renderConfigJs() emits a `var config` assignment that evaluates to the config', () => {
    const cfg = buildClientConfig(
      { domain: 'd', authDomain: 'auth.d', mucDomain: 'conference.d', focusDomain: 'focus.d' },
      { secure: true, host: 'h:1' },
    );
    const js = renderConfigJs(cfg);
    expect(js).toMatch(/^var config = \{/);
    expect(new Function(`${js}; return config;`)()).toEqual(cfg);
    expect(cfg).toMatchObject({ websocket: 'wss://h:1/xmpp-websocket', hosts: { domain: 'd', muc: 'conference.d', focus: 'focus.d' } });
  });

  it('buildClientConfig() carries P2P, STUN, bridge-channel, flags and resume settings, safe by default', () => {
    const domains = { domain: 'd', authDomain: 'auth.d', mucDomain: 'conference.d', focusDomain: 'focus.d' };
    expect(buildClientConfig(domains, { secure: false, host: 'h' })).toMatchObject({
      hosts: { focus: 'focus.d' },
      websocket: 'ws://h/xmpp-websocket',
      bosh: '/http-bind',
      p2p: { enabled: true, stunServers: [] },
      bridgeChannel: { preferSctp: false },
      flags: { ssrcRewritingEnabled: false },
      enableWebsocketResume: false,
      doNotStoreRoom: false,
      // lib-jitsi-meet must not assume AV1 for the bridge connection when the focus offers only VP8.
      videoQuality: { codecPreferenceOrder: ['VP8'], mobileCodecPreferenceOrder: ['VP8'] },
    });
    const cfg = buildClientConfig(
      domains,
      { secure: true, host: 'h' },
      { p2pEnabled: false, stunServers: [{ urls: 'stun:h:3478' }], websocketResume: true, jvbVideoCodecs: ['AV1', 'VP8'] },
    );
    expect(cfg).toMatchObject({
      p2p: { enabled: false, stunServers: [{ urls: 'stun:h:3478' }] },
      enableWebsocketResume: true,
      videoQuality: { codecPreferenceOrder: ['AV1', 'VP8'], mobileCodecPreferenceOrder: ['AV1', 'VP8'] },
    });
    // P2P codecs stay the browser's choice.
    expect((cfg.p2p as Record<string, unknown>).codecPreferenceOrder).toBeUndefined();
    // web.recentRooms: false → Jitsi Meet's doNotStoreRoom.
    expect(buildClientConfig(domains, { secure: true, host: 'h' }, { recentRooms: false }).doNotStoreRoom).toBe(true);
  });
});
