/**
 * The web client's entry point (bundled by the server with esbuild, loaded by every client page after
 * `/config.js`). Routes by path: `/` is the home page, `/<room>` the pre-join screen and then the meeting.
 */
import './app.css';
import { loginFailureText, takeJwt } from './auth.js';
import { Conference } from './conference/conference.js';
import { metaNumber, channelLastN, p2pOptions, readConfig, websocketUrl } from './config.js';
import { installDebugHook, setDebugMeeting, setDebugView } from './debug.js';
import { DEFAULT_MAX_ROOM_NAME_LENGTH, normalizeRoomName, roomNameProblem, suggestRoomName } from './room-name.js';
import { LocalSettings } from './storage.js';
import { h, show } from './ui/dom.js';
import { homeView } from './ui/home.js';
import { endedView, meetingView } from './ui/meeting.js';
import { waitingForHostView } from './ui/login.js';
import { type JoinRequest, prejoinView } from './ui/prejoin.js';
import { IqError, LoginError } from './xmpp/connection.js';

/**
 * `?jwt=` of the meeting URL (Jitsi Meet's convention), taken out of the address bar at once so it stays in no
 * history entry; kept in memory only (never in storage) and sent as `?token=` on the XMPP service URL.
 */
let jwt: string | undefined;

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

function errorView(title: string, message: string, suggestion?: string): HTMLElement {
  setDebugView('error');
  return h(
    'div',
    { class: 'page error-page' },
    h('h1', null, title),
    h('p', null, message),
    h(
      'p',
      { class: 'row' },
      suggestion !== undefined ? h('a', { class: 'button primary', href: `/${encodeURIComponent(suggestion)}` }, `Go to “${suggestion}”`) : undefined,
      h('a', { class: 'button', href: '/' }, 'Home'),
    ),
  );
}

async function main(): Promise<void> {
  installDebugHook();
  const taken = takeJwt(location.href);
  if (taken.cleanUrl !== undefined) history.replaceState(null, '', taken.cleanUrl);
  jwt = taken.token;
  // The server may switch recent rooms off (`doNotStoreRoom`, as in Jitsi Meet's config.js).
  const settings = new LocalSettings(storage(), { recentRooms: window.config?.doNotStoreRoom !== true });
  const maxLength = metaNumber('max-room-name-length', DEFAULT_MAX_ROOM_NAME_LENGTH);
  const path = location.pathname;
  if (path === '/' || path === '') {
    setDebugView('home');
    show(homeView(settings, maxLength));
    return;
  }
  let raw: string;
  try {
    raw = decodeURIComponent(path.slice(1));
  } catch {
    raw = path.slice(1);
  }
  const room = normalizeRoomName(raw);
  const problem = raw.includes('/') ? 'Meeting names cannot contain “/”.' : roomNameProblem(room, maxLength);
  if (problem !== undefined) {
    show(errorView('This is not a valid meeting name', `“${raw}”: ${problem}`, suggestRoomName(raw, maxLength)));
    return;
  }
  if (room !== raw) history.replaceState(null, '', `/${encodeURIComponent(room)}`);
  document.title = `${room} · Video meeting`;
  setDebugView('prejoin');
  show(h('div', { class: 'page' }, h('h1', null, 'Starting camera and microphone…')));
  show(await prejoinView(room, settings, (req) => void join(room, settings, req)));
}

async function join(room: string, settings: LocalSettings, req: JoinRequest): Promise<void> {
  const config = readConfig();
  let conference: Conference;
  try {
    conference = await Conference.join({
      websocketUrl: websocketUrl(config),
      hosts: config.hosts,
      room,
      displayName: req.displayName,
      machineUid: settings.userId,
      media: req.media,
      boshUrl: config.bosh,
      p2p: p2pOptions(config),
      lastN: channelLastN(config),
      token: jwt,
      // Secure domain, the meeting not started yet: wait for the host, or let the host log in.
      onAuthRequired: (prompt) => {
        setDebugView('auth-required');
        show(waitingForHostView(room, (username, password) => prompt.login(username, password)));
      },
    });
  } catch (err) {
    req.media.close();
    if (err instanceof LoginError) {
      const kind = jwt !== undefined ? 'token' : 'anonymous';
      show(errorView(jwt !== undefined ? 'Your meeting link is not valid' : 'Could not join the meeting', loginFailureText(err.condition, err.text, kind)));
    } else if (err instanceof IqError && err.condition === 'not-allowed' && jwt !== undefined) {
      show(errorView('Your meeting link is not valid', 'Its access token does not allow this meeting.'));
    } else if (err instanceof IqError && err.condition === 'not-authorized') {
      show(errorView('Could not join the meeting', 'This meeting has not started, and only its host may start it.'));
    } else {
      show(errorView('Could not join the meeting', err instanceof Error ? err.message : String(err)));
    }
    return;
  }
  settings.rememberRoom(room);
  const finish = (message: string): void => {
    setDebugMeeting(undefined, new Map());
    req.media.close();
    setDebugView('ended');
    show(endedView(room, message));
  };
  const view = meetingView({
    room,
    conference,
    media: req.media,
    displayName: req.displayName,
    settings,
    onLeave: () => {
      void conference.leave().finally(() => finish('You left the meeting.'));
    },
  });
  conference.on('ended', ({ reason }) => finish(reason));
  window.addEventListener('pagehide', () => void conference.leave());
  setDebugMeeting(conference, view.tiles, req.media);
  setDebugView('meeting');
  show(view.el);
}

main().catch((err: unknown) => {
  console.error(err);
  show(errorView('Something went wrong', err instanceof Error ? err.message : String(err)));
});
