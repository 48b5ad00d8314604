/**
 * Discussion history (after Prosody's history.lib.lua), in memory only and off by default (`muc.historyLength`):
 * the last N groupchat messages with a `<body>` are kept with a `<delay xmlns="urn:xmpp:delay" stamp from=room>`
 * and sent to each joiner after its presences, limited by the client's `<history maxstanzas maxchars seconds
 * since>`. Dropped with the room.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#enter-history (§7.2.14), #enter-managehistory (§7.2.15)
 * - https://xmpp.org/extensions/xep-0203.html (delayed delivery)
 */
import { NS_DELAY, NS_MUC } from '../../stanza/ns.js';
import { child, cloneElement, serialize, xml } from '../../stanza/xml.js';
import type { MucService } from '../index.js';
import { Outgoing } from '../outgoing.js';
import type { HistoryEntry } from '../room.js';

function limit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

/** Keep and replay groupchat history (no-op when `muc.historyLength` is 0). Called once by loadMuc(). */
export function loadHistory(muc: MucService): void {
  const length = muc.server.config.muc.historyLength;
  if (length === 0) return;
  muc.events.on('muc-broadcast-message', ({ room, stanza }) => {
    if (!child(stanza, 'body') || child(stanza, 'subject')) return;
    const now = muc.server.now();
    const copy = cloneElement(stanza);
    copy.cnode(xml('delay', { xmlns: NS_DELAY, stamp: new Date(now).toISOString(), from: room.jid.bare }));
    const out = new Outgoing(copy);
    room.history.push({ out, at: now, chars: serialize(copy).length });
    if (room.history.length > length) room.history.splice(0, room.history.length - length);
  });
  muc.events.on('muc-occupant-session-new', ({ room, occupant, mucX }) => {
    if (room.history.length === 0) return;
    const h = mucX ? child(mucX, 'history', NS_MUC) ?? child(mucX, 'history') : undefined;
    let maxStanzas = limit(h?.attrs.maxstanzas) ?? length;
    const maxChars = limit(h?.attrs.maxchars);
    const seconds = limit(h?.attrs.seconds);
    const sinceMs = h?.attrs.since ? Date.parse(h.attrs.since) : Number.NaN;
    const now = muc.server.now();
    const after = Math.max(seconds !== undefined ? now - seconds * 1000 : -Infinity, Number.isNaN(sinceMs) ? -Infinity : sinceMs);
    const selected: HistoryEntry[] = [];
    let chars = 0;
    for (let i = room.history.length - 1; i >= 0 && maxStanzas > 0; i--) {
      const entry = room.history[i] as HistoryEntry;
      if (entry.at < after) break;
      chars += entry.chars;
      if (maxChars !== undefined && chars > maxChars) break;
      selected.push(entry);
      maxStanzas--;
    }
    for (let i = selected.length - 1; i >= 0; i--) room.send((selected[i] as HistoryEntry).out, occupant);
  }, 50);
}
