import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  ColibriError,
  ConferenceAlreadyExistsError,
  ConferenceNotFoundError,
  ConflictError,
  FeatureNotImplementedError,
  GracefulShutdownError,
  InvalidStateError,
  UnknownEndpointError,
} from './errors.js';

describe('Colibri errors', () => {
  it('map to stanza conditions and colibri2 reasons (PROTOCOL.md §5.2)', () => {
    const table: Array<[ColibriError, string, string, string | undefined]> = [
      [new ConferenceNotFoundError('m'), 'ConferenceNotFoundError', 'item-not-found', 'conference_not_found'],
      [new ConferenceAlreadyExistsError('m'), 'ConferenceAlreadyExistsError', 'conflict', 'conference_already_exists'],
      [new UnknownEndpointError('e'), 'UnknownEndpointError', 'item-not-found', 'unknown_endpoint'],
      [new ConflictError('x'), 'ConflictError', 'conflict', undefined],
      [new BadRequestError('x'), 'BadRequestError', 'bad-request', undefined],
      [new FeatureNotImplementedError('x'), 'FeatureNotImplementedError', 'feature-not-implemented', 'feature_not_implemented'],
      [new GracefulShutdownError(), 'GracefulShutdownError', 'service-unavailable', 'graceful_shutdown'],
    ];
    for (const [err, name, condition, reason] of table) {
      expect(err).toBeInstanceOf(ColibriError);
      expect(err.name).toBe(name);
      expect(err.condition).toBe(condition);
      expect(err.reason).toBe(reason);
    }
    expect(new UnknownEndpointError('e1').endpointId).toBe('e1');
    expect(new InvalidStateError('closed').code).toBe('invalid_state');
  });
});
