/**
 * The built-in HTML pages: the client page (the shell the web client renders into, for `/` and `/<room>`), the
 * privacy notice and the imprint. Pages load only files from this server (CSP `default-src 'self'`), and have no
 * inline styles or scripts.
 */

/** Shown at `/privacy` unless `web.privacyNotice` is set. Keep it true: it is a promise to users. */
export const DEFAULT_PRIVACY_NOTICE = `This server is built to keep as little as possible about you.

- No access logs: requests to this site are not recorded.
- Everything is encrypted in transit: the page and the signalling over TLS, audio and video with DTLS-SRTP.
- No IP addresses are stored. Your address is held in memory only while you are connected (to limit the number of connections per address), and is masked in diagnostic logs.
- Room names, display names, chat messages and all other conference data are kept in memory only, never written to disk, and are gone when the conference ends.
- In a call with only two participants, audio and video flow directly between the two browsers (peer to peer), encrypted end to end; the two browsers then learn each other's network address.
- From three participants on, audio and video go through this server's media bridge, which decrypts them in memory only to forward them to the others and never records or stores them.
- This site sets no cookies and loads nothing from third parties: no analytics, no external fonts or scripts.
- Your browser keeps, in its local storage on your device only: a random id, your display name, whether to join with microphone or camera off, and the names of the meetings you joined (you can forget them on the start page).`;

/** Shown at `/imprint` unless `web.imprint` is set. */
export const DEFAULT_IMPRINT = `The operator of this server has not provided an imprint.

Operators: set the text with the web.imprint configuration key.`;

export const STYLE_CSS = `body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1d1d1f;background:#fff}
a{color:#0b57d0}
footer{margin-top:3rem;font-size:.9rem;color:#555}
@media (prefers-color-scheme:dark){body{color:#e8e8ea;background:#161618}a{color:#8ab4f8}footer{color:#aaa}}
`;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * Plain text → HTML: blank lines separate blocks; a block whose lines all start with `- ` is a list.
 * Operator text is never interpreted as HTML.
 */
export function textToHtml(text: string): string {
  const blocks = text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  return blocks
    .map((block) => {
      const lines = block.split('\n').map((l) => l.trim());
      if (lines.every((l) => l.startsWith('- '))) {
        return `<ul>\n${lines.map((l) => `<li>${escapeHtml(l.slice(2))}</li>`).join('\n')}\n</ul>`;
      }
      return `<p>${lines.map(escapeHtml).join('<br>\n')}</p>`;
    })
    .join('\n');
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
${body}
<footer><a href="/">Home</a> · <a href="/privacy">Privacy notice</a> · <a href="/imprint">Imprint</a></footer>
</body>
</html>
`;
}

/** What the client page tells the client (as `<meta name="jitsi-one:…">`; read by client/src/config.ts). */
export interface ClientPageOptions {
  /** The MUC's `maxRoomNameLength`, so the client refuses the names the server would. */
  maxRoomNameLength: number;
}

/**
 * The page for `/` and `/<room>`: `/config.js` and the client bundle (`/static/app.js`, deferred, in this order)
 * render into `<main id="app">`. Without JavaScript the page says so; the footer links are always there.
 */
export function renderClientPage(opts: ClientPageOptions): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="jitsi-one:max-room-name-length" content="${Math.floor(opts.maxRoomNameLength)}">
<title>Video meetings</title>
<link rel="stylesheet" href="/static/app.css">
<script src="/config.js" defer></script>
<script src="/static/app.js" defer></script>
</head>
<body>
<main id="app"><noscript><p>Meetings run in your browser and need JavaScript.</p></noscript></main>
<footer class="site"><a href="/">Home</a> · <a href="/privacy">Privacy notice</a> · <a href="/imprint">Imprint</a></footer>
</body>
</html>
`;
}

export function renderTextPage(title: string, text: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n${textToHtml(text)}`);
}
