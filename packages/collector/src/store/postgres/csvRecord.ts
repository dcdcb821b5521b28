/**
 * One CSV record of `fields`, as the DuckDB store's `COPY … (FORMAT csv)` writes it (RFC 4180):
 * comma-separated, CRLF-terminated, a field quoted when it holds a comma, quote, CR or LF (or is
 * empty text, so it differs from NULL), quotes doubled; NULL as an empty field.
 *
 * @example
 * csvRecord(['a', null, '', 'say "hi"']); // 'a,,"","say ""hi"""\r\n'
 */
export function csvRecord(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  if (text === '') return '""';
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
