import { ConfigurationError } from './errors';
import type { AnalyticsEvent, Properties } from './event';
import { measureText, PII_DETECTORS, type PiiDetector, type PiiDetectorName } from './piiDetectors';
import type { PipelineStep } from './pipeline';
import { sha256Hex } from './sha256';

/** What happens to a field a rule matches. */
export type PiiAction = 'redact' | 'hash' | 'drop';

/**
 * Keys treated as personal data wherever they appear (compared case- and separator-insensitively,
 * so `firstName`, `first_name` and `First-Name` all match). The seeds' `enable_pii_tracking=false`
 * list, extended with the usual secrets and identifiers.
 *
 * @example
 * createAnalytics({ writeKey, host, pii: { keys: [...DEFAULT_PII_KEYS, 'employee_number'] } });
 */
export const DEFAULT_PII_KEYS: readonly string[] =
  /* @__PURE__ */
  // One string, split: an array literal would cost the bundle three bytes a key.
  (
    'email e_mail email_address name full_name first_name last_name surname phone ' +
    'phone_number mobile telephone password passwd pwd ssn social_security_number ' +
    'address street_address street ip ip_address credit_card card_number cc_number ' +
    'cvv cvc dob date_of_birth birth_date birthday passport passport_number ' +
    'national_id tax_id iban secret api_key access_token refresh_token id_token ' +
    'authorization'
  ).split(' ');

/**
 * Options of the PII filter. It is on by default; pass `pii: false` to `createAnalytics` to turn
 * it off (the seeds' `enable_pii_tracking=true`).
 */
export interface PiiFilterOptions {
  /** Keys to treat as PII. Default {@link DEFAULT_PII_KEYS}; spread it to extend. */
  keys?: readonly string[];
  /** What to do with a denylisted key's value. Default `redact`. */
  keyAction?: PiiAction;
  /** Action per value detector, or `off`. Default `redact` for every detector. */
  detectors?: Partial<Record<PiiDetectorName, PiiAction | 'off'>>;
  /** Fields kept as they are: a key (`plan_name`) or a dotted path (`properties.name`). */
  allow?: readonly string[];
  /** Salt prepended before hashing; required when any action is `hash`. */
  hashSalt?: string;
  /**
   * The hash of the `hash` action, over `hashSalt + value`. Default SHA-256 (`sha256Hex`) in
   * `createAnalytics` and `createPiiFilter`; the browser SDK leaves it out of its default bundle,
   * so pass `sha256Hex` from `@sightline/browser/hash` there.
   */
  hash?: (text: string) => string;
}

/**
 * The token that replaces a redacted key's value (detected substrings become `[redacted:<detector>]`).
 *
 * @example
 * event.properties.email === REDACTED;
 */
export const REDACTED = '[redacted]';

/** Returned by the walkers to mean "remove this field". */
const REMOVE = Symbol('remove');
type Filtered<T> = T | typeof REMOVE;

/** The path under which `context.campaign` is scanned with value detectors only. */
const CAMPAIGN_PATH = 'context.campaign';

/**
 * `context` keys left out of the general scan: no personal data, and value detectors misread
 * them (versions in user agents). `campaign` has its own scan (value detectors only).
 */
const CONTEXT_SKIP = new Set(
  /* @__PURE__ */ 'campaign library userAgent userAgentData screen locale timezone sessionId consent clickIds os app'.split(
    ' ',
  ),
);

/** The event fields scanned as property bags. */
const SECTIONS = ['properties', 'traits', 'context'] as const;

const MAX_DEPTH = 32;
const MIN_PII_LENGTH = 6;

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Creates the PII filter step: key denylist plus value detectors (email, phone, payment cards
 * passing Luhn, IPv4/IPv6, US SSN) over properties, traits, `context` and URL query strings.
 * Never mutates the caller's objects: changed branches are copied.
 *
 * @example
 * const pii = createPiiFilter({ allow: ['properties.name'], detectors: { email: 'hash' }, hashSalt: 'app-1' });
 */
export function createPiiFilter(options: PiiFilterOptions = {}): PipelineStep {
  return createPiiStep(options, sha256Hex);
}

/**
 * {@link createPiiFilter} with the hash function of the `hash` action left to `options.hash`, or
 * to `defaultHash`: platforms whose bundles leave SHA-256 out (the browser) pass none.
 *
 * @example
 * const pii = createPiiStep({ detectors: { email: 'hash' }, hashSalt: 'app-1', hash: sha256Hex });
 */
export function createPiiStep(
  options: PiiFilterOptions = {},
  defaultHash?: (text: string) => string,
): PipelineStep {
  const keyAction = options.keyAction ?? 'redact';
  const denyKeys = new Set((options.keys ?? DEFAULT_PII_KEYS).map(normalizeKey));
  const allowKeys = new Set<string>();
  const allowPaths = new Set<string>();
  for (const entry of options.allow ?? []) {
    if (entry.includes('.')) allowPaths.add(entry);
    else allowKeys.add(normalizeKey(entry));
  }
  const detectors: Array<PiiDetector & { action: PiiAction }> = [];
  for (const detector of PII_DETECTORS) {
    const action = options.detectors?.[detector.name] ?? 'redact';
    if (action !== 'off') detectors.push({ ...detector, action });
  }
  const hashes = keyAction === 'hash' || detectors.some((detector) => detector.action === 'hash');
  if (hashes && !options.hashSalt) {
    throw new ConfigurationError(
      'pii.hashSalt',
      'the `hash` action needs a secret salt so hashes cannot be reversed by guessing; set pii.hashSalt to a random string kept out of source control',
    );
  }
  const digest = options.hash ?? defaultHash;
  if (hashes && !digest) {
    throw new ConfigurationError(
      'pii.hash',
      'the `hash` action needs a hash function: pass `hash: sha256Hex`, imported from `@sightline/browser/hash` (browser) or `@sightline/core`',
    );
  }
  const salt = options.hashSalt ?? '';
  const hash = (value: string) => digest!(salt + value);

  const normalized = new Map<string, string>();
  function keyOf(key: string): string {
    let value = normalized.get(key);
    if (value === undefined) {
      if (normalized.size > 4096) normalized.clear();
      value = normalizeKey(key);
      normalized.set(key, value);
    }
    return value;
  }

  function applyKeyAction(value: unknown): Filtered<string> {
    if (keyAction === 'drop') return REMOVE;
    if (keyAction === 'hash') {
      return hash(typeof value === 'string' ? value : JSON.stringify(value));
    }
    return REDACTED;
  }

  function scanText(text: string): Filtered<string> {
    if (text.length < MIN_PII_LENGTH) return text;
    // Measured once, on the text as given: a hash put in by one detector does not wake up
    // another whose pre-check the text failed.
    const shape = measureText(text);
    // Every detector needs an "@", two colons or at least four digits: most values have none.
    if (shape.digits < 4 && !shape.at && shape.colons < 2) return text;
    let result = text;
    for (const detector of detectors) {
      if (!detector.applies(shape)) continue;
      let dropped = false;
      result = result.replace(detector.pattern, (candidate) => {
        if (detector.verify && !detector.verify(candidate)) return candidate;
        dropped = detector.action === 'drop';
        return detector.action === 'hash' ? hash(candidate) : `[redacted:${detector.name}]`;
      });
      if (dropped) return REMOVE;
    }
    return result;
  }

  /** A query string or fragment of `key=value` pairs: keys by the key rules, values by the detectors. */
  function scanQuery(query: string): string {
    let changed = false;
    const kept: string[] = [];
    for (const pair of query.split('&')) {
      const equals = pair.indexOf('=');
      if (equals >= 0) {
        const rawKey = pair.slice(0, equals);
        const key = keyOf(safeDecode(rawKey));
        const value = safeDecode(pair.slice(equals + 1).replace(/\+/g, ' '));
        const next = allowKeys.has(key)
          ? value
          : denyKeys.has(key)
            ? applyKeyAction(value)
            : scanText(value);
        if (next !== value) {
          changed = true;
          if (next !== REMOVE) kept.push(`${rawKey}=${encodeURIComponent(next)}`);
          continue;
        }
      }
      kept.push(pair);
    }
    return changed ? kept.join('&') : query;
  }

  /** Scans `text` up to the first `separator` with `scanHead`, and the rest with `scanTail`. */
  function scanAround(
    text: string,
    separator: string,
    scanHead: (head: string) => Filtered<string>,
    scanTail: (tail: string) => Filtered<string>,
  ): Filtered<string> {
    const at = text.indexOf(separator);
    const head = scanHead(at < 0 ? text : text.slice(0, at));
    if (at < 0 || head === REMOVE) return head;
    const tail = scanTail(text.slice(at + 1));
    return tail === REMOVE ? REMOVE : head + separator + tail;
  }

  /** `path?query`: the path is scanned as text, the query pair by pair. */
  function scanPathAndQuery(text: string): Filtered<string> {
    return scanAround(text, '?', scanText, scanQuery);
  }

  function scanUrl(url: string): Filtered<string> {
    // Hash routers keep a path and query in the fragment (`#/reset?password=...`); OAuth implicit
    // flows put tokens there as pairs (`#access_token=...`).
    return scanAround(url, '#', scanPathAndQuery, (fragment) =>
      fragment.includes('?') || !fragment.includes('=')
        ? scanPathAndQuery(fragment)
        : scanQuery(fragment),
    );
  }

  function scanValue(value: unknown, path: string, depth: number): Filtered<unknown> {
    if (typeof value === 'string') {
      // The cheap `includes` first: most strings hold neither character.
      const isUrl =
        (value.includes('?') || value.includes('#')) && /^(?:https?:\/\/|[/?#])/i.test(value);
      return isUrl ? scanUrl(value) : scanText(value);
    }
    // Card numbers stored as numbers: 13 to 16 digits fit in a double exactly.
    if (typeof value === 'number' && value >= 1e12 && Number.isInteger(value)) {
      const text = String(value);
      const scanned = scanText(text);
      return scanned === text ? value : scanned;
    }
    if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
    if (Array.isArray(value)) return scanArray(value, path, depth + 1);
    return scanBag(value as Properties, path, depth + 1);
  }

  function scanArray(values: unknown[], path: string, depth: number): unknown[] {
    let copy: unknown[] | undefined;
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      const next = scanValue(value, path, depth);
      if (copy === undefined) {
        if (next === value) continue;
        copy = values.slice(0, index);
      }
      if (next !== REMOVE) copy.push(next);
    }
    return copy ?? values;
  }

  /**
   * `path` is the bag's dotted path when `allow` lists paths, and only its root's otherwise: the
   * `context` and campaign rules read it at depth 0.
   */
  function scanBag(bag: Properties, path: string, depth: number): Properties {
    const atContext = depth === 0 && path === 'context';
    // UTM fields: `campaign.name` is a campaign's name, not a person's, so the key rules do not
    // apply there; the value detectors still do (an email pasted into utm_content).
    const keyRulesApply = depth > 0 || path !== CAMPAIGN_PATH;
    let copy: Properties | undefined;
    for (const key of Object.keys(bag)) {
      const value = bag[key];
      // null and undefined hold nothing to protect; redacting them would invent a value.
      if (value === null || value === undefined) continue;
      const childPath = allowPaths.size > 0 ? `${path}.${key}` : '';
      const normalizedKey = keyOf(key);
      let next: Filtered<unknown>;
      if (atContext && CONTEXT_SKIP.has(key)) {
        if (key !== 'campaign' || typeof value !== 'object') continue;
        next = scanBag(value as Properties, CAMPAIGN_PATH, 0);
      } else if (allowKeys.has(normalizedKey) || allowPaths.has(childPath)) {
        continue;
      } else if (keyRulesApply && denyKeys.has(normalizedKey)) {
        next = applyKeyAction(value);
      } else {
        next = scanValue(value, childPath, depth);
      }
      if (next === value) continue;
      copy ??= { ...bag };
      if (next === REMOVE) delete copy[key];
      else copy[key] = next;
    }
    return copy ?? bag;
  }

  return function piiFilter(event: AnalyticsEvent): AnalyticsEvent {
    let result = event;
    for (const section of SECTIONS) {
      const bag = (event as Partial<Record<(typeof SECTIONS)[number], Properties>>)[section];
      if (bag === undefined || bag === null) continue;
      const scanned = scanBag(bag, section, 0);
      if (scanned !== bag) result = { ...result, [section]: scanned };
    }
    return result;
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
