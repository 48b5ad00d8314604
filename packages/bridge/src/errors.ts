/**
 * Errors with Colibri2 semantics. Thrown by validation in colibri/handler.ts (before anything is changed) and by
 * the domain objects; turned into an IQ error exactly once, at the XMPP boundary, with {@link ColibriError.condition}
 * (the stanza condition) and {@link ColibriError.reason} (the `<error xmlns="jitsi:colibri2" reason>` value).
 *
 * References: PROTOCOL.md §5.2 "Errors" (reasons are lower-case with underscores, XE `Colibri2Error.java`);
 * JVB `Colibri2Util.kt`, `IqProcessingException`; STYLE.md §3.7.
 */

/** Machine-readable codes. The names are the Colibri2 reasons where one exists. */
export type ColibriErrorCode =
  | 'conference_not_found'
  | 'conference_already_exists'
  | 'unknown_endpoint'
  | 'conflict'
  | 'bad_request'
  | 'feature_not_implemented'
  | 'graceful_shutdown';

/** XMPP stanza conditions the codes map to. */
export type ColibriStanzaCondition =
  | 'item-not-found'
  | 'conflict'
  | 'bad-request'
  | 'feature-not-implemented'
  | 'service-unavailable';

const CONDITIONS: Record<ColibriErrorCode, ColibriStanzaCondition> = {
  conference_not_found: 'item-not-found',
  conference_already_exists: 'conflict',
  unknown_endpoint: 'item-not-found',
  conflict: 'conflict',
  bad_request: 'bad-request',
  feature_not_implemented: 'feature-not-implemented',
  graceful_shutdown: 'service-unavailable',
};

/** Codes that travel as a colibri2 `reason` (the others are a bare stanza condition, as in JVB). */
const REASONS: ReadonlySet<ColibriErrorCode> = new Set([
  'conference_not_found',
  'conference_already_exists',
  'unknown_endpoint',
  'feature_not_implemented',
  'graceful_shutdown',
]);

/** A Colibri2 request failed; nothing was changed. */
export class ColibriError extends Error {
  override readonly name: string = 'ColibriError';
  readonly code: ColibriErrorCode;
  /** Endpoint the error is about (`<endpoint xmlns="jitsi:colibri2" id>` for `unknown_endpoint`). */
  readonly endpointId: string | undefined;

  constructor(code: ColibriErrorCode, message: string, options: { endpointId?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.endpointId = options.endpointId;
  }

  /** The stanza error condition. */
  get condition(): ColibriStanzaCondition {
    return CONDITIONS[this.code];
  }

  /** The colibri2 `reason` attribute, or undefined when JVB sends only the condition (conflict, bad-request). */
  get reason(): ColibriErrorCode | undefined {
    return REASONS.has(this.code) ? this.code : undefined;
  }
}

/** `conference_not_found` (item-not-found). */
export class ConferenceNotFoundError extends ColibriError {
  override readonly name = 'ConferenceNotFoundError';
  constructor(meetingId: string) {
    super('conference_not_found', `no conference with meeting id ${meetingId}`);
  }
}

/** `conference_already_exists` (conflict). */
export class ConferenceAlreadyExistsError extends ColibriError {
  override readonly name = 'ConferenceAlreadyExistsError';
  constructor(meetingId: string) {
    super('conference_already_exists', `conference with meeting id ${meetingId} already exists`);
  }
}

/** `unknown_endpoint` (item-not-found), logged at warn by the boundary. */
export class UnknownEndpointError extends ColibriError {
  override readonly name = 'UnknownEndpointError';
  constructor(endpointId: string) {
    super('unknown_endpoint', `unknown endpoint ${endpointId}`, { endpointId });
  }
}

/** `conflict`: an endpoint that already exists, or SSRCs/source names owned by another endpoint. */
export class ConflictError extends ColibriError {
  override readonly name = 'ConflictError';
  constructor(message: string, endpointId?: string) {
    super('conflict', message, endpointId === undefined ? {} : { endpointId });
  }
}

/** `bad-request`: malformed or inconsistent input. */
export class BadRequestError extends ColibriError {
  override readonly name = 'BadRequestError';
  constructor(message: string, endpointId?: string) {
    super('bad_request', message, endpointId === undefined ? {} : { endpointId });
  }
}

/** `feature_not_implemented` (e.g. relays). */
export class FeatureNotImplementedError extends ColibriError {
  override readonly name = 'FeatureNotImplementedError';
  constructor(message: string) {
    super('feature_not_implemented', message);
  }
}

/** `graceful_shutdown` (service-unavailable): the bridge is closed or closing. */
export class GracefulShutdownError extends ColibriError {
  override readonly name = 'GracefulShutdownError';
  constructor() {
    super('graceful_shutdown', 'the bridge is shutting down');
  }
}

/** A method was called on an expired/closed object (mediasoup `InvalidStateError`). */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
  readonly code = 'invalid_state';
}
