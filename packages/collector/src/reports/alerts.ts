import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeSeries } from '../query/series';
import { addDays, dayOf, resolveRange } from '../query/time';
import type { Store } from '../store/store';
import type { AlertRule } from './reportConfig';

/** What one evaluation of a rule found. */
export interface AlertEvaluation {
  ruleId: string;
  /** The local day judged, `YYYY-MM-DD` in the rule's time zone. */
  day: string;
  value: number;
  /** Change rules: the mean of the `trailingDays` days before `day`. */
  baseline?: number;
  /** Change rules: `(value − baseline) / baseline × 100`; null when the baseline is 0. */
  changePercent?: number | null;
  firing: boolean;
}

/** A rule's last notified state, kept so the same state is not notified twice. */
export interface AlertState {
  status: 'ok' | 'firing';
  /** The day whose evaluation last changed the status. */
  day: string;
  notifiedAt?: string;
}

/** The notification an evaluation calls for, or none. */
export type AlertNotification = 'firing' | 'resolved' | undefined;

/**
 * Evaluates `rule` at instant `now`: the value of its metric on the judged day (yesterday or
 * today in the rule's time zone) against a threshold, or against the mean of the trailing days.
 *
 * @example
 * await evaluateAlertRule(store, rule, Date.now(), 400); // { day, value, firing, … }
 */
export async function evaluateAlertRule(
  store: Store,
  rule: AlertRule,
  now: number,
  maxRangeDays: number,
): Promise<AlertEvaluation> {
  const today = dayOf(now, rule.timezone);
  const day = rule.day === 'today' ? today : addDays(today, -1);
  const trailing = rule.condition.type === 'change' ? rule.condition.trailingDays : 0;
  const range = resolveRange(
    { from: addDays(day, -trailing), to: day, tz: rule.timezone },
    maxRangeDays,
  );
  const series = await computeSeries(store, rule.tenant, {
    names: [rule.metric],
    range,
    interval: 'day',
    event: rule.event,
  });
  const points = series[rule.metric] ?? [];
  const value = points.at(-1)?.value ?? 0;
  const condition = rule.condition;
  if (condition.type === 'threshold') {
    const firing =
      condition.operator === 'above' ? value > condition.value : value < condition.value;
    return { ruleId: rule.id, day, value, firing };
  }
  const before = points.slice(0, -1);
  const baseline = before.reduce((sum, point) => sum + point.value, 0) / Math.max(1, before.length);
  const changePercent = baseline === 0 ? null : ((value - baseline) / baseline) * 100;
  const firing =
    changePercent !== null &&
    (condition.direction === 'drop'
      ? changePercent <= -condition.percent
      : changePercent >= condition.percent);
  return { ruleId: rule.id, day, value, baseline, changePercent, firing };
}

/**
 * De-duplication: a notification is sent only when a rule's state changes. `firing` when it starts
 * to fire; nothing while it keeps firing (any day, any number of evaluations); `resolved` when it
 * stops (if the rule asks for it); nothing while it stays fine.
 *
 * @example
 * notificationFor(undefined, { firing: true, … }, true); // 'firing'
 */
export function notificationFor(
  previous: AlertState | undefined,
  evaluation: Pick<AlertEvaluation, 'firing'>,
  notifyResolved: boolean,
): AlertNotification {
  const wasFiring = previous?.status === 'firing';
  if (evaluation.firing && !wasFiring) return 'firing';
  if (!evaluation.firing && wasFiring) return notifyResolved ? 'resolved' : undefined;
  return undefined;
}

/** The webhook body of an alert notification. */
export function alertPayload(
  rule: AlertRule,
  evaluation: AlertEvaluation,
  status: 'firing' | 'resolved',
  now: number,
) {
  const condition = rule.condition;
  const what = rule.event ? `${rule.metric} (event ${rule.event})` : rule.metric;
  const message =
    condition.type === 'threshold'
      ? `${what} was ${evaluation.value} on ${evaluation.day}: ${status === 'firing' ? '' : 'no longer '}${condition.operator} ${condition.value}`
      : `${what} was ${evaluation.value} on ${evaluation.day}, ${evaluation.changePercent === null || evaluation.changePercent === undefined ? 'no baseline' : `${evaluation.changePercent.toFixed(1)} %`} vs the ${condition.trailingDays}-day mean ${evaluation.baseline}: ${status === 'firing' ? '' : 'no longer a '}${condition.direction} of ${condition.percent} %${status === 'firing' ? ' or more' : ''}`;
  return {
    type: 'alert' as const,
    status,
    tenant: rule.tenant,
    rule: { id: rule.id, metric: rule.metric, event: rule.event ?? null, condition },
    day: evaluation.day,
    timeZone: rule.timezone,
    value: evaluation.value,
    baseline: evaluation.baseline ?? null,
    changePercent: evaluation.changePercent ?? null,
    evaluatedAt: new Date(now).toISOString(),
    message,
  };
}

export interface AlertStateStore {
  get(ruleId: string): AlertState | undefined;
  set(ruleId: string, state: AlertState): void;
}

/**
 * Alert states by rule id, in `<directory>/alert-state.json` (rewritten atomically on change) so
 * a restart does not re-send an alert that is already firing; in memory without a directory.
 */
export function createAlertStateStore(directory?: string): AlertStateStore {
  const file = directory ? join(directory, 'alert-state.json') : undefined;
  let states: Record<string, AlertState> = {};
  if (file) {
    mkdirSync(directory!, { recursive: true });
    try {
      states = JSON.parse(readFileSync(file, 'utf8')) as Record<string, AlertState>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(
          `${file} is not an alert state file (${error instanceof Error ? error.message : String(error)}): delete it to start afresh`,
        );
      }
    }
  }
  return {
    get: (ruleId) => states[ruleId],
    set(ruleId, state) {
      states = { ...states, [ruleId]: state };
      if (!file) return;
      const temporary = `${file}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(states, null, 2)}\n`);
      renameSync(temporary, file);
    },
  };
}
