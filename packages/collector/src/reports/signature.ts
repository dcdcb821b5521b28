import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header carrying a delivery's signature. */
export const SIGNATURE_HEADER = 'Sightline-Signature';

/**
 * The `Sightline-Signature` value of `body` sent at `timestamp` (Unix seconds):
 * `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>`. Signing the
 * timestamp with the body lets receivers refuse replays of old deliveries.
 *
 * @example
 * signPayload('whsec_…', '{"ok":true}', Math.floor(Date.now() / 1000));
 */
export function signPayload(secret: string, body: string, timestamp: number): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}

/**
 * Checks a `Sightline-Signature` header against the raw body: the HMAC must match (compared in
 * constant time) and the timestamp be at most `toleranceSeconds` away from `now` (Unix seconds).
 *
 * @example
 * verifySignature(secret, rawBody, request.headers['sightline-signature'], { now: Date.now() / 1000 });
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | null | undefined,
  options: { now: number; toleranceSeconds?: number },
): boolean {
  if (!header) return false;
  const fields = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = Number(fields.get('t'));
  const given = fields.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/.test(given)) return false;
  if (Math.abs(options.now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
