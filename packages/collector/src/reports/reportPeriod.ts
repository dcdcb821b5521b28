import { ConfigurationError } from '@sightline/core';
import { addDays, addPeriods, dayOf, daysBetween, periodStart } from '../query/time';
import type { ReportTemplateName } from './reportConfig';

/** Inclusive local days `YYYY-MM-DD`. */
export interface DayRange {
  from: string;
  to: string;
}

export interface ReportPeriods {
  current: DayRange;
  /** The period of the same length just before `current`, for the change columns. */
  previous: DayRange;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The period a template covers at instant `now` in `tz`: the last complete day (daily), ISO week
 * Monday–Sunday (weekly), calendar month (monthly) or `days` days ending yesterday (custom); or
 * the explicit `from`–`to` days. The previous period is the one of equal length just before (for
 * monthly: the calendar month before).
 *
 * @example
 * reportPeriods('weekly', { now: Date.parse('2024-05-15T10:00:00Z'), tz: 'UTC' });
 * // { current: { from: '2024-05-06', to: '2024-05-12' }, previous: { from: '2024-04-29', to: '2024-05-05' } }
 */
export function reportPeriods(
  template: ReportTemplateName,
  options: { now: number; tz: string; from?: string; to?: string; days?: number },
): ReportPeriods {
  if (options.from !== undefined || options.to !== undefined) {
    const { from, to } = options;
    if (!from || !DATE.test(from)) throw new ConfigurationError('from', 'use a date YYYY-MM-DD');
    if (!to || !DATE.test(to)) throw new ConfigurationError('to', 'use a date YYYY-MM-DD');
    if (to < from) throw new ConfigurationError('to', 'use a day on or after from');
    const length = daysBetween(from, to) + 1;
    return {
      current: { from, to },
      previous: { from: addDays(from, -length), to: addDays(from, -1) },
    };
  }
  const today = dayOf(options.now, options.tz);
  const yesterday = addDays(today, -1);
  switch (template) {
    case 'daily':
      return {
        current: { from: yesterday, to: yesterday },
        previous: { from: addDays(yesterday, -1), to: addDays(yesterday, -1) },
      };
    case 'weekly': {
      const monday = addDays(periodStart(today, 'week'), -7);
      return {
        current: { from: monday, to: addDays(monday, 6) },
        previous: { from: addDays(monday, -7), to: addDays(monday, -1) },
      };
    }
    case 'monthly': {
      const first = addPeriods(periodStart(today, 'month'), 'month', -1);
      const before = addPeriods(first, 'month', -1);
      return {
        current: { from: first, to: addDays(periodStart(today, 'month'), -1) },
        previous: { from: before, to: addDays(first, -1) },
      };
    }
    case 'custom': {
      const days = options.days ?? 7;
      const from = addDays(yesterday, -(days - 1));
      return {
        current: { from, to: yesterday },
        previous: { from: addDays(from, -days), to: addDays(from, -1) },
      };
    }
  }
}
