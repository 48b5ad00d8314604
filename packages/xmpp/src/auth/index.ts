/** Authentication modes (anonymous, secure domain, JWT): config, password hashes, tokens, the server's policy. */
export * from './config.js';
export { hashPassword, verifyPassword, isPasswordHash, parsePasswordHash, SCRYPT_DEFAULTS, PASSWORD_HASH_RE } from './password.js';
export type { ParsedPasswordHash } from './password.js';
export { verifyToken, signToken, tokenAllowsRoom, tokenFromUrl, TokenError, MAX_TOKEN_LENGTH } from './jwt.js';
export type { TokenErrorCode, TokenVerifierOptions, TokenUser, VerifiedToken } from './jwt.js';
export { AuthService } from './service.js';
export type { SessionAuth, AuthIdentity } from './service.js';
