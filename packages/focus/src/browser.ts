/**
 * The browser entry of @jitsi-one/focus (package.json `exports` condition `browser`): the Jingle model and its XML
 * codec, which are pure (ltx elements via @jitsi-one/xmpp's own browser entry). The web client uses them to read the
 * focus's offers and source updates and to write its session-accept and source-add/-remove, so both ends of the
 * wire share one codec.
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
