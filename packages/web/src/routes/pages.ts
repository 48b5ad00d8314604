/**
 * The built-in HTML pages: a placeholder start page, the privacy notice and the imprint.
 * Pages load nothing but `/style.css` from this server (CSP `default-src 'self'`, no inline styles or scripts).
 */

/** Shown at `/privacy` unless `web.privacyNotice` is set. Keep it true: it is a promise to users. */
export const DEFAULT_PRIVACY_NOTICE = `This server is built to keep as little as possible about you.

- No access logs: requests to this site are not recorded.
- No IP addresses are stored. Your address is held in memory only while you are connected (to limit the number of connections per address), and is masked in diagnostic logs.
- Room names, display names, chat messages and all other conference data are kept in memory only, never written to disk, and are gone when the conference ends.
- Audio and video are forwarded to the other participants and are not recorded.
- In a call with only two participants, audio and video may flow directly between the two browsers, which then learn each other's network address.
- This site sets no cookies and loads nothing from third parties: no analytics, no external fonts or scripts.`;

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

export function renderHomePage(domain: string): string {
  return layout(
    'jitsi-one',
    `<h1>jitsi-one is running</h1>
<p>This is a Jitsi-compatible conferencing server for <code>${escapeHtml(domain)}</code>.</p>
<p>The web client is not installed yet. Jitsi clients can connect using <a href="/config.js">/config.js</a>.</p>`,
  );
}

export function renderTextPage(title: string, text: string): string {
  return layout(title, `<h1>${escapeHtml(title)}</h1>\n${textToHtml(text)}`);
}
