/**
 * @jitsi-one/focus: the conference focus (Jicofo's job). So far the pure layer: the Jingle model and codec, the
 * offer and source-signalling builders, and the conference source map.
 */
export * from './jingle/types.js';
export * from './jingle/ns.js';
export { JingleParseError } from './jingle/errors.js';
export type { JingleErrorCondition, JingleSpecificCondition } from './jingle/errors.js';
export {
  parseJingle,
  serializeJingle,
  parseJsonMessage,
  serializeJsonSources,
  expandJsonSources,
  emptyDescription,
} from './jingle/xml.js';
export {
  buildOffer,
  buildSourceUpdate,
  sourcesToJingleAdd,
  featuresFromDisco,
  FEATURE_URIS,
  DEFAULT_FEATURES,
  FALLBACK_FEATURES,
  DEFAULT_OFFER_CONFIG,
  JICOFO_OFFER_CONFIG,
  HDREXT_URIS,
  FEEDBACK_OWNER,
} from './jingle/offer.js';
export type {
  ParticipantFeatures,
  OfferConfig,
  VideoCodecConfig,
  BridgeTransport,
  FeedbackSources,
  OfferOptions,
} from './jingle/offer.js';
export {
  ConferenceSourceMap,
  SourceError,
  SourceConflictError,
  stripSimulcast,
  sourceSetFromJingle,
  sourceMapToJingle,
  sourceMapToJsonSources,
  diffSourceMaps,
  MAX_SSRCS_PER_ENDPOINT,
  MAX_SSRC_GROUPS_PER_ENDPOINT,
} from './sources.js';
export type {
  MediaType,
  VideoType,
  SsrcGroupSemantics,
  SourceDesc,
  SsrcGroupDesc,
  EndpointSourceSet,
  SourceMap,
  SourceMapDiff,
  SourceErrorCode,
  ConferenceSourceMapOptions,
} from './sources.js';
export { FocusManager, focusBareJid, FOCUS_RESOURCE } from './focus.js';
export { FocusAuthority, AUTH_SESSION_LIFETIME_MS, MAX_AUTH_SESSIONS } from './authority.js';
export type { ParticipantIdentity, ConferenceAuthResult } from './authority.js';
export type { FocusManagerOptions } from './focus.js';
export { Conference, FOCUS_NICK, JINGLE_ACK_TIMEOUT_MS, toStanzaError } from './conference.js';
export type { ConferenceOptions, FocusLink } from './conference.js';
export { Participant } from './participant.js';
export { JingleSession, randomSid, unknownSession } from './jingle/session.js';
export type { JingleSessionState, QueuedSourceUpdate } from './jingle/session.js';
export { focusConfigSchema, MODERATOR_POLICIES } from './config.js';
export type { FocusConfig, FocusConfigInput, ModeratorPolicy } from './config.js';
export { toMediaSources, mediasFromOffer, feedbackFrom, clientTransport } from './colibri.js';
export type { ColibriApi } from './colibri.js';
