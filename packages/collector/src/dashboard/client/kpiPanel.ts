import { type Dashboard, errorMessage } from './api';
import { createPanel, h, latestOnly } from './dom';
import { formatCount, formatDecimal, formatMoney, formatShare } from './format';
import type { DashboardPanel } from './scope';

type Kind = 'count' | 'money' | 'share' | 'ratio';

interface Kpi {
  id: string;
  label: string;
  kind: Kind;
  value(dashboard: Dashboard): number | null;
  hint: string;
  /** A rise is bad news (churn): its change is coloured as a fall. */
  lowerIsBetter?: boolean;
}

/** The cards, in order; definitions in docs/metrics.md. */
export const KPIS: readonly Kpi[] = [
  {
    id: 'dau',
    label: 'DAU',
    kind: 'count',
    value: (d) => d.dau,
    hint: 'Active users on the last day',
  },
  {
    id: 'wau',
    label: 'WAU',
    kind: 'count',
    value: (d) => d.wau,
    hint: 'Active users in the 7 days to the last day',
  },
  {
    id: 'mau',
    label: 'MAU',
    kind: 'count',
    value: (d) => d.mau,
    hint: 'Active users in the 30 days to the last day',
  },
  {
    id: 'stickiness',
    label: 'Stickiness',
    kind: 'share',
    value: (d) => (d.mau > 0 ? d.dau / d.mau : null),
    hint: 'DAU / MAU',
  },
  {
    id: 'newUsers',
    label: 'New users',
    kind: 'count',
    value: (d) => d.newUsers,
    hint: 'First seen in the range',
  },
  {
    id: 'revenue',
    label: 'Revenue',
    kind: 'money',
    value: (d) => d.revenue,
    hint: 'Sum of revenue in the range',
  },
  {
    id: 'conversion',
    label: 'Conversion',
    kind: 'share',
    value: (d) => d.conversion,
    hint: 'Signups of the range that paid',
  },
  {
    id: 'churn',
    label: 'Churn',
    kind: 'share',
    value: (d) => d.churn,
    hint: 'Monthly churn of the last month',
    lowerIsBetter: true,
  },
  {
    id: 'ltvCac',
    label: 'LTV/CAC',
    kind: 'ratio',
    value: (d) => d.ltvCac,
    hint: 'Lifetime value over acquisition cost',
  },
];

/** A KPI value as its card shows it (`–` when the API has none). */
export function formatKpi(kind: Kind, value: number | null): string {
  if (value === null) return '–';
  if (kind === 'count') return formatCount(value);
  if (kind === 'money') return formatMoney(value);
  if (kind === 'share') return formatShare(value);
  return formatDecimal(value);
}

/**
 * The change of a KPI against the previous period: percentage points for shares, else relative
 * change in percent; `–` when either value is missing or the previous one is 0.
 */
export function formatChange(kind: Kind, current: number | null, previous: number | null): string {
  if (current === null || previous === null) return '–';
  if (kind === 'share') {
    const points = (current - previous) * 100;
    return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(1)} pts`;
  }
  if (previous === 0) return '–';
  const percent = ((current - previous) / Math.abs(previous)) * 100;
  return `${percent >= 0 ? '+' : '−'}${Math.abs(percent).toFixed(1)}%`;
}

/** KPI cards with their change against the previous period of the same length. */
export function createKpiPanel(): DashboardPanel {
  const panel = createPanel('kpis', 'Key metrics');
  const requests = latestOnly();
  return {
    panel,
    async load({ api, range, tz }) {
      const current = requests.begin();
      panel.setState('loading');
      try {
        // One request: the collector computes both ranges in one pass over the data.
        const now = await api.get<Dashboard>('v1/dashboard', {
          ...range,
          tz,
          compare: 'previous',
        });
        if (!current()) return;
        const before = now.previous!;
        const previous = { from: before.from, to: before.to };
        const cards = KPIS.map((kpi) => {
          const value = kpi.value(now);
          const change = formatChange(kpi.kind, value, kpi.value(before));
          const rise = change.startsWith('+');
          const fall = change.startsWith('−');
          const good = kpi.lowerIsBetter ? fall : rise;
          const direction = !rise && !fall ? 'flat' : good ? 'good' : 'bad';
          return h(
            'li',
            { class: 'kpi', 'data-kpi': kpi.id },
            h('span', { class: 'kpi-label', title: kpi.hint }, kpi.label),
            h(
              'span',
              { class: 'kpi-value', 'data-value': value ?? '' },
              formatKpi(kpi.kind, value),
            ),
            h(
              'span',
              { class: `kpi-change ${direction}` },
              h('span', { class: 'change-value' }, change),
              h('span', { class: 'visually-hidden' }, ` vs ${previous.from} to ${previous.to}`),
            ),
          );
        });
        panel.body.replaceChildren(
          h(
            'ul',
            { class: 'kpi-grid', 'aria-label': `Key metrics, ${range.from} to ${range.to}` },
            ...cards,
          ),
          h('p', { class: 'note' }, `Change vs ${previous.from} – ${previous.to}.`),
        );
        panel.setState('ready');
      } catch (error) {
        if (current()) panel.setState('error', errorMessage(error));
      }
    },
  };
}
