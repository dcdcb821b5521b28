import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WRITE_KEY = 'wk_vue_test_0001';
const READ_KEY = 'rk_vue_test_0001';

export interface StoredEvent {
  messageId: string;
  type: string;
  event: string | null;
  name: string | null;
  anonymousId: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
  [field: string]: unknown;
}

export interface TestCollector {
  url: string;
  /** Stored events of one visitor, oldest first, through the read API. */
  events(anonymousId: string | undefined): Promise<StoredEvent[]>;
  stop(): Promise<void>;
}

/**
 * Starts our real collector in a child process (see collectorProcess.mjs) and resolves once it
 * listens.
 *
 * @example
 * const collector = await startCollector();
 * const events = await collector.events(client.user().anonymousId);
 */
export function startCollector(): Promise<TestCollector> {
  // A path, not `new URL()`: under happy-dom, URL is the DOM's.
  const script = join(dirname(fileURLToPath(import.meta.url)), 'collectorProcess.mjs');
  const child: ChildProcess = spawn(process.execPath, [script, WRITE_KEY, READ_KEY], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.once('exit', (code) => reject(new Error(`the collector exited with ${code}`)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      if (!output.includes('\n')) return;
      const { url } = JSON.parse(output) as { url: string };
      resolve({
        url,
        events: async (anonymousId) =>
          (await readEvents(url)).filter((event) => event.anonymousId === anonymousId),
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.stdin!.end();
          }),
      });
    });
  });
}

/** Every stored event, oldest first, over node:http (happy-dom's fetch applies browser rules). */
function readEvents(url: string): Promise<StoredEvent[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/events?limit=1000`,
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
