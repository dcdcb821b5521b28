import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import type { Store } from '../store/store';
import { alertPayload, createAlertStateStore, evaluateAlertRule, notificationFor } from './alerts';
import { computeReport, type ReportSource } from './computeReport';
import { postWebhook, redact, withRetries, writeToDirectory } from './delivery';
import { renderReport } from './renderReport';
import {
  type AlertRule,
  type ReportSchedule,
  type ReportsConfig,
  webhookSecret,
} from './reportConfig';
import { createRunHistory, type RunHistory, type RunRecord } from './runHistory';

/** The scheduled side of reports: cron jobs, deliveries, alert state and the run history. */
export interface ReportsRuntime {
  readonly history: RunHistory;
  /** Runs a schedule now (as if its cron fired at `at`, default now), delivers, records the run. */
  runSchedule(id: string, at?: number): Promise<RunRecord>;
  /** Evaluates an alert rule now; the run when a notification was due, else undefined. */
  evaluateAlert(id: string, at?: number): Promise<RunRecord | undefined>;
  /** The next `count` instants a schedule or alert rule fires after `after` (default now). */
  nextRuns(id: string, count: number, after?: Date): Date[];
  /** Starts the cron jobs (when `runSchedules`); idempotent. */
  start(): void;
  /** Stops the jobs, cuts retries short and waits for runs in flight. */
  stop(): Promise<void>;
}

export interface ReportsRuntimeOptions {
  config: ReportsConfig | undefined;
  store: Promise<Store>;
  source: Omit<ReportSource, 'store'>;
  /** The clock whose "now" picks a run's report period; histories and signatures use real time. */
  now: () => number;
  /** Where run failures are reported besides the history; default stderr. */
  onError?: (error: Error) => void;
}

const EMPTY: ReportsConfig = {
  runSchedules: false,
  retry: { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 60_000, timeoutMs: 10_000 },
  schedules: [],
  alerts: [],
};

/**
 * Creates the reports runtime of a collector: one croner job per schedule and alert rule, in the
 * item's IANA time zone; runs never overlap (croner's `protect`), deliveries retry with
 * exponential backoff, every run lands in the history.
 *
 * @example
 * const reports = createReportsRuntime({ config, store, source, now: Date.now });
 * reports.start();
 * await reports.runSchedule('weekly-acme');
 */
export function createReportsRuntime(options: ReportsRuntimeOptions): ReportsRuntime {
  const config = options.config ?? EMPTY;
  const history = createRunHistory({ directory: config.stateDirectory });
  const alertStates = createAlertStateStore(config.stateDirectory);
  const stopping = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  const jobs: Cron[] = [];
  const report =
    options.onError ??
    ((error: Error) => process.stderr.write(`sightline-collector reports: ${error.message}\n`));

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    void promise.then(
      () => inFlight.delete(promise),
      () => inFlight.delete(promise),
    );
    return promise;
  }

  function scheduleOf(id: string): ReportSchedule {
    const found = config.schedules.find((item) => item.id === id);
    if (!found) throw new RangeError(`no report schedule "${id}"`);
    return found;
  }

  function ruleOf(id: string): AlertRule {
    const found = config.alerts.find((item) => item.id === id);
    if (!found) throw new RangeError(`no alert rule "${id}"`);
    return found;
  }

  async function runScheduleNow(schedule: ReportSchedule, at: number): Promise<RunRecord> {
    const started = Date.now();
    const id = randomUUID();
    const destination = schedule.destination;
    const base = {
      id,
      kind: 'report' as const,
      name: schedule.id,
      tenant: schedule.tenant,
      startedAt: new Date(started).toISOString(),
      format: schedule.format,
    };
    let record: RunRecord;
    try {
      const built = await computeReport(
        { ...options.source, store: await options.store },
        {
          template: schedule.template,
          tenant: schedule.tenant,
          now: at,
          tz: schedule.timezone,
          custom: schedule.custom,
        },
      );
      const rendered = renderReport(built, schedule.format);
      const fileName = `${schedule.id}_${built.period.from}_${built.period.to}.${rendered.extension}`;
      let where =
        destination.type === 'webhook'
          ? `webhook ${redact(destination.url)}`
          : `directory ${destination.path}`;
      const outcome =
        destination.type === 'webhook'
          ? await (() => {
              const secret = webhookSecret(destination, `schedules.${schedule.id}.destination`);
              return withRetries(
                () =>
                  postWebhook(
                    {
                      url: destination.url,
                      secret,
                      body: rendered.body,
                      contentType: rendered.contentType,
                      event: 'report',
                      deliveryId: id,
                    },
                    config.retry.timeoutMs,
                    stopping.signal,
                  ),
                config.retry,
                stopping.signal,
              );
            })()
          : await withRetries(
              async () => {
                where = `directory ${await writeToDirectory(destination.path, fileName, rendered.body)}`;
              },
              config.retry,
              stopping.signal,
            );
      record = {
        ...base,
        status: outcome.ok ? 'ok' : 'failed',
        attempts: outcome.attempts,
        ...(outcome.error && !outcome.ok ? { error: outcome.error } : {}),
        durationMs: Date.now() - started,
        destination: where,
        period: built.period,
      };
    } catch (error) {
      record = {
        ...base,
        status: 'failed',
        attempts: 0,
        error: `the report could not be computed: ${error instanceof Error ? error.message : String(error)}`,
        durationMs: Date.now() - started,
        destination:
          destination.type === 'webhook'
            ? `webhook ${redact(destination.url)}`
            : `directory ${destination.path}`,
      };
    }
    history.append(record);
    if (record.status === 'failed') report(new Error(`report ${schedule.id}: ${record.error}`));
    return record;
  }

  async function evaluateNow(rule: AlertRule, at: number): Promise<RunRecord | undefined> {
    const started = Date.now();
    const evaluation = await evaluateAlertRule(
      await options.store,
      rule,
      at,
      options.source.maxRangeDays,
    );
    const previous = alertStates.get(rule.id);
    const notification = notificationFor(previous, evaluation, rule.notifyResolved);
    const status = evaluation.firing ? 'firing' : 'ok';
    if (!notification) {
      if (previous?.status !== status) alertStates.set(rule.id, { status, day: evaluation.day });
      return undefined;
    }
    const id = randomUUID();
    const body = `${JSON.stringify(alertPayload(rule, evaluation, notification, at))}\n`;
    const secret = webhookSecret(rule.webhook, `alerts.${rule.id}.webhook`);
    const outcome = await withRetries(
      () =>
        postWebhook(
          {
            url: rule.webhook.url,
            secret,
            body,
            contentType: 'application/json; charset=utf-8',
            event: 'alert',
            deliveryId: id,
          },
          config.retry.timeoutMs,
          stopping.signal,
        ),
      config.retry,
      stopping.signal,
    );
    // A failed notification leaves the state as it was, so the next evaluation sends it again.
    if (outcome.ok) {
      alertStates.set(rule.id, {
        status,
        day: evaluation.day,
        notifiedAt: new Date().toISOString(),
      });
    }
    const record: RunRecord = {
      id,
      kind: 'alert',
      name: rule.id,
      tenant: rule.tenant,
      status: outcome.ok ? 'ok' : 'failed',
      attempts: outcome.attempts,
      ...(outcome.ok ? {} : { error: outcome.error }),
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      destination: `webhook ${redact(rule.webhook.url)}`,
      period: { from: evaluation.day, to: evaluation.day },
      alertStatus: notification,
    };
    history.append(record);
    if (!outcome.ok) report(new Error(`alert ${rule.id}: ${outcome.error}`));
    return record;
  }

  return {
    history,
    runSchedule: (id, at) => track(runScheduleNow(scheduleOf(id), at ?? options.now())),
    evaluateAlert: (id, at) => track(evaluateNow(ruleOf(id), at ?? options.now())),
    nextRuns(id, count, after) {
      const item = config.schedules.find((schedule) => schedule.id === id) ?? ruleOf(id);
      const job = new Cron(item.cron, { timezone: item.timezone, paused: true });
      try {
        return job.nextRuns(count, after ?? new Date(options.now()));
      } finally {
        job.stop();
      }
    },
    start() {
      if (!config.runSchedules || jobs.length > 0 || stopping.signal.aborted) return;
      const failed = (what: string) => (error: unknown) =>
        report(new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`));
      for (const schedule of config.schedules) {
        jobs.push(
          new Cron(
            schedule.cron,
            { timezone: schedule.timezone, protect: true, unref: true },
            async () => {
              await track(runScheduleNow(schedule, options.now())).catch(
                failed(`report ${schedule.id}`),
              );
            },
          ),
        );
      }
      for (const rule of config.alerts) {
        jobs.push(
          new Cron(rule.cron, { timezone: rule.timezone, protect: true, unref: true }, async () => {
            await track(evaluateNow(rule, options.now())).catch(failed(`alert ${rule.id}`));
          }),
        );
      }
    },
    async stop() {
      for (const job of jobs) job.stop();
      stopping.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
