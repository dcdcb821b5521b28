/**
 * The ingest load: every body of the bodies file `POST`ed once to `/v1/batch`, spread over the
 * collectors in strict round-robin (as a load balancer's default does), `concurrency` requests in
 * flight per collector, each on a keep-alive connection. Bodies are read from the file as bytes
 * and sent as they are: no JSON work in this process while it measures.
 *
 * Answers 429 and 503 are retried after `Retry-After` (what an SDK does; with several collectors
 * the retry goes to the next one in turn). Anything else that is not 200 `{"success":true}` is a
 * failure, counted and never retried.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { Agent, request } from 'node:http';

export interface IngestOptions {
  /** One body per line, as written by `ensureRequestBodies`. */
  file: string;
  bodies: number;
  events: number;
  batchSize: number;
  ports: readonly number[];
  /** Requests in flight per collector. */
  concurrency: number;
  writeKey: string;
  /** Stop sending after this long (the run is then incomplete). */
  deadlineMs: number;
  /** Called about every 5 s with the events acknowledged so far. */
  onProgress?(acknowledged: number, seconds: number): void;
}

export interface IngestResult {
  /** Events in bodies answered 200. */
  acknowledged: number;
  requests: number;
  /** From the first request sent to the last 200 received. */
  seconds: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Retried answers and network errors, by status (`ECONNRESET`, `503`, …). */
  retries: Record<string, number>;
  /** Bodies that failed for good: status and the start of the answer, the first few. */
  failures: string[];
  failedEvents: number;
  /** Requests answered 200, per collector. */
  perCollector: number[];
  /** The deadline passed before every body was sent. */
  timedOut: boolean;
}

const MAX_ATTEMPTS = 30;
const REQUEST_TIMEOUT_MS = 300_000;

/** Reads `\n`-terminated bodies from a file in large chunks; safe to call concurrently. */
class BodyReader {
  readonly #file: Promise<FileHandle>;
  #rest: Buffer = Buffer.alloc(0);
  #ready: Buffer[] = [];
  #done = false;
  #lock: Promise<unknown> = Promise.resolve();
  #next = 0;

  constructor(path: string) {
    this.#file = open(path, 'r');
  }

  /** The next body and its index, or undefined at the end of the file. */
  next(): Promise<{ index: number; body: Buffer } | undefined> {
    const result = this.#lock.then(async () => {
      while (this.#ready.length === 0 && !this.#done) await this.#fill();
      const body = this.#ready.shift();
      return body === undefined ? undefined : { index: this.#next++, body };
    });
    this.#lock = result.catch(() => {});
    return result;
  }

  async #fill(): Promise<void> {
    const file = await this.#file;
    const chunk = Buffer.allocUnsafe(16 * 1024 * 1024);
    const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) {
      this.#done = true;
      if (this.#rest.length > 0) throw new Error('the bodies file does not end with a newline');
      return;
    }
    const data =
      this.#rest.length > 0
        ? Buffer.concat([this.#rest, chunk.subarray(0, bytesRead)])
        : chunk.subarray(0, bytesRead);
    let start = 0;
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      this.#ready.push(data.subarray(start, end));
      start = end + 1;
    }
    this.#rest = Buffer.from(data.subarray(start));
  }

  async close(): Promise<void> {
    await (await this.#file).close();
  }
}

interface Answer {
  status: number | string;
  retryAfterMs: number;
  text: string;
}

function post(agent: Agent, port: number, body: Buffer, authorization: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/batch',
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          authorization,
          'content-type': 'application/json',
          'content-length': body.length,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < 1_000) text += chunk;
        });
        res.on('end', () => {
          const retryAfter = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : 1000,
            text,
          });
        });
        res.on('error', (error: NodeJS.ErrnoException) =>
          resolve({
            status: error.code ?? 'response error',
            retryAfterMs: 1000,
            text: error.message,
          }),
        );
      },
    );
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'TIMEOUT' })),
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: error.code ?? 'request error', retryAfterMs: 1000, text: error.message }),
    );
    req.end(body);
  });
}

const OK = '{"success":true}';

/** Sends every body once (plus retries); resolves when all are answered or the deadline passed. */
export async function ingest(options: IngestOptions): Promise<IngestResult> {
  const { ports, concurrency, batchSize } = options;
  const authorization = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
  const agents = ports.map(
    () => new Agent({ keepAlive: true, maxSockets: concurrency * ports.length }),
  );
  const reader = new BodyReader(options.file);
  const latencies: number[] = [];
  const retries: Record<string, number> = {};
  const failures: string[] = [];
  const perCollector = ports.map(() => 0);
  let failedEvents = 0;
  let acknowledged = 0;
  let requests = 0;
  let turn = 0;
  let timedOut = false;
  let lastOkAt = 0;
  const eventsOf = (index: number) =>
    index < options.bodies - 1 ? batchSize : options.events - (options.bodies - 1) * batchSize;

  const started = performance.now();
  const deadline = started + options.deadlineMs;
  const progress = setInterval(
    () => options.onProgress?.(acknowledged, (performance.now() - started) / 1000),
    5_000,
  );

  async function send(body: Buffer, events: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const target = turn++ % ports.length;
      const sentAt = performance.now();
      requests++;
      const answer = await post(agents[target]!, ports[target]!, body, authorization);
      if (answer.status === 200 && answer.text === OK) {
        lastOkAt = performance.now();
        latencies.push(lastOkAt - sentAt);
        acknowledged += events;
        perCollector[target]!++;
        return;
      }
      const retryable =
        answer.status === 429 || answer.status === 503 || typeof answer.status === 'string';
      if (retryable && attempt < MAX_ATTEMPTS && performance.now() < deadline) {
        retries[answer.status] = (retries[answer.status] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, answer.retryAfterMs));
        continue;
      }
      failedEvents += events;
      if (failures.length < 5) failures.push(`${answer.status}: ${answer.text.slice(0, 300)}`);
      return;
    }
  }

  async function worker(): Promise<void> {
    for (;;) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      const next = await reader.next();
      if (!next) return;
      await send(next.body, eventsOf(next.index));
    }
  }

  try {
    await Promise.all(Array.from({ length: concurrency * ports.length }, worker));
  } finally {
    clearInterval(progress);
    await reader.close();
    for (const agent of agents) agent.destroy();
  }
  const seconds = ((lastOkAt || performance.now()) - started) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies.length === 0
      ? 0
      : latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    acknowledged,
    requests,
    seconds,
    eventsPerSecond: acknowledged / seconds,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    retries,
    failures,
    failedEvents,
    perCollector,
    timedOut,
  };
}
