const RATIOS = new Set(['conversion', 'churn', 'stickiness']);
const MONEY = new Set(['revenue', 'arpu', 'ltv', 'cac']);
const LABELS: Record<string, string> = {
  dau: 'Daily active users',
  wau: 'Weekly active users',
  mau: 'Monthly active users',
  newUsers: 'New users',
  new_users: 'New users',
  revenue: 'Revenue',
  signups: 'Signups',
  conversion: 'Signup → payment conversion',
  churn: 'Monthly churn',
  arpu: 'ARPU (month)',
  ltv: 'LTV',
  cac: 'CAC',
  ltvCac: 'LTV / CAC',
  events: 'Events',
  stickiness: 'Stickiness (DAU / MAU)',
};

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const money = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const percent = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });

/** A metric or KPI's human label (`dau` → "Daily active users"); unknown names as given. */
export function metricLabel(name: string): string {
  return LABELS[name] ?? name;
}

/**
 * How a report shows a value of metric `name`: ratios as percentages, money with two decimals,
 * counts with thousands separators, means with up to two decimals, `—` for no value.
 *
 * @example
 * formatValue('conversion', 0.1234); // '12.3%'
 */
export function formatValue(name: string, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return '—';
  if (RATIOS.has(name)) return percent.format(value);
  if (MONEY.has(name)) return money.format(value);
  return Number.isInteger(value) ? whole.format(value) : decimal.format(value);
}

/** A relative change for display: `+12.5%`, `−3.0%`, or `—`. */
export function formatChange(changePercent: number | null): string {
  if (changePercent === null || !Number.isFinite(changePercent)) return '—';
  const sign = changePercent > 0 ? '+' : changePercent < 0 ? '−' : '±';
  return `${sign}${Math.abs(changePercent).toFixed(1)}%`;
}
