import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigurationError } from '@sightline/core';

/** The tenant an admin key belongs to: it may act on every tenant. */
export const ALL_TENANTS = '*';

/** A key and the tenant it belongs to (`*` for an admin key). */
export interface KeyGrant {
  key: string;
  tenant: string;
}

/** Keys as options take them: `'wk_abc'`, `'wk_abc=acme'`, or `{ key, tenant }` (tenant default `default`). */
export type KeyInput = string | { key: string; tenant?: string };

/**
 * Parses `K` or `K=tenant` (the CLI and environment form); a key without a tenant belongs to
 * `default`.
 *
 * @example
 * parseKey('wk_live_123=acme'); // { key: 'wk_live_123', tenant: 'acme' }
 */
export function parseKey(input: KeyInput, option: string): KeyGrant {
  let key: unknown;
  let tenant: unknown;
  if (typeof input === 'string') {
    const at = input.lastIndexOf('=');
    if (at > 0) {
      key = input.slice(0, at).trim();
      tenant = input.slice(at + 1).trim();
    } else {
      key = input.trim();
      tenant = 'default';
    }
  } else if (input !== null && typeof input === 'object') {
    key = input.key;
    // `{ key }` without a tenant belongs to `default`, like the string form.
    tenant = input.tenant ?? 'default';
  } else {
    throw new ConfigurationError(option, "pass each key as 'KEY', 'KEY=tenant' or { key, tenant }");
  }
  if (typeof key !== 'string' || key.length < 8 || /\s|:/.test(key)) {
    throw new ConfigurationError(
      option,
      'use keys of at least 8 characters without spaces or colons, optionally as KEY=tenant',
    );
  }
  if (typeof tenant !== 'string' || !/^(\*|[A-Za-z0-9_.-]{1,64})$/.test(tenant)) {
    throw new ConfigurationError(
      option,
      `tenant "${String(tenant)}" must be 1-64 letters, digits, "_", "." or "-" (or "*" for an admin key)`,
    );
  }
  return { key, tenant };
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * A set of keys looked up in constant time: every candidate is compared with every stored key
 * through `timingSafeEqual` on SHA-256 digests (equal length), so response time reveals neither
 * which key matched nor how much of it did.
 *
 * @example
 * const writeKeys = createKeyring([{ key: 'wk_dev_123456', tenant: 'default' }]);
 * writeKeys.tenantOf('wk_dev_123456'); // 'default'
 */
export function createKeyring(grants: readonly KeyGrant[], option = 'keys') {
  const tenants = new Map<string, string>();
  for (const grant of grants) {
    const other = tenants.get(grant.key);
    if (other !== undefined && other !== grant.tenant) {
      throw new ConfigurationError(
        option,
        `one key is given for tenants "${other}" and "${grant.tenant}": give each tenant a key of its own`,
      );
    }
    tenants.set(grant.key, grant.tenant);
  }
  const entries = grants.map((grant) => ({ digest: digest(grant.key), tenant: grant.tenant }));
  return {
    /** The tenant of `candidate`, or undefined when it is no key of this ring. */
    tenantOf(candidate: string): string | undefined {
      const probe = digest(candidate);
      let tenant: string | undefined;
      for (const entry of entries) {
        if (timingSafeEqual(entry.digest, probe) && tenant === undefined) tenant = entry.tenant;
      }
      return tenant;
    },
    get size() {
      return entries.length;
    },
  };
}

export type Keyring = ReturnType<typeof createKeyring>;

/**
 * The write key of an ingest request: HTTP Basic `base64(key + ":")` (Segment's form), or the
 * `writeKey` field of the JSON body (beacons cannot set headers).
 */
export function writeKeyFromHeader(authorization: string | null): string | undefined {
  if (!authorization) return undefined;
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() !== 'basic' || !value) return undefined;
  let decoded: string;
  try {
    decoded = Buffer.from(value, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  const key = colon >= 0 ? decoded.slice(0, colon) : decoded;
  // An empty user name is no key: let the body's `writeKey` answer instead.
  return key === '' ? undefined : key;
}

/** The bearer token of a read request. */
export function bearerToken(authorization: string | null): string | undefined {
  if (!authorization) return undefined;
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  return scheme?.toLowerCase() === 'bearer' && value ? value : undefined;
}
