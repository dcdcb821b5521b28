/**
 * Number formats of the dashboard, fixed to `en-US` so what a page shows is the same on every
 * machine (the browser tests compare it with the API's numbers).
 */
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const money = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** `1234.4` → `1,234`. */
export const formatCount = (value: number): string => whole.format(value);
/** `1234.5` → `1,234.50`. */
export const formatMoney = (value: number): string => money.format(value);
/** `0.1234` → `12.3%`. */
export const formatShare = (value: number): string => `${(value * 100).toFixed(1)}%`;
/** `3.14159` → `3.14`. */
export const formatDecimal = (value: number): string => decimal.format(value);

/** Seconds as the largest whole unit: `90` → `1.5 min`. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 60) return `${decimal.format(seconds)} s`;
  if (seconds < 3600) return `${decimal.format(seconds / 60)} min`;
  if (seconds < 86_400) return `${decimal.format(seconds / 3600)} h`;
  return `${decimal.format(seconds / 86_400)} d`;
}

/** An ISO timestamp as `YYYY-MM-DD HH:MM:SS` in `tz`. */
export function formatTime(iso: string, tz: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(date);
  const part = (type: string) => parts.find((each) => each.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}:${part('second')}`;
}
