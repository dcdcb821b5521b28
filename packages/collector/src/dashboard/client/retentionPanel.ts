import { type Cohort, errorMessage } from './api';
import { createPanel, dataTable, field, h, latestOnly, select } from './dom';
import { formatCount } from './format';
import type { DashboardPanel, Scope } from './scope';

/**
 * A heatmap cell's colours: blue, darker for higher retention, with text dark or white so both
 * keep at least 4.5:1 contrast.
 */
export function heatColors(percent: number): { background: string; color: string } {
  const share = Math.max(0, Math.min(100, percent)) / 100;
  const lightness = Math.round(96 - share * 62); // 96 % (almost white) … 34 % (deep blue)
  return {
    background: `hsl(214 70% ${lightness}%)`,
    color: lightness < 58 ? '#ffffff' : '#10161d',
  };
}

/** A retention percentage as the heatmap shows it. */
export const formatPercent = (percent: number): string => `${percent.toFixed(1)}%`;

/** Cohort retention as a heatmap table: one row per cohort, one column per period. */
export function createRetentionPanel(): DashboardPanel {
  const interval = select(
    'retention-interval',
    [
      ['day', 'Days'],
      ['week', 'Weeks'],
      ['month', 'Months'],
    ],
    'week',
  );
  const periods = h('input', {
    name: 'periods',
    type: 'number',
    min: 1,
    max: 60,
    value: 8,
    inputmode: 'numeric',
  });
  const startEvent = h('input', {
    name: 'startEvent',
    list: 'event-names',
    placeholder: 'first event',
    autocomplete: 'off',
  });
  const returnEvent = h('input', {
    name: 'returnEvent',
    list: 'event-names',
    placeholder: 'any event',
    autocomplete: 'off',
  });
  const form = h(
    'form',
    { class: 'controls', 'aria-label': 'Retention settings' },
    field('Interval', interval),
    field('Periods', periods),
    field('Start event', startEvent),
    field('Return event', returnEvent),
    h('button', { type: 'submit' }, 'Update'),
  );
  const panel = createPanel('retention', 'Retention', form);
  const requests = latestOnly();
  let scope: Scope | undefined;

  async function load(next: Scope) {
    scope = next;
    const current = requests.begin();
    panel.setState('loading');
    const count = Math.max(1, Math.min(60, Math.round(Number(periods.value) || 8)));
    try {
      const { cohorts } = await next.api.post<{ cohorts: Cohort[] }>('v1/retention', {
        interval: interval.value,
        periods: count,
        startEvent: startEvent.value.trim() || undefined,
        returnEvent: returnEvent.value.trim() || undefined,
        ...next.range,
        tz: next.tz,
      });
      if (!current()) return;
      const headers = [
        'Cohort',
        'Users',
        ...Array.from({ length: count }, (_, k) => `${interval.value} ${k}`),
      ];
      const rows = cohorts.map((cohort) => [
        cohort.cohort,
        formatCount(cohort.size),
        ...Array.from({ length: count }, (_, k) => {
          const percent = cohort.percent[k];
          if (percent === undefined) return h('td', { class: 'num empty' }, '');
          const cell = h(
            'td',
            {
              class: 'num heat',
              title: `${formatCount(cohort.retained[k] ?? 0)} of ${formatCount(cohort.size)} users`,
            },
            formatPercent(percent),
          );
          const colors = heatColors(percent);
          cell.style.backgroundColor = colors.background;
          cell.style.color = colors.color;
          return cell;
        }),
      ]);
      panel.body.replaceChildren(
        cohorts.length === 0
          ? h('p', { class: 'note' }, 'No cohorts in this range.')
          : dataTable(
              `Retention by ${interval.value} cohort, percent of the cohort`,
              headers,
              rows,
              {
                numericFrom: 1,
              },
            ),
      );
      panel.setState('ready');
    } catch (error) {
      if (current()) panel.setState('error', errorMessage(error));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (scope) void load(scope);
  });
  interval.addEventListener('change', () => {
    if (scope) void load(scope);
  });
  return { panel, load };
}
