/**
 * The request bodies the load generator sends: the aggregator bench's dataset (a DuckDB file with
 * the collector's schema) turned back into Segment-spec events, `batchSize` per `POST /v1/batch`
 * body, in arrival (`seq`) order. Built once inside DuckDB and cached as one body per line, so
 * serialising events costs nothing during the measured run.
 *
 * Each stored row becomes the event an SDK would have sent: `type`, `messageId` (the row's, so
 * every store ends up with the same ids), `timestamp` (no `sentAt`: no clock-skew correction, the
 * stored times are the dataset's), `event` or `name`, `userId`/`anonymousId`, `properties`,
 * `traits` on identify calls, and `context` with the session id, the IP and the UTM campaign
 * added back. The collector then derives what it derives (device from the user agent, referrer
 * domain, revenue, identity links, daily usage) the same way for every store.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** The collector's limit on a request body (core's `LIMITS.maxRequestBytes`, 500 KiB). */
const MAX_REQUEST_BYTES = 500 * 1024;
/** Bodies built per DuckDB query: bounds the strings held at once. */
const BODIES_PER_QUERY = 200;

export interface RequestBodies {
  /** One JSON body per line (`\n`-terminated). */
  file: string;
  bodies: number;
  events: number;
  bytes: number;
  largestBodyBytes: number;
  /** Seconds the build took, or undefined when the cached file was used. */
  builtSeconds: number | undefined;
}

/** Optional string field: `,"name":value` when the column is not NULL, else nothing. */
const optional = (name: string, column: string) =>
  `CASE WHEN ${column} IS NOT NULL THEN ',"${name}":' || to_json(${column}) ELSE '' END`;

/** One event's JSON text per row of `events` with `seq` in [first, last]. */
function eventsSql(tenant: string, first: number, last: number): string {
  return `SELECT seq, '{"type":' || to_json(type)
      || ',"messageId":' || to_json(message_id)
      || ',"timestamp":' || to_json(strftime(timezone('UTC', "timestamp"), '%Y-%m-%dT%H:%M:%S.%gZ'))
      || CASE WHEN type = 'track' THEN ',"event":' || to_json(event) ELSE '' END
      || CASE WHEN type = 'page' THEN ${optional('name', 'event')} ELSE '' END
      || ${optional('userId', 'user_id')}
      || ${optional('anonymousId', 'anonymous_id')}
      || CASE WHEN type IN ('track', 'page') THEN ',"properties":' || properties ELSE '' END
      || CASE WHEN type = 'identify' THEN ',"traits":' || traits ELSE '' END
      -- NULL members of the patch remove the key: events without a session, IP or campaign
      -- carry none.
      || ',"context":' || json_merge_patch(context, json_object(
           'sessionId', session_id,
           'ip', ip,
           'campaign', CASE WHEN utm_source IS NOT NULL THEN json_object(
             'source', utm_source, 'medium', utm_medium, 'name', utm_campaign,
             'term', utm_term, 'content', utm_content) END))
      || '}' AS json
    FROM events
    WHERE tenant = '${tenant}' AND seq BETWEEN ${first} AND ${last}`;
}

function bodiesSql(tenant: string, batchSize: number, first: number, last: number): string {
  return `SELECT '{"batch":[' || string_agg(json, ',' ORDER BY seq) || ']}' AS body
    FROM (${eventsSql(tenant, first, last)})
    GROUP BY (seq - 1) // ${batchSize}
    ORDER BY (seq - 1) // ${batchSize}`;
}

/**
 * The cached bodies of `datasetFile` (events with `seq` 1…`events`), building them when missing.
 * The cache key holds the dataset's name (itself keyed by its generator's SQL), the batch size
 * and a hash of the body SQL.
 */
export async function ensureRequestBodies(options: {
  datasetFile: string;
  tenant: string;
  events: number;
  batchSize: number;
  directory: string;
}): Promise<RequestBodies> {
  const { datasetFile, tenant, events, batchSize, directory } = options;
  const version = createHash('sha256')
    .update(bodiesSql(tenant, batchSize, 0, 0))
    .digest('hex')
    .slice(0, 10);
  const file = join(
    directory,
    `${basename(datasetFile, '.duckdb')}-bodies-${batchSize}-${version}.ndjson`,
  );
  const summaryFile = `${file}.json`;
  if (existsSync(file) && existsSync(summaryFile)) {
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Omit<RequestBodies, 'file'>;
    return { ...summary, file, builtSeconds: undefined };
  }

  const started = performance.now();
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const instance = await DuckDBInstance.create(datasetFile, {
    access_mode: 'READ_ONLY',
    memory_limit: '4GB',
  });
  const connection = await instance.connect();
  const out = createWriteStream(partial);
  let bodies = 0;
  let bytes = 0;
  let largestBodyBytes = 0;
  let eventsWritten = 0;
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    const eventsPerQuery = batchSize * BODIES_PER_QUERY;
    for (let first = 1; first <= events; first += eventsPerQuery) {
      const last = Math.min(events, first + eventsPerQuery - 1);
      const reader = await connection.runAndReadAll(bodiesSql(tenant, batchSize, first, last));
      for (const [body] of reader.getRows()) {
        const text = `${String(body)}\n`;
        const size = Buffer.byteLength(text) - 1;
        if (size > MAX_REQUEST_BYTES) {
          throw new Error(
            `a body of ${batchSize} events is ${size} bytes, over the collector's 500 KiB limit: use a smaller --batch`,
          );
        }
        largestBodyBytes = Math.max(largestBodyBytes, size);
        bytes += size;
        bodies++;
        if (!out.write(text)) await once(out, 'drain');
      }
      eventsWritten = last;
      if (bodies % 2_000 < BODIES_PER_QUERY) {
        process.stderr.write(`  bodies: ${eventsWritten.toLocaleString('en-US')} events\r`);
      }
    }
    process.stderr.write('\n');
    out.end();
    await once(out, 'finish');
  } catch (error) {
    out.destroy();
    rmSync(partial, { force: true });
    throw error;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  if (bodies !== Math.ceil(events / batchSize)) {
    throw new Error(`built ${bodies} bodies for ${events} events of ${batchSize}: seq has gaps`);
  }
  renameSync(partial, file);
  const summary = { bodies, events, bytes, largestBodyBytes };
  writeFileSync(summaryFile, `${JSON.stringify(summary)}\n`);
  return { ...summary, file, builtSeconds: (performance.now() - started) / 1000 };
}
