/**
 * Headless Chromium for system tests: Debian's `chromium` package driven by playwright-core (Playwright's own browser
 * download cannot work here). Fake camera and microphone, no permission prompts, no network beyond loopback.
 *
 *   const browser = await launchChromium();           // throws a clear error when chromium is not installed
 *   const page = await browser.newPage();
 *
 * `CHROMIUM` overrides the executable path. `.ci/run` installs the package, so in CI browser tests never skip.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** True when the Chromium executable exists. */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export async function launchChromium(opts: { extraArgs?: string[] } = {}): Promise<Browser> {
  if (!chromiumAvailable()) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium package (.ci/run does) or set CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      '--no-sandbox',
      '--disable-dev-shm-usage',
      // Keep WebRTC on loopback: no mDNS obfuscation of host candidates, no other interfaces.
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--force-webrtc-ip-handling-policy=default',
      ...(opts.extraArgs ?? []),
    ],
  });
}
