import type { Row } from '../store/store';
import { API_EVENT_FIELDS } from './apiEvent';

/** First characters that make spreadsheet apps read a cell as a formula (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** Cells RFC 4180 requires quoting. */
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell: text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR
 * first) gets a leading `'`, then the cell is quoted per RFC 4180 when it holds a comma, a quote,
 * CR or LF (quotes doubled). `null` is the empty cell. Numbers from numeric columns are written
 * as they are: `-5` is a refund, not a formula.
 *
 * @example
 * csvCell('=HYPERLINK("http://x")'); // '"\'=HYPERLINK(""http://x"")"'
 * csvCell(-5); // '-5'
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One CSV record, CRLF-terminated (RFC 4180). */
export function csvLine(cells: ReadonlyArray<string | number | null>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The header record of event exports: the API field names. */
export const EVENT_CSV_HEADER = csvLine(API_EVENT_FIELDS);

/**
 * A row selected with `EVENT_SELECT` as one CSV record, columns in `API_EVENT_FIELDS` order:
 * times as ISO 8601, `properties`/`traits`/`context` as their stored JSON text.
 *
 * @example
 * controller.enqueue(encoder.encode(rows.map(eventCsvLine).join('')));
 */
export function eventCsvLine(row: Row): string {
  return csvLine(
    API_EVENT_FIELDS.map((field) => {
      const value = row[field];
      if (value === null || value === undefined) return null;
      if (field === 'timestamp' || field === 'receivedAt' || field === 'sentAt') {
        return new Date(Number(value)).toISOString();
      }
      if (field === 'revenue') return Number(value);
      return String(value);
    }),
  );
}
