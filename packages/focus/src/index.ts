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
