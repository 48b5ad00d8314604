import { describe, expect, it } from 'vitest';
import { buildClientConfig, DEFAULT_PRIVACY_NOTICE, escapeHtml, isValidHost, renderConfigJs, textToHtml } from '../src/index.js';

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
      channelLastN: -1,
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
    // web.channelLastN → Jitsi Meet's channelLastN (the client's ReceiverVideoConstraints.lastN).
    expect(buildClientConfig(domains, { secure: true, host: 'h' }, { channelLastN: 4 }).channelLastN).toBe(4);
  });
});

describe('the default privacy notice', () => {
  // Each promise the server keeps by default (README "Privacy") must be stated in the notice people read.
  const promises: Array<[string, RegExp]> = [
    ['no access logs', /No access logs/],
    ['no IP addresses stored', /No IP addresses are stored/],
    ['TLS in transit', /\bTLS\b/],
    ['DTLS-SRTP for media', /DTLS-SRTP/],
    ['P2P end to end for two', /two participants[^.]*directly[^.]*end to end/],
    ['the bridge from three, decrypting in memory only', /three participants[^.]*bridge[^.]*decrypts them in memory/],
    ['nothing stored, gone at conference end', /never written to disk, and are gone when the conference ends/],
    ['no cookies, no third parties', /no cookies and loads nothing from third parties/],
    ['what the browser keeps', /local storage on your device only/],
  ];
  it.each(promises)('states: %s', (_name, re) => {
    expect(DEFAULT_PRIVACY_NOTICE).toMatch(re);
  });
});
