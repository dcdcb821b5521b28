import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { VERSION } from '@sightline/core';
import type { RetryPolicy } from './reportConfig';
import { SIGNATURE_HEADER, signPayload } from './signature';

/** A failure that retrying cannot fix (a 4xx other than 408 and 429). */
export class PermanentDeliveryError extends Error {}

/** What delivering once or several times came to. */
export interface DeliveryOutcome {
  ok: boolean;
  attempts: number;
  error?: string;
}

/** The wait before attempt `attempt + 1`: `baseDelayMs · 2^(attempt−1)`, at most `maxDelayMs`. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

/**
 * Runs `attempt` until it resolves, up to `policy.attempts` times, waiting with exponential backoff
 * between attempts. A {@link PermanentDeliveryError} or an aborted `signal` ends it at once.
 *
 * @example
 * const outcome = await withRetries((n) => postOnce(n), { attempts: 5, baseDelayMs: 1000, maxDelayMs: 60000, timeoutMs: 10000 });
 */
export async function withRetries(
  attempt: (attempt: number) => Promise<void>,
  policy: RetryPolicy,
  signal?: AbortSignal,
): Promise<DeliveryOutcome> {
  let error = 'not attempted';
  for (let count = 1; count <= policy.attempts; count++) {
    if (signal?.aborted)
      return { ok: false, attempts: count - 1, error: 'stopped: the collector is closing' };
    try {
      await attempt(count);
      return { ok: true, attempts: count };
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
      if (caught instanceof PermanentDeliveryError) return { ok: false, attempts: count, error };
    }
    if (count < policy.attempts) {
      try {
        await sleep(backoffDelay(policy, count), undefined, { signal });
      } catch {
        return { ok: false, attempts: count, error: `${error}; stopped: the collector is closing` };
      }
    }
  }
  return { ok: false, attempts: policy.attempts, error };
}

export interface WebhookDelivery {
  url: string;
  secret: string;
  body: string;
  contentType: string;
  /** `report` or `alert`, sent as `Sightline-Event`. */
  event: 'report' | 'alert';
  /** Same on every attempt, sent as `Sightline-Delivery`: receivers can drop duplicates. */
  deliveryId: string;
  now?: () => number;
}

/**
 * POSTs a signed body to a webhook once. Each attempt is signed with its own timestamp. 2xx is
 * success; 408, 429, 5xx and network errors are worth retrying; other statuses are permanent.
 */
export async function postWebhook(
  delivery: WebhookDelivery,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const timestamp = Math.floor((delivery.now ?? Date.now)() / 1000);
  const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
  let response: Response;
  try {
    response = await fetch(delivery.url, {
      method: 'POST',
      body: delivery.body,
      redirect: 'manual',
      signal: AbortSignal.any(signals),
      headers: {
        'content-type': delivery.contentType,
        'user-agent': `sightline-collector/${VERSION}`,
        [SIGNATURE_HEADER]: signPayload(delivery.secret, delivery.body, timestamp),
        'Sightline-Event': delivery.event,
        'Sightline-Delivery': delivery.deliveryId,
      },
    });
  } catch (error) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new Error(
      `POST ${redact(delivery.url)} failed (${error instanceof Error ? error.message : String(error)}${cause})`,
    );
  }
  await response.body?.cancel();
  if (response.ok) return;
  const message = `POST ${redact(delivery.url)} answered ${response.status}`;
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    throw new Error(message);
  }
  throw new PermanentDeliveryError(`${message} (not retried: fix the webhook)`);
}

/** A URL without its query string and credentials, for run history and logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Writes `body` to `directory/fileName` atomically (a temporary file renamed into place), creating
 * the directory. Returns the file's path.
 */
export async function writeToDirectory(
  directory: string,
  fileName: string,
  body: string,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  const target = join(directory, fileName);
  const temporary = `${target}.${process.pid}.tmp`;
  await writeFile(temporary, body);
  await rename(temporary, target);
  return target;
}
