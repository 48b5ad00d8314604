/**
 * The meeting: tile view (a grid that adapts to the number of participants and the window) or stage view (active
 * speaker or screen share large, filmstrip), names on tiles, microphone and camera mute with indicators everyone
 * sees, screen share, raise hand, chat (group and private, unread count), the participant list with moderator
 * actions, device choice, and leave. Each remote tile's size sets the resolution asked from the bridge
 * (ReceiverVideoConstraints, on-stage high and thumbnails low).
 *
 * Keyboard: every control is a labelled button or field in reading order (header, tiles, open panel, toolbar);
 * Escape closes the open panel and returns to its button.
 *
 * The connection (connection.ts): a banner while the connection to the server is lost and being re-established, and
 * a connection indicator (bitrate, packet loss, resolution) on every camera tile.
 */
import type { BridgeMessage } from '../conference/bridge-channel.js';
import type { Conference, Participant } from '../conference/conference.js';
import { LocalMedia } from '../conference/local-media.js';
import type { LocalSettings, ViewMode } from '../storage.js';
import { ChatPanel } from './chat-panel.js';
import { deviceSelectors } from './devices.js';
import { ICONS, h, icon } from './dom.js';
import { ParticipantsPanel } from './participants-panel.js';
import { attachConnectionIndicators, connectionBanner } from './connection.js';
import { Tile } from './tile.js';
import { SCREEN_SUFFIX, TilesView } from './tiles-view.js';

type PanelName = 'chat' | 'participants' | 'settings';

/** How long a notice ("Alice muted your microphone") stays in the header. */
const NOTICE_MS = 10_000;

export interface MeetingView {
  el: HTMLElement;
  /** Tiles by endpoint id (the local tile under `local`; screen shares under `<id>:screen` and `local:screen`). */
  tiles: ReadonlyMap<string, Tile>;
}

export function meetingView(opts: {
  room: string;
  conference: Conference;
  media: LocalMedia;
  displayName: string;
  settings: LocalSettings;
  onLeave: () => void;
}): MeetingView {
  const { conference, media, settings } = opts;
  const status = h('p', { class: 'status', role: 'status' });
  const notice = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  /** Whether stage view was switched on by a screen share (and goes back to tiles when the last share ends). */
  let autoStage = false;
  const view = new TilesView({
    mode: settings.ui.view,
    onLayout: ({ heights, onStage }) => {
      conference.setReceiverConstraints(heights, onStage);
      renderStatus();
    },
    // Pinning a tile switches to stage view too: the view button follows.
    onModeChange: (mode) => renderViewButton(mode),
  });
  const tiles = view.tiles;
  const grid = view.el;

  const local = new Tile({ id: conference.endpointId, local: true });
  local.setName(`${opts.displayName || 'Guest'} (you)`);
  local.el.dataset.local = 'true';
  view.add('local', local);

  const renderLocal = (): void => {
    local.setVideoTrack(media.videoTrack);
    local.setVideoMuted(media.videoMuted);
    local.setAudioMuted(media.audioMuted);
    micButton.setAttribute('aria-pressed', String(media.audioMuted));
    micButton.replaceChildren(icon(media.audioMuted ? ICONS.micOff : ICONS.mic), h('span', null, media.audioMuted ? 'Unmute' : 'Mute'));
    micButton.setAttribute('aria-label', media.audioMuted ? 'Unmute microphone' : 'Mute microphone');
    micButton.disabled = !media.hasMicrophone;
    camButton.setAttribute('aria-pressed', String(media.videoMuted));
    camButton.replaceChildren(icon(media.videoMuted ? ICONS.cameraOff : ICONS.camera), h('span', null, media.videoMuted ? 'Start video' : 'Stop video'));
    camButton.setAttribute('aria-label', media.videoMuted ? 'Turn camera on' : 'Turn camera off');
    local.setHandRaised(conference.handRaised);
    const sharing = media.screenTrack !== null;
    screenButton.setAttribute('aria-pressed', String(sharing));
    screenButton.setAttribute('aria-label', sharing ? 'Stop sharing your screen' : 'Share your screen');
    screenButton.replaceChildren(icon(ICONS.screen), h('span', null, sharing ? 'Stop sharing' : 'Share screen'));
    handButton.setAttribute('aria-pressed', String(conference.handRaised));
    handButton.setAttribute('aria-label', conference.handRaised ? 'Lower your hand' : 'Raise your hand');
    handButton.replaceChildren(icon(ICONS.hand), h('span', null, conference.handRaised ? 'Lower hand' : 'Raise hand'));
    let screenTile = tiles.get(`local${SCREEN_SUFFIX}`);
    if (sharing && screenTile === undefined) {
      screenTile = new Tile({ id: conference.endpointId, local: true, screen: true });
      screenTile.setName('Your screen');
      view.add(`local${SCREEN_SUFFIX}`, screenTile);
    } else if (!sharing && screenTile !== undefined) {
      view.remove(`local${SCREEN_SUFFIX}`);
      screenTile = undefined;
    }
    screenTile?.setVideoTrack(media.screenTrack);
    participantsPanel.render();
  };

  const renderRemote = (p: Participant): void => {
    let tile = tiles.get(p.id);
    if (tile === undefined) {
      tile = new Tile({ id: p.id, local: false });
      view.add(p.id, tile);
    }
    tile.setName(p.displayName);
    tile.setAudioMuted(p.audioMuted);
    tile.setVideoMuted(p.videoMuted);
    tile.setHandRaised(p.raisedHand > 0);
    tile.setVideoTrack(p.tracks.video);
    tile.setAudioTrack(p.tracks.audio);
    // A screen share is its own tile, shown while its track is received; the first one puts stage view on.
    const key = `${p.id}${SCREEN_SUFFIX}`;
    let screen = tiles.get(key);
    if (p.tracks.desktop !== undefined) {
      if (screen === undefined) {
        screen = new Tile({ id: p.id, local: false, screen: true });
        view.add(key, screen);
        if (view.mode === 'tile') {
          autoStage = true;
          setView('stage', false);
        }
      }
      screen.setName(`${p.displayName || 'Guest'} (screen)`);
      screen.setVideoTrack(p.tracks.desktop);
    } else if (screen !== undefined) {
      removeTile(key);
    }
    view.relayout();
    participantsPanel.render();
    chatPanel.renderRecipients();
  };

  const removeTile = (key: string): void => {
    view.remove(key);
    if (autoStage && view.screenCount === 0) {
      autoStage = false;
      setView('tile', false);
    }
  };

  const setView = (mode: ViewMode, remember: boolean): void => {
    if (remember) {
      autoStage = false;
      settings.ui = { view: mode };
    }
    if (mode === 'tile') view.pin(undefined);
    view.setMode(mode);
    renderViewButton(mode);
  };

  const renderViewButton = (mode: ViewMode): void => {
    viewButton.setAttribute('aria-label', mode === 'tile' ? 'Switch to stage view' : 'Switch to tile view');
    viewButton.replaceChildren(icon(mode === 'tile' ? ICONS.stage : ICONS.grid), h('span', null, mode === 'tile' ? 'Stage view' : 'Tile view'));
  };

  const renderStatus = (): void => {
    const n = conference.participants.size + 1;
    const state = conference.mediaState;
    const connected = conference.p2pActive ? 'Connected directly (peer to peer).' : '';
    const media = n === 1 ? 'Waiting for others to join.' : state === 'connected' ? connected : state === 'failed' ? 'Media connection failed.' : 'Connecting media…';
    status.textContent = `${n} ${n === 1 ? 'participant' : 'participants'}. ${media}`.trim();
  };

  /** A short announcement in the header (also read by screen readers); it clears itself after a while. */
  let noticeTimer: number | undefined;
  const showNotice = (text: string): void => {
    notice.textContent = text;
    window.clearTimeout(noticeTimer);
    noticeTimer = window.setTimeout(() => {
      if (notice.textContent === text) notice.textContent = '';
    }, NOTICE_MS);
  };

  const micButton = h('button', { type: 'button', class: 'control', onclick: () => {
    conference.setAudioMuted(!media.audioMuted);
    renderLocal();
  } });
  const camButton = h('button', { type: 'button', class: 'control', onclick: async () => {
    camButton.disabled = true;
    try {
      await conference.setVideoMuted(!media.videoMuted);
    } catch (err) {
      console.error('camera toggle failed', err);
    }
    camButton.disabled = false;
    renderLocal();
  } });
  const screenButton = h('button', { type: 'button', id: 'screen-toggle', class: 'control', hidden: !LocalMedia.canShareScreen, onclick: async () => {
    screenButton.disabled = true;
    try {
      if (media.screenTrack !== null) await conference.stopScreenShare();
      else await conference.startScreenShare();
    } catch (err) {
      // Declining the browser's picker is not an error worth more than a notice.
      showNotice(err instanceof DOMException && err.name === 'NotAllowedError' ? 'Screen sharing was cancelled.' : `Could not share the screen: ${err instanceof Error ? err.message : String(err)}`);
    }
    screenButton.disabled = false;
    renderLocal();
  } });
  const handButton = h('button', { type: 'button', id: 'hand-toggle', class: 'control', onclick: () => {
    conference.setRaisedHand(!conference.handRaised);
    renderLocal();
  } });
  const viewButton = h('button', { type: 'button', id: 'view-toggle', class: 'control', onclick: () => setView(view.mode === 'tile' ? 'stage' : 'tile', true) });
  const leaveButton = h('button', { type: 'button', class: 'control danger', 'aria-label': 'Leave meeting', onclick: () => opts.onLeave() }, icon(ICONS.leave), h('span', null, 'Leave'));

  // Panels: one open at a time, beside the tiles (over them on a narrow screen); Escape closes it.
  let openPanel: PanelName | undefined;
  const chatBadge = h('span', { class: 'badge-count', hidden: true, 'aria-hidden': 'true' });
  const chatButton = h('button', { type: 'button', id: 'chat-toggle', class: 'control', 'aria-controls': 'chat-panel', 'aria-expanded': 'false', 'aria-label': 'Open chat', onclick: () => togglePanel('chat') }, icon(ICONS.chat), h('span', null, 'Chat'), chatBadge);
  const participantsButton = h('button', { type: 'button', id: 'participants-toggle', class: 'control', 'aria-controls': 'participants-panel', 'aria-expanded': 'false', 'aria-label': 'Open participants', onclick: () => togglePanel('participants') }, icon(ICONS.people), h('span', null, 'People'));
  const settingsButton = h('button', { type: 'button', id: 'settings-toggle', class: 'control', 'aria-controls': 'settings-panel', 'aria-expanded': 'false', 'aria-label': 'Open device settings', onclick: () => togglePanel('settings') }, icon(ICONS.settings), h('span', null, 'Devices'));
  const chatPanel = new ChatPanel({
    conference,
    onClose: () => togglePanel(undefined),
    onUnread: (n) => {
      chatBadge.hidden = n === 0;
      chatBadge.textContent = String(n);
      chatButton.setAttribute('aria-label', n === 0 ? 'Open chat' : `Open chat, ${n} unread ${n === 1 ? 'message' : 'messages'}`);
      chatButton.dataset.unread = String(n);
    },
  });
  const participantsPanel = new ParticipantsPanel({ conference, localName: () => conference.displayName, onClose: () => togglePanel(undefined) });
  const devices = deviceSelectors({ idPrefix: 'meeting', media, settings, onSwitch: (kind, deviceId) => conference.switchDevice(kind, deviceId) });
  const settingsPanel = h(
    'aside',
    { id: 'settings-panel', class: 'panel', 'aria-labelledby': 'settings-heading', hidden: true },
    h('div', { class: 'panel-header' }, h('h2', { id: 'settings-heading', tabindex: -1 }, 'Devices'), h('button', { type: 'button', class: 'link', 'aria-label': 'Close device settings', onclick: () => togglePanel(undefined) }, 'Close')),
    devices.el,
  );
  const panelButtons: Record<PanelName, HTMLButtonElement> = { chat: chatButton, participants: participantsButton, settings: settingsButton };
  const panelNames: Record<PanelName, string> = { chat: 'chat', participants: 'participants', settings: 'device settings' };
  const togglePanel = (name: PanelName | undefined): void => {
    const previous = openPanel;
    openPanel = name === openPanel ? undefined : name;
    for (const [n, button] of Object.entries(panelButtons) as Array<[PanelName, HTMLButtonElement]>) {
      const open = n === openPanel;
      button.setAttribute('aria-expanded', String(open));
      if (n !== 'chat') button.setAttribute('aria-label', `${open ? 'Close' : 'Open'} ${panelNames[n]}`);
    }
    chatPanel.setOpen(openPanel === 'chat');
    participantsPanel.setOpen(openPanel === 'participants');
    settingsPanel.hidden = openPanel !== 'settings';
    if (openPanel === 'settings') {
      void devices.refresh();
      settingsPanel.querySelector<HTMLElement>('h2')?.focus();
    }
    el.classList.toggle('panel-open', openPanel !== undefined);
    if (openPanel === undefined && previous !== undefined) panelButtons[previous].focus();
    view.relayout();
  };

  for (const p of conference.participants.values()) renderRemote(p);
  conference.on('participantJoined', (p) => {
    renderRemote(p);
  });
  conference.on('participantUpdated', (p) => {
    const before = view.tiles.get(p.id)?.el.dataset.handRaised === 'true';
    renderRemote(p);
    if (!before && p.raisedHand > 0) showNotice(`${p.displayName || 'Guest'} raised their hand.`);
  });
  conference.on('tracksChanged', renderRemote);
  conference.on('participantLeft', ({ id }) => {
    removeTile(id);
    if (tiles.has(`${id}${SCREEN_SUFFIX}`)) removeTile(`${id}${SCREEN_SUFFIX}`);
    participantsPanel.render();
    chatPanel.renderRecipients();
  });
  conference.on('mediaState', renderStatus);
  conference.on('p2p', renderStatus);
  conference.on('localChanged', renderLocal);
  conference.on('roleChanged', ({ role }) => {
    showNotice(role === 'moderator' ? 'You are now a moderator.' : 'You are no longer a moderator.');
    participantsPanel.render();
  });
  conference.on('mutedByModerator', ({ media: what, actor }) => {
    const who = actor === undefined ? 'A moderator' : (conference.participants.get(actor)?.displayName || 'A moderator');
    showNotice(`${who} ${what === 'audio' ? 'muted your microphone' : what === 'video' ? 'turned off your camera' : 'stopped your screen share'}.`);
    renderLocal();
  });
  conference.on('bridgeMessage', (m: BridgeMessage) => {
    if (m.colibriClass !== 'DominantSpeakerEndpointChangeEvent') return;
    const id = typeof m.dominantSpeakerEndpoint === 'string' ? m.dominantSpeakerEndpoint : undefined;
    view.setDominantSpeaker(m.silence === true ? undefined : id, conference.endpointId);
  });
  media.on('changed', renderLocal);
  media.on('screenShareEnded', () => void conference.stopScreenShare().catch(() => undefined));

  const el = h(
    'div',
    { class: 'page meeting' },
    h('header', { class: 'meeting-header' }, h('h1', null, opts.room), status, notice),
    connectionBanner(conference),
    h('div', { class: 'meeting-body' }, grid, chatPanel.el, participantsPanel.el, settingsPanel),
    h(
      'nav',
      { class: 'toolbar', 'aria-label': 'Meeting controls' },
      micButton,
      camButton,
      screenButton,
      handButton,
      chatButton,
      participantsButton,
      viewButton,
      settingsButton,
      leaveButton,
    ),
  );
  el.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && openPanel !== undefined) {
      ev.preventDefault();
      togglePanel(undefined);
    }
  });
  attachConnectionIndicators(conference, tiles, el);
  setView(view.mode, false);
  renderLocal();
  return { el, tiles };
}

/** After leaving or losing the meeting. */
export function endedView(room: string, message: string): HTMLElement {
  return h(
    'div',
    { class: 'page ended' },
    h('h1', null, message),
    h('p', null, h('a', { class: 'button primary', href: `/${encodeURIComponent(room)}` }, 'Rejoin'), ' ', h('a', { class: 'button', href: '/' }, 'Home')),
  );
}
