import { request } from 'node:http';
import { inject } from 'vitest';

export const WRITE_KEY = 'wk_browser_test_0001';
export const READ_KEY = 'rk_browser_test_0001';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the real collector started by `globalSetup.ts`. */
    collectorUrl: string;
  }
}

/** The real collector's URL (started once for the browser project, outside happy-dom). */
export const collectorUrl = (): string => inject('collectorUrl');

export interface StoredEvent {
  messageId: string;
  type: string;
  event: string | null;
  userId: string | null;
  anonymousId: string | null;
  sessionId: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * Every event stored for the test tenant, oldest first, read through the collector's read API
 * with node:http (happy-dom's fetch would apply browser rules to the test's own requests).
 *
 * @example
 * const events = await storedEvents();
 */
export function storedEvents(): Promise<StoredEvent[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${collectorUrl()}/v1/events?limit=1000`,
      { headers: { authorization: `Bearer ${READ_KEY}` } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => {
          if (response.statusCode !== 200) {
            reject(new Error(`read API answered ${response.statusCode}: ${body}`));
            return;
          }
          resolve((JSON.parse(body) as { events: StoredEvent[] }).events.reverse());
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}
