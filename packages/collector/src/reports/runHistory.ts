import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportFormat } from './reportConfig';
import type { DayRange } from './reportPeriod';

/** One run of a report schedule or an alert notification, as `GET /v1/reports/runs` lists it. */
export interface RunRecord {
  id: string;
  kind: 'report' | 'alert';
  /** The schedule's or the alert rule's id. */
  name: string;
  tenant: string;
  status: 'ok' | 'failed';
  attempts: number;
  error?: string;
  /** ISO timestamp. */
  startedAt: string;
  durationMs: number;
  /** `webhook <url without query>` or `directory <file>`. */
  destination: string;
  format?: ReportFormat;
  period?: DayRange;
  /** Alerts: the notification sent. */
  alertStatus?: 'firing' | 'resolved';
}

export interface RunHistory {
  append(record: RunRecord): void;
  /** Newest first, one tenant's only. */
  list(
    tenant: string,
    filter?: { name?: string; status?: 'ok' | 'failed'; limit?: number },
  ): RunRecord[];
  /** The JSONL file, or undefined when the history lives in memory only. */
  readonly file: string | undefined;
}

/**
 * Run history: appended to `<directory>/runs.jsonl` (one JSON record a line) so it survives a
 * restart, and kept in memory for reads; without a directory it lives in memory only. The file is
 * rewritten with the newest `keep` records once it holds twice as many. Unreadable lines (a crash
 * mid-append) are skipped.
 *
 * @example
 * const history = createRunHistory({ directory: '.sightline/reports' });
 * history.list('acme', { limit: 20 });
 */
export function createRunHistory(options: { directory?: string; keep?: number } = {}): RunHistory {
  const keep = options.keep ?? 5_000;
  const file = options.directory ? join(options.directory, 'runs.jsonl') : undefined;
  let records: RunRecord[] = [];
  let lines = 0;
  if (file) {
    mkdirSync(options.directory!, { recursive: true });
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      lines++;
      try {
        records.push(JSON.parse(line) as RunRecord);
      } catch {
        // A torn last line after a crash: skipped.
      }
    }
    records = records.slice(-keep);
  }

  function compact(): void {
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    renameSync(temporary, file!);
    lines = records.length;
  }

  return {
    file,
    append(record) {
      records.push(record);
      if (records.length > keep) records = records.slice(-keep);
      if (!file) return;
      appendFileSync(file, `${JSON.stringify(record)}\n`);
      lines++;
      if (lines >= 2 * keep) compact();
    },
    list(tenant, filter = {}) {
      const found: RunRecord[] = [];
      for (let index = records.length - 1; index >= 0; index--) {
        const record = records[index]!;
        if (record.tenant !== tenant) continue;
        if (filter.name !== undefined && record.name !== filter.name) continue;
        if (filter.status !== undefined && record.status !== filter.status) continue;
        found.push(record);
        if (found.length >= (filter.limit ?? 100)) break;
      }
      return found;
    },
  };
}
