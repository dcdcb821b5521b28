import type { Report } from './computeReport';
import { renderCsv } from './renderCsv';
import { renderHtml } from './renderHtml';
import type { ReportFormat } from './reportConfig';

export interface RenderedReport {
  format: ReportFormat;
  body: string;
  contentType: string;
  extension: string;
}

const CONTENT_TYPES: Record<ReportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

/**
 * A report rendered to JSON (the report object itself), CSV or self-contained HTML.
 *
 * @example
 * const { body, contentType } = renderReport(report, 'html');
 */
export function renderReport(report: Report, format: ReportFormat): RenderedReport {
  const body =
    format === 'json'
      ? `${JSON.stringify(report, null, 2)}\n`
      : format === 'csv'
        ? renderCsv(report)
        : renderHtml(report);
  return { format, body, contentType: CONTENT_TYPES[format], extension: format };
}
