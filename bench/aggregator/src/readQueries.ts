/**
 * The five read requests of the aggregator benchmark, with their plausibility checks, sent over
 * HTTP to a collector. Shared by bench/aggregator and bench/stores.
 */
import { type Agent, request } from 'node:http';
import { DAYS, FIRST_DAY } from './generate';

const DAY_MS = 86_400_000;
export const EXPORT_ROWS = 50_000;

const day = (offset: number) =>
  new Date(Date.parse(`${FIRST_DAY}T00:00:00Z`) + offset * DAY_MS).toISOString().slice(0, 10);
export const LAST_DAY = day(DAYS - 1);

export interface Answer {
  status: number;
  contentType: string;
  /** JSON answers: the parsed body. */
  json?: unknown;
  /** Non-JSON answers: bytes and lines (a last line without `\n` counts) of the body. */
  bytes: number;
  lines: number;
  firstLine: string;
  /** The start of the body, for error messages. */
  head: string;
}

export class TimedOut extends Error {}
export class Implausible extends Error {}

/**
 * One request with its whole body read within `timeoutMs` (else it rejects with {@link TimedOut}).
 * CSV bodies are counted as they stream, never buffered.
 */
export function call(
  agent: Agent,
  port: number,
  readKey: string,
  query: Pick<Query, 'method' | 'path' | 'body'>,
  timeoutMs: number,
): Promise<Answer> {
  const payload = query.body === undefined ? undefined : JSON.stringify(query.body);
  return new Promise((resolveAnswer, rejectAnswer) => {
    const timer = setTimeout(() => {
      req.destroy();
      rejectAnswer(new TimedOut(`no complete answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const settle =
      <T>(fn: (value: T) => void) =>
      (value: T) => {
        clearTimeout(timer);
        fn(value);
      };
    const resolve = settle(resolveAnswer);
    const reject = settle(rejectAnswer);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: query.method,
        path: query.path,
        agent,
        headers: {
          authorization: `Bearer ${readKey}`,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        const isJson = contentType.includes('json');
        const chunks: Buffer[] = [];
        let bytes = 0;
        let newlines = 0;
        let lastByte = -1;
        let head = '';
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (head.length < 2_000) head += chunk.toString('utf8', 0, Math.min(chunk.length, 2_000));
          if (isJson) chunks.push(chunk);
          else {
            for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) newlines++;
            lastByte = chunk[chunk.length - 1] ?? lastByte;
          }
        });
        res.on('error', reject);
        res.on('end', () => {
          const answer: Answer = {
            status: res.statusCode ?? 0,
            contentType,
            bytes,
            lines: newlines + (bytes > 0 && lastByte !== 10 ? 1 : 0),
            firstLine: head.split('\n', 1)[0] ?? '',
            head: head.slice(0, 300),
          };
          if (isJson) {
            try {
              answer.json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch (error) {
              reject(error);
              return;
            }
          }
          resolve(answer);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface Query {
  name: string;
  label: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** Throws {@link Implausible} when the answer is not plausible; returns a one-line summary. */
  check(answer: Answer): string;
  /** What must be equal between stores (CSV: its shape; rows follow each store's arrival order). */
  comparable(answer: Answer): unknown;
}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Implausible(message);
}

export const format = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const dashboardFrom = day(DAYS - 30);
/** 8 whole weeks (Mondays) ending with the data, so 8 weekly cohorts. */
const retentionFrom = day(DAYS - 1 - ((DAYS - 1) % 7) - 7 * 7);
const FUNNEL_STEPS = ['signup_started', 'signup_completed', 'project_created', 'payment_completed'];

export const QUERIES: readonly Query[] = [
  {
    name: 'dashboard',
    label: 'GET /v1/dashboard (30 days)',
    method: 'GET',
    path: `/v1/dashboard?from=${dashboardFrom}&to=${LAST_DAY}`,
    check(answer) {
      const body = answer.json as Record<string, number | null>;
      for (const key of ['dau', 'wau', 'mau', 'newUsers', 'revenue', 'signups']) {
        expect(typeof body[key] === 'number' && body[key] > 0, `dashboard.${key} is ${body[key]}`);
      }
      expect(body.dau! <= body.wau! && body.wau! <= body.mau!, 'dashboard: not dau ≤ wau ≤ mau');
      return `DAU ${format(body.dau!)}, MAU ${format(body.mau!)}, revenue ${format(body.revenue!)}, churn ${format((body.churn ?? 0) * 100, 1)} %`;
    },
    comparable: (answer) => answer.json,
  },
  {
    name: 'dau',
    label: `GET /v1/metrics dau (${DAYS} days, by day)`,
    method: 'GET',
    path: `/v1/metrics?names=dau&from=${FIRST_DAY}&to=${LAST_DAY}&interval=day`,
    check(answer) {
      const series = (answer.json as { series: Record<string, Array<{ value: number }>> }).series
        .dau;
      expect(Array.isArray(series) && series.length === DAYS, `dau: ${series?.length} points`);
      const values = series.map((point) => point.value);
      expect(
        values.every((value) => value > 0),
        'dau: a day with no active user',
      );
      return `${series.length} points, ${format(Math.min(...values))}–${format(Math.max(...values))}`;
    },
    comparable: (answer) => answer.json,
  },
  {
    name: 'funnel',
    label: `POST /v1/funnel (4 steps, 7-day window, ${DAYS} days)`,
    method: 'POST',
    path: '/v1/funnel',
    body: {
      steps: FUNNEL_STEPS.map((event) => ({ event })),
      windowSeconds: 7 * 86_400,
      from: FIRST_DAY,
      to: LAST_DAY,
    },
    check(answer) {
      const steps = (answer.json as { steps: Array<{ users: number }> }).steps;
      expect(steps?.length === FUNNEL_STEPS.length, `funnel: ${steps?.length} steps`);
      expect(steps[0]!.users > 0, 'funnel: no user at step 1');
      expect(
        steps.every((step, index) => index === 0 || step.users <= steps[index - 1]!.users),
        'funnel: a step has more users than the one before',
      );
      expect(steps[FUNNEL_STEPS.length - 1]!.users > 0, 'funnel: nobody paid');
      return steps.map((step) => format(step.users)).join(' → ');
    },
    comparable: (answer) => answer.json,
  },
  {
    name: 'retention',
    label: 'POST /v1/retention (week, 8 periods, 8 cohorts)',
    method: 'POST',
    path: '/v1/retention',
    body: { interval: 'week', periods: 8, from: retentionFrom, to: LAST_DAY },
    check(answer) {
      const cohorts = (answer.json as { cohorts: Array<{ size: number; retained: number[] }> })
        .cohorts;
      expect(cohorts?.length === 8, `retention: ${cohorts?.length} cohorts, expected 8`);
      expect(
        cohorts.every((cohort) => cohort.size > 0 && cohort.retained.length === 8),
        'retention: an empty cohort',
      );
      expect(cohorts[0]!.retained[1]! > 0, 'retention: nobody of the first cohort came back');
      const first = cohorts[0]!;
      return `${cohorts.length} cohorts; first: ${format(first.size)} users, week 1 ${format((first.retained[1]! / first.size) * 100)} %, week 7 ${format((first.retained[7]! / first.size) * 100)} %`;
    },
    comparable: (answer) => answer.json,
  },
  {
    name: 'export',
    label: `GET /v1/export.csv (${format(EXPORT_ROWS)} rows)`,
    method: 'GET',
    path: `/v1/export.csv?from=${FIRST_DAY}&to=${LAST_DAY}`,
    check(answer) {
      expect(answer.contentType.includes('csv'), `export: content-type ${answer.contentType}`);
      expect(
        answer.lines === EXPORT_ROWS + 1,
        `export: ${answer.lines} lines, expected ${EXPORT_ROWS + 1} (header + ${EXPORT_ROWS} rows)`,
      );
      return `${format(answer.lines)} lines, ${format(answer.bytes / 1e6, 1)} MB; ${answer.firstLine.split(',').length} columns`;
    },
    comparable: (answer) => ({ header: answer.firstLine.trim(), lines: answer.lines }),
  },
];
