import { escapeHtml } from './escapeHtml';

/** One line of a line chart; `null` values leave a gap. */
export interface LineSeries {
  name: string;
  values: ReadonlyArray<number | null>;
  /** Drawn dashed (forecasts). */
  dashed?: boolean;
  /** A shaded band around the line (prediction intervals), same length as `values`. */
  band?: ReadonlyArray<{ lower: number; upper: number } | null>;
}

export interface LineChartInput {
  title: string;
  /** One label per x position (dates). */
  labels: readonly string[];
  series: readonly LineSeries[];
  width?: number;
  height?: number;
  /** Prefix of the ids `<title>` and `<desc>` get; default: derived from the title. */
  id?: string;
}

export interface BarChartInput {
  title: string;
  bars: ReadonlyArray<{ label: string; value: number }>;
  width?: number;
  height?: number;
  /** Prefix of the ids `<title>` and `<desc>` get; default: derived from the title. */
  id?: string;
}

/** Geometry shared by both charts: the plot area inside the SVG's view box. */
export const CHART_MARGIN = { top: 28, right: 16, bottom: 36, left: 56 } as const;
const COLORS = ['#2563eb', '#d97706', '#059669', '#9333ea', '#dc2626', '#0891b2'];

/** A stable id from the chart's title (FNV-1a), so the same report renders the same bytes. */
function chartId(title: string, given: string | undefined): string {
  if (given !== undefined) return given;
  let hash = 0x811c9dc5;
  for (let index = 0; index < title.length; index++) {
    hash = Math.imul(hash ^ title.charCodeAt(index), 0x01000193) >>> 0;
  }
  return `chart-${hash.toString(16)}`;
}

/** A y scale from 0 (or the minimum, when negative) to a rounded maximum, with ~5 ticks. */
export function niceScale(min: number, max: number): { min: number; max: number; ticks: number[] } {
  const low = Math.min(0, min);
  let high = Math.max(max, low);
  if (high === low) high = low + 1;
  const rough = (high - low) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((factor) => factor * magnitude >= rough) ?? 10) * magnitude;
  const top = Math.ceil(high / step) * step;
  const bottom = Math.floor(low / step) * step;
  const ticks: number[] = [];
  for (let tick = bottom; tick <= top + step / 2; tick += step) ticks.push(round(tick));
  return { min: bottom, max: top, ticks };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function coordinate(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function tickLabel(value: number): string {
  const absolute = Math.abs(value);
  if (absolute >= 1e6) return `${round(value / 1e6)}M`;
  if (absolute >= 1e4) return `${round(value / 1e3)}k`;
  return String(round(value));
}

function opening(id: string, title: string, width: number, height: number, description: string) {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc" class="chart">` +
    `<title id="${id}-title">${escapeHtml(title)}</title><desc id="${id}-desc">${escapeHtml(description)}</desc>`
  );
}

function yAxis(scale: ReturnType<typeof niceScale>, y: (value: number) => number, width: number) {
  return scale.ticks
    .map(
      (tick) =>
        `<line x1="${CHART_MARGIN.left}" x2="${width - CHART_MARGIN.right}" y1="${coordinate(y(tick))}" y2="${coordinate(y(tick))}" stroke="#e5e7eb"/>` +
        `<text x="${CHART_MARGIN.left - 6}" y="${coordinate(y(tick) + 4)}" text-anchor="end" font-size="11" fill="#4b5563">${tickLabel(tick)}</text>`,
    )
    .join('');
}

/**
 * A line chart as a self-contained SVG string: one polyline per series, optional dashed lines and
 * shaded bands, a y axis with rounded ticks, first/middle/last x labels, `<title>` and `<desc>`
 * for screen readers. Every label is escaped.
 *
 * @example
 * renderLineChart({ title: 'DAU', labels: ['2024-01-01', '2024-01-02'], series: [{ name: 'dau', values: [3, 5] }] });
 */
export function renderLineChart(input: LineChartInput): string {
  const width = input.width ?? 640;
  const height = input.height ?? 240;
  const plotWidth = width - CHART_MARGIN.left - CHART_MARGIN.right;
  const plotHeight = height - CHART_MARGIN.top - CHART_MARGIN.bottom;
  const numbers = input.series.flatMap((line) => [
    ...line.values.filter((value): value is number => value !== null && Number.isFinite(value)),
    ...(line.band ?? []).flatMap((band) => (band ? [band.lower, band.upper] : [])),
  ]);
  const scale = niceScale(Math.min(0, ...numbers), Math.max(0, ...numbers));
  const count = input.labels.length;
  const x = (index: number) =>
    CHART_MARGIN.left + (count <= 1 ? plotWidth / 2 : (index / (count - 1)) * plotWidth);
  const y = (value: number) =>
    CHART_MARGIN.top + plotHeight - ((value - scale.min) / (scale.max - scale.min)) * plotHeight;

  const parts = [
    opening(
      chartId(input.title, input.id),
      input.title,
      width,
      height,
      `${input.series.map((line) => line.name).join(', ')} from ${input.labels[0] ?? '—'} to ${input.labels.at(-1) ?? '—'}`,
    ),
    yAxis(scale, y, width),
  ];
  input.series.forEach((line, index) => {
    const color = COLORS[index % COLORS.length]!;
    if (line.band) {
      const upper: string[] = [];
      const lower: string[] = [];
      line.band.forEach((band, at) => {
        if (!band) return;
        upper.push(`${coordinate(x(at))},${coordinate(y(band.upper))}`);
        lower.unshift(`${coordinate(x(at))},${coordinate(y(band.lower))}`);
      });
      if (upper.length > 0) {
        parts.push(
          `<polygon points="${[...upper, ...lower].join(' ')}" fill="${color}" fill-opacity="0.15" stroke="none"/>`,
        );
      }
    }
    for (const segment of segments(line.values)) {
      const points = segment.map((at) => `${coordinate(x(at))},${coordinate(y(line.values[at]!))}`);
      const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
      parts.push(
        points.length === 1
          ? `<circle cx="${points[0]!.split(',')[0]}" cy="${points[0]!.split(',')[1]}" r="3" fill="${color}"/>`
          : `<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
      );
    }
  });
  const labelAt = [...new Set([0, Math.floor((count - 1) / 2), count - 1])].filter(
    (at) => at >= 0 && at < count,
  );
  for (const at of labelAt) {
    parts.push(
      `<text x="${coordinate(x(at))}" y="${height - CHART_MARGIN.bottom + 18}" text-anchor="middle" font-size="11" fill="#4b5563">${escapeHtml(input.labels[at]!)}</text>`,
    );
  }
  // The legend, top left, one entry per series.
  let legendX = CHART_MARGIN.left;
  input.series.forEach((line, index) => {
    const color = COLORS[index % COLORS.length]!;
    parts.push(
      `<rect x="${legendX}" y="8" width="10" height="10" fill="${color}"/><text x="${legendX + 14}" y="17" font-size="12" fill="#111827">${escapeHtml(line.name)}</text>`,
    );
    legendX += 24 + line.name.length * 7;
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Runs of consecutive finite values, as index lists. */
function segments(values: ReadonlyArray<number | null>): number[][] {
  const runs: number[][] = [];
  let current: number[] = [];
  values.forEach((value, index) => {
    if (value !== null && Number.isFinite(value)) current.push(index);
    else if (current.length > 0) {
      runs.push(current);
      current = [];
    }
  });
  if (current.length > 0) runs.push(current);
  return runs;
}

/**
 * A vertical bar chart as a self-contained SVG string (funnel steps, channels), labels escaped.
 *
 * @example
 * renderBarChart({ title: 'Signup funnel', bars: [{ label: 'visit', value: 100 }, { label: 'signup', value: 20 }] });
 */
export function renderBarChart(input: BarChartInput): string {
  const width = input.width ?? 640;
  const height = input.height ?? 240;
  const plotWidth = width - CHART_MARGIN.left - CHART_MARGIN.right;
  const plotHeight = height - CHART_MARGIN.top - CHART_MARGIN.bottom;
  const values = input.bars.map((bar) => (Number.isFinite(bar.value) ? bar.value : 0));
  const scale = niceScale(Math.min(0, ...values), Math.max(0, ...values));
  const y = (value: number) =>
    CHART_MARGIN.top + plotHeight - ((value - scale.min) / (scale.max - scale.min)) * plotHeight;
  const slot = plotWidth / Math.max(1, input.bars.length);
  const barWidth = Math.max(2, slot * 0.7);
  const parts = [
    opening(
      chartId(input.title, input.id),
      input.title,
      width,
      height,
      input.bars.map((bar) => `${bar.label}: ${tickLabel(bar.value)}`).join('; '),
    ),
    yAxis(scale, y, width),
  ];
  input.bars.forEach((bar, index) => {
    const value = values[index]!;
    const left = CHART_MARGIN.left + index * slot + (slot - barWidth) / 2;
    const top = Math.min(y(value), y(0));
    const barHeight = Math.abs(y(value) - y(0));
    parts.push(
      `<rect x="${coordinate(left)}" y="${coordinate(top)}" width="${coordinate(barWidth)}" height="${coordinate(barHeight)}" fill="${COLORS[0]}"><title>${escapeHtml(`${bar.label}: ${value}`)}</title></rect>`,
      `<text x="${coordinate(left + barWidth / 2)}" y="${height - CHART_MARGIN.bottom + 18}" text-anchor="middle" font-size="11" fill="#4b5563">${escapeHtml(truncate(bar.label, Math.max(4, Math.floor(slot / 7))))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
