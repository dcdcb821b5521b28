import uPlot from 'uplot';
import { h } from './dom';

const LINE = '#1f5fbf';
const BAR = '#2f7d4f';
const GRID = '#e3e6ea';
const AXIS = '#333a42';

/** uPlot sized to its container: redrawn at the container's width (phones included). */
function mount(
  container: HTMLElement,
  options: Omit<uPlot.Options, 'width'>,
  data: uPlot.AlignedData,
) {
  container.replaceChildren();
  const width = () => Math.max(240, Math.floor(container.clientWidth));
  const chart = new uPlot({ ...options, width: width() }, data, container);
  const observer = new ResizeObserver(() => {
    if (!container.isConnected) {
      observer.disconnect();
      chart.destroy();
      return;
    }
    if (chart.width !== width()) chart.setSize({ width: width(), height: options.height });
  });
  observer.observe(container);
  return chart;
}

const axis = (extra: Partial<uPlot.Axis> = {}): uPlot.Axis => ({
  stroke: AXIS,
  grid: { stroke: GRID, width: 1 },
  ticks: { stroke: GRID, width: 1 },
  ...extra,
});

/**
 * A line chart of one daily/weekly/monthly series: `days` as Unix seconds (00:00 UTC of each
 * period's first day, labelled in UTC so labels are the API's dates).
 */
export function lineChart(
  container: HTMLElement,
  label: string,
  days: number[],
  values: number[],
  format: (value: number) => string,
): void {
  mount(
    container,
    {
      height: 240,
      tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
      scales: { y: { range: (_chart, min, max) => [Math.min(0, min), max > 0 ? max * 1.05 : 1] } },
      series: [
        {},
        {
          label,
          stroke: LINE,
          width: 2,
          fill: 'rgba(31, 95, 191, 0.08)',
          value: (_c, v) => (v === null ? '–' : format(v)),
        },
      ],
      axes: [axis(), axis({ size: 60, values: (_chart, ticks) => ticks.map(format) })],
    },
    [days, values],
  );
}

/** A bar chart of labelled values (the funnel's steps). */
export function barChart(
  container: HTMLElement,
  label: string,
  labels: string[],
  values: number[],
  format: (value: number) => string,
): void {
  const bars = uPlot.paths.bars?.({ size: [0.6, 120], align: 0 });
  mount(
    container,
    {
      height: 240,
      scales: {
        x: { time: false, range: [-0.5, labels.length - 0.5] },
        y: { range: (_c, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      cursor: { points: { show: false } },
      series: [
        { value: (_chart, index) => labels[index] ?? '' },
        {
          label,
          fill: BAR,
          stroke: BAR,
          paths: bars,
          points: { show: false },
          value: (_c, v) => (v === null ? '–' : format(v)),
        },
      ],
      axes: [
        axis({
          grid: { show: false },
          splits: () => labels.map((_, index) => index),
          // Narrow charts (phones) number the bars; the table below names them.
          values: (chart, ticks) =>
            ticks.map((tick) =>
              chart.width / labels.length < 120 ? String(tick + 1) : (labels[tick] ?? ''),
            ),
        }),
        axis({ size: 60, values: (_chart, ticks) => ticks.map(format) }),
      ],
    },
    [labels.map((_, index) => index), values],
  );
}

/** A chart's container, with an accessible name (the canvas itself says nothing to a reader). */
export function chartBox(label: string): HTMLElement {
  return h('div', { class: 'chart', role: 'img', 'aria-label': label });
}
