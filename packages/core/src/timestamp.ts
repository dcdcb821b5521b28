let cachedMillis = Number.NaN;
let cachedIso = '';

/**
 * ISO-8601 text of a Unix time in ms. Events created in the same millisecond share one string:
 * `toISOString` costs more than the rest of event creation on the hot path.
 */
export function isoTimestamp(millis: number): string {
  if (millis !== cachedMillis) {
    cachedMillis = millis;
    cachedIso = new Date(millis).toISOString();
  }
  return cachedIso;
}

/** The Unix time in ms of an ISO-8601 timestamp, without re-parsing the one just formatted. */
export function timestampMillis(iso: string): number {
  return iso === cachedIso ? cachedMillis : Date.parse(iso);
}
