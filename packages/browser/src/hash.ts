/**
 * `@sightline/browser/hash`: SHA-256 for the PII filter's `hash` action, kept out of the default
 * entry (about 1 KB minified) because most apps redact or drop instead.
 *
 * @example
 * import { sha256Hex } from '@sightline/browser/hash';
 * createBrowserAnalytics({ writeKey, host, pii: { detectors: { email: 'hash' }, hashSalt: 'app-1', hash: sha256Hex } });
 */
export { sha256Hex } from '@sightline/core';
