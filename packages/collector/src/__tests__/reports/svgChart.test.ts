import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../reports/escapeHtml';
import { CHART_MARGIN, niceScale, renderBarChart, renderLineChart } from '../../reports/svgChart';

function polylinePoints(svg: string): Array<[number, number]> {
  const match = /<polyline points="([^"]+)"/.exec(svg);
  if (!match?.[1]) throw new Error(`no polyline in ${svg}`);
  return match[1].split(' ').map((pair) => pair.split(',').map(Number) as [number, number]);
}

describe('niceScale', () => {
  it('starts at 0, ends at a round value at or above the maximum, with evenly spaced ticks', () => {
    const scale = niceScale(3, 87);
    expect(scale.min).toBe(0);
    expect(scale.max).toBeGreaterThanOrEqual(87);
    expect(scale.ticks[0]).toBe(0);
    expect(scale.ticks.at(-1)).toBe(scale.max);
    const steps = scale.ticks.slice(1).map((tick, index) => tick - scale.ticks[index]!);
    expect(new Set(steps).size).toBe(1);
  });

  it('covers negative values and a flat zero series', () => {
    expect(niceScale(-12, 5).min).toBeLessThanOrEqual(-12);
    expect(niceScale(0, 0).max).toBeGreaterThan(0);
  });
});

describe('renderLineChart', () => {
  it('maps the first and last values to the plot corners: x spread over the width, y by the scale', () => {
    const svg = renderLineChart({
      title: 'DAU',
      labels: ['2024-01-01', '2024-01-02', '2024-01-03'],
      series: [{ name: 'dau', values: [0, 50, 100] }],
      width: 400,
      height: 200,
    });
    const points = polylinePoints(svg);
    expect(points).toHaveLength(3);
    expect(points[0]![0]).toBe(CHART_MARGIN.left);
    expect(points[2]![0]).toBe(400 - CHART_MARGIN.right);
    // Value 0 sits on the bottom of the plot; 100 at the top (the scale's max is exactly 100).
    expect(points[0]![1]).toBe(200 - CHART_MARGIN.bottom);
    expect(points[2]![1]).toBe(CHART_MARGIN.top);
    expect(points[1]![1]).toBeCloseTo((CHART_MARGIN.top + 200 - CHART_MARGIN.bottom) / 2, 1);
  });

  it('is accessible: role img, a title and a description naming the series and range', () => {
    const svg = renderLineChart({
      title: 'Revenue per day',
      labels: ['a', 'b'],
      series: [{ name: 'revenue', values: [1, 2] }],
    });
    expect(svg).toMatch(
      /^<svg [^>]*role="img"[^>]*aria-labelledby="(chart-[0-9a-z-]+)-title \1-desc"/,
    );
    // The same chart renders the same bytes (reports delivered twice are identical).
    expect(
      renderLineChart({
        title: 'Revenue per day',
        labels: ['a', 'b'],
        series: [{ name: 'revenue', values: [1, 2] }],
      }),
    ).toBe(svg);
    expect(svg).toContain('>Revenue per day</title>');
    expect(svg).toContain('revenue from a to b</desc>');
  });

  it('escapes hostile labels and series names', () => {
    const hostile = '<script>alert(1)</script>"onload="x';
    const svg = renderLineChart({
      title: hostile,
      labels: [hostile, hostile],
      series: [{ name: hostile, values: [1, 2] }],
    });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('"onload="');
    expect(svg).toContain(escapeHtml(hostile));
  });

  it('leaves gaps for null values and draws a band polygon for intervals', () => {
    const svg = renderLineChart({
      title: 'forecast',
      labels: ['1', '2', '3', '4', '5'],
      series: [
        { name: 'actual', values: [1, 2, null, null, null] },
        {
          name: 'forecast',
          dashed: true,
          values: [null, null, 3, 4, 5],
          band: [
            null,
            null,
            { lower: 2, upper: 4 },
            { lower: 3, upper: 5 },
            { lower: 4, upper: 6 },
          ],
        },
      ],
    });
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="6 4"');
    const polygon = /<polygon points="([^"]+)"/.exec(svg)?.[1]?.split(' ');
    expect(polygon).toHaveLength(6);
  });
});

describe('renderBarChart', () => {
  it('draws bars whose heights are proportional to the values', () => {
    const svg = renderBarChart({
      title: 'Funnel',
      bars: [
        { label: 'visit', value: 100 },
        { label: 'signup', value: 25 },
      ],
    });
    const heights = [
      ...svg.matchAll(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill/g),
    ].map((match) => Number(match[1]));
    expect(heights).toHaveLength(2);
    expect(heights[0]! / heights[1]!).toBeCloseTo(4, 1);
    expect(svg).toContain('<title>visit: 100</title>');
  });

  it('escapes bar labels', () => {
    const svg = renderBarChart({
      title: 't',
      bars: [{ label: '<img src=x onerror=alert(1)>', value: 1 }],
    });
    expect(svg).not.toContain('<img');
  });
});
