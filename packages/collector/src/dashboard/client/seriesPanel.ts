import { errorMessage, type SeriesPoint } from './api';
import { barChart, chartBox, lineChart } from './chart';
import { daySeconds } from './dates';
import { createPanel, dataTable, field, h, latestOnly, select } from './dom';
import { formatCount, formatMoney, formatShare } from './format';
import type { DashboardPanel, Scope } from './scope';

const METRICS = [
  ['dau', 'Daily active users'],
  ['wau', 'Weekly active users'],
  ['mau', 'Monthly active users'],
  ['stickiness', 'Stickiness (DAU/MAU)'],
  ['new_users', 'New users'],
  ['events', 'Events'],
  ['revenue', 'Revenue'],
] as const;

/** How the series panel formats a metric's values. */
export function formatMetric(metric: string, value: number): string {
  if (metric === 'stickiness') return formatShare(value);
  if (metric === 'revenue') return formatMoney(value);
  return formatCount(value);
}

/** A time series of any metric (and of any event's count), as a chart and a data table. */
export function createSeriesPanel(): DashboardPanel {
  const metric = select('metric', METRICS, 'dau');
  const interval = select(
    'interval',
    [
      ['day', 'By day'],
      ['week', 'By week'],
      ['month', 'By month'],
    ],
    'day',
  );
  const event = h('input', {
    name: 'event',
    list: 'event-names',
    placeholder: 'all events',
    autocomplete: 'off',
  });
  const eventField = field('Event', event);
  const panel = createPanel(
    'series',
    'Trends',
    field('Metric', metric),
    field('Interval', interval),
    eventField,
  );
  const requests = latestOnly();
  let scope: Scope | undefined;

  const syncEventField = () => {
    const wanted = metric.value === 'events';
    eventField.hidden = !wanted;
    event.disabled = !wanted;
  };
  syncEventField();

  async function load(next: Scope) {
    scope = next;
    const current = requests.begin();
    panel.setState('loading');
    const name = metric.value;
    const eventName = name === 'events' ? event.value.trim() : '';
    try {
      const { series } = await next.api.get<{ series: Record<string, SeriesPoint[]> }>(
        'v1/metrics',
        {
          names: name,
          ...next.range,
          tz: next.tz,
          interval: interval.value,
          event: eventName || undefined,
        },
      );
      if (!current()) return;
      const points = series[name] ?? [];
      const label = `${METRICS.find(([value]) => value === name)?.[1] ?? name}${eventName ? ` (${eventName})` : ''}`;
      const chart = chartBox(
        `${label}, ${interval.value === 'day' ? 'daily' : `${interval.value}ly`} chart`,
      );
      const format = (value: number) => formatMetric(name, value);
      panel.body.replaceChildren(
        chart,
        h(
          'details',
          { class: 'data' },
          h('summary', {}, 'Data table'),
          dataTable(
            label,
            ['Date', 'Value'],
            points.map((point) => [point.date, format(point.value)]),
            {
              numericFrom: 1,
            },
          ),
        ),
      );
      // uPlot draws no line through a single point: one period is a bar.
      if (points.length === 1)
        barChart(chart, label, [points[0]!.date], [points[0]!.value], format);
      else
        lineChart(
          chart,
          label,
          points.map((point) => daySeconds(point.date)),
          points.map((point) => point.value),
          format,
        );
      panel.setState('ready');
    } catch (error) {
      if (current()) panel.setState('error', errorMessage(error));
    }
  }

  for (const control of [metric, interval]) {
    control.addEventListener('change', () => {
      syncEventField();
      if (scope) void load(scope);
    });
  }
  event.addEventListener('change', () => {
    if (scope) void load(scope);
  });
  return { panel, load };
}
