import type { Report } from './computeReport';

const HEADER = ['section', 'name', 'key', 'value', 'previous', 'change_percent', 'lower', 'upper'];

type Cell = string | number | null | undefined;

/**
 * One CSV field (RFC 4180): quoted when needed; text starting with `=`, `+`, `-`, `@`, tab or CR
 * gets a leading `'` so spreadsheet apps do not run it as a formula (OWASP CSV injection).
 */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function row(cells: readonly Cell[]): string {
  return cells.map(csvField).join(',');
}

/** Label of an attribution channel: its source / medium / campaign, or the referrer, or direct. */
export function channelLabel(channel: {
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  referrerDomain: string | null;
}): string {
  const utm = [channel.utmSource, channel.utmMedium, channel.utmCampaign].filter(
    (part) => part !== null && part !== '',
  );
  if (utm.length > 0) return utm.join(' / ');
  return channel.referrerDomain ?? '(direct)';
}

/**
 * A report as one long CSV table: `section,name,key,value,previous,change_percent,lower,upper`,
 * with sections `report` (period), `kpi`, `metric` (period totals), `series` (daily values),
 * `funnel` (users per step), `retention`, `attribution` and `forecast`. Numbers are written as
 * computed, unrounded.
 *
 * @example
 * writeFileSync('report.csv', renderCsv(report));
 */
export function renderCsv(report: Report): string {
  const lines = [row(HEADER)];
  lines.push(row(['report', 'template', '', report.template]));
  lines.push(row(['report', 'tenant', '', report.tenant]));
  lines.push(row(['report', 'period', report.period.from, report.period.to]));
  lines.push(
    row(['report', 'previous_period', report.previousPeriod.from, report.previousPeriod.to]),
  );
  lines.push(row(['report', 'time_zone', '', report.timeZone]));
  if (report.event !== undefined) lines.push(row(['report', 'event', '', report.event]));
  for (const kpi of report.kpis) {
    lines.push(row(['kpi', kpi.name, '', kpi.value, kpi.previous, kpi.changePercent]));
  }
  for (const metric of report.metrics) {
    lines.push(
      row([
        'metric',
        metric.name,
        metric.aggregate,
        metric.value,
        metric.previous,
        metric.changePercent,
      ]),
    );
  }
  for (const [name, points] of Object.entries(report.series.values)) {
    for (const point of points ?? []) lines.push(row(['series', name, point.date, point.value]));
  }
  for (const funnel of report.funnels) {
    funnel.steps.forEach((step, index) => {
      lines.push(
        row(['funnel', funnel.name, `${index + 1}:${step.event}`, step.users, null, null]),
      );
    });
  }
  for (const cohort of report.retention?.cohorts ?? []) {
    cohort.retained.forEach((count, offset) => {
      lines.push(row(['retention', cohort.cohort, String(offset), count]));
    });
  }
  for (const channel of report.attribution?.channels ?? []) {
    const label = channelLabel(channel);
    for (const key of ['users', 'sessions', 'conversions', 'revenue'] as const) {
      lines.push(row(['attribution', label, key, channel[key]]));
    }
  }
  for (const point of report.forecast?.forecast ?? []) {
    lines.push(
      row([
        'forecast',
        report.forecast!.name,
        point.date,
        point.value,
        null,
        null,
        point.lower,
        point.upper,
      ]),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
