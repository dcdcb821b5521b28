import type { ClickHouseClient } from '@clickhouse/client';
import { ConfigurationError } from '@sightline/core';
import type { Row } from '../store';

/** Where a ClickHouse store lives, parsed from `clickhouse://[user[:password]@]host[:port]/db`. */
export interface ClickHouseLocation {
  /** `http://host:port` of the HTTP interface. */
  httpUrl: string;
  database: string;
  username: string;
  password: string;
}

/**
 * Parses a `clickhouse://` store URL. The database defaults to `default`, the port to 8123.
 *
 * @example
 * parseClickHouseUrl('clickhouse://localhost:8123/analytics').database; // 'analytics'
 */
export function parseClickHouseUrl(url: string): ClickHouseLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError('store', 'use clickhouse://host:8123/database');
  }
  if (parsed.protocol !== 'clickhouse:' || !parsed.hostname) {
    throw new ConfigurationError('store', 'use clickhouse://host:8123/database');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'default';
  // The name is spliced into DDL as an identifier: only plain names.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new ConfigurationError(
      'store',
      `ClickHouse database "${database}" must be letters, digits and underscores`,
    );
  }
  return {
    httpUrl: `http://${parsed.hostname}:${parsed.port || '8123'}`,
    database,
    username: decodeURIComponent(parsed.username) || 'default',
    password: decodeURIComponent(parsed.password),
  };
}

/** A result column as ClickHouse's `FORMAT JSON` describes it. */
interface ColumnMeta {
  name: string;
  type: string;
}

/**
 * The statements a ClickHouse store sends, over `@clickhouse/client` (which works with 18.16 as
 * long as no query parameters or settings newer than the server are used: values arrive already
 * encoded by `literal.ts`).
 */
export class ClickHouseConnection {
  constructor(readonly client: ClickHouseClient) {}

  /** Runs a statement that returns nothing (DDL, `ALTER … DELETE`, `INSERT … VALUES`). */
  async command(text: string): Promise<void> {
    await this.client.command({ query: text });
  }

  /** Rows of a `SELECT`, 64-bit integers as numbers (JSON quotes them as text). */
  async rows(text: string): Promise<Row[]> {
    const result = await this.client.query({ query: text, format: 'JSON' });
    const body = (await result.json()) as unknown as { meta: ColumnMeta[]; data: Row[] };
    const numeric = body.meta
      .filter((column) => /^(Nullable\()?U?Int64\)?$/.test(column.type))
      .map((column) => column.name);
    if (numeric.length === 0) return body.data;
    for (const row of body.data) {
      for (const name of numeric) {
        const value = row[name];
        if (typeof value === 'string') row[name] = Number(value);
      }
    }
    return body.data;
  }

  /** Inserts `rows` as JSON (data, never SQL text). Resolves once the server has written them. */
  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table,
      values: rows as Record<string, unknown>[],
      format: 'JSONEachRow',
    });
  }
}
