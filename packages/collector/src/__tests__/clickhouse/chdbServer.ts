/**
 * ClickHouse's HTTP interface in front of chDB (the current ClickHouse engine, in-process), so the
 * ClickHouse store's tests also run on a current release. Every statement runs in ClickHouse
 * itself: this file only carries requests and answers, the way `clickhouse-server` would.
 *
 * Run as a child process: `node --import tsx chdbServer.ts <data directory> <port>`. It prints
 * `{"port":<port>}` on stdout once it listens, and keeps its data in the directory, so a process
 * started again on it sees the same databases.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { Session } from 'chdb';

/**
 * URL parameters the HTTP handler reads itself (or we have no use for): everything else is a
 * setting, as on `clickhouse-server`.
 */
const NOT_SETTINGS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'quota_key',
  'role',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'enable_http_compression',
  'http_zlib_compression_level',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'stacktrace',
  'client_protocol_version',
]);

/** A failed statement, answered as `clickhouse-server` answers it. */
interface Failure {
  code: number;
  message: string;
}

/**
 * Serves ClickHouse's HTTP interface on `127.0.0.1:port` from one chDB session on `dataDir`.
 * Statements run one at a time, in arrival order (a session is one connection).
 *
 * @example
 * await serveChdb('/tmp/ch-data', 18123);
 */
export async function serveChdb(dataDir: string, port: number): Promise<void> {
  const session = new Session(dataDir);
  const version = session.query('SELECT version()', 'TabSeparated').trim();
  /** Settings this session has now (from earlier requests), to set back when a request has none. */
  const applied = new Map<string, string>();
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs `sql` on `database` with exactly `settings` on top of the defaults. */
  const execute = async (
    sql: string,
    database: string,
    settings: Map<string, string>,
    format: string,
  ) => {
    // `USE` and `SET` last for the session: set what differs from the previous request, so one
    // request's database or settings never leak into the next.
    session.query(`USE ${quoteIdentifier(database)}`);
    for (const name of [...applied.keys()]) {
      if (!settings.has(name)) {
        session.query(`SET ${quoteIdentifier(name)} = DEFAULT`);
        applied.delete(name);
      }
    }
    for (const [name, value] of settings) {
      if (applied.get(name) === value) continue;
      session.query(`SET ${quoteIdentifier(name)} = ${quoteString(value)}`);
      applied.set(name, value);
    }
    // Off the event loop, with the raw bytes (a string would mangle non-UTF-8 `String`s).
    return session.queryAsync(sql, { format });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const params = url.searchParams;
    const body = decodeBody(request.headers['content-encoding'], await readAll(request));
    if (url.pathname === '/ping' || (!params.has('query') && body.length === 0)) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    // As the server does: the `query` parameter, then the body (an INSERT's data, or the SQL).
    const sql = [params.get('query'), body.toString('utf8')].filter(Boolean).join('\n');
    const settings = new Map<string, string>();
    for (const [name, value] of params) {
      if (name.startsWith('param_')) {
        fail(response, version, {
          code: 1,
          message: 'query parameters are not supported by the chDB test server',
        });
        return;
      }
      if (!NOT_SETTINGS.has(name) && !name.startsWith('http_')) settings.set(name, value);
    }
    const format = params.get('default_format') ?? 'TabSeparated';
    const queryId = params.get('query_id') ?? crypto.randomUUID();
    const run = queue.then(() =>
      execute(sql, params.get('database') ?? 'default', settings, format),
    );
    queue = run.catch(() => undefined);
    let result: Awaited<typeof run>;
    try {
      result = await run;
    } catch (error) {
      fail(response, version, failureOf(error));
      return;
    }
    let output = Buffer.from(result.bytes());
    const outputFormat = /\bFORMAT\s+(\w+)\s*;?\s*$/i.exec(sql)?.[1] ?? format;
    const headers: Record<string, string> = {
      'Content-Type': contentType(outputFormat),
      'X-ClickHouse-Format': outputFormat,
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Server-Display-Name': 'chdb',
      // chDB reports what it read; written counts are not available from it.
      'X-ClickHouse-Summary': JSON.stringify({
        read_rows: String(result.rowsRead),
        read_bytes: String(result.bytesRead),
        written_rows: '0',
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: '0',
        result_bytes: String(output.length),
        elapsed_ns: String(Math.round(result.elapsed * 1e9)),
      }),
    };
    if (params.get('enable_http_compression') === '1' && /\bgzip\b/.test(acceptEncoding(request))) {
      output = gzipSync(output);
      headers['Content-Encoding'] = 'gzip';
    }
    response.writeHead(200, headers).end(output);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) fail(response, version, { code: 1000, message: String(error) });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  // Closing the session lets ClickHouse finish its writes on a plain stop (SIGKILL skips this,
  // like a crash of the server).
  const shutdown = () => {
    server.close();
    queue.finally(() => {
      session.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

/** The error the server would send: the client reads the code and the `(TYPE)` from this text. */
function failureOf(error: unknown): Failure {
  const message = (error instanceof Error ? error.message : String(error)).replace(
    /^Query failed: /,
    '',
  );
  const code = Number(/^Code: (\d+)\./.exec(message)?.[1] ?? 1000);
  return { code, message: message.replace(/^Code: \d+\. (DB::Exception: )?/, '') };
}

function fail(response: ServerResponse, version: string, failure: Failure): void {
  response
    .writeHead(500, {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Exception-Code': String(failure.code),
    })
    .end(`Code: ${failure.code}. DB::Exception: ${failure.message} (version ${version})\n`);
}

function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The request body as sent before `Content-Encoding` (the client gzips it when asked to). */
function decodeBody(encoding: string | undefined, body: Buffer): Buffer {
  if (!encoding || encoding === 'identity') return body;
  if (encoding === 'gzip') return gunzipSync(body);
  if (encoding === 'deflate') return inflateSync(body);
  if (encoding === 'br') return brotliDecompressSync(body);
  throw new Error(`Content-Encoding ${encoding} is not supported by the chDB test server`);
}

function acceptEncoding(request: IncomingMessage): string {
  const value = request.headers['accept-encoding'];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

function contentType(format: string): string {
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8';
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8';
  return 'text/plain; charset=UTF-8';
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [dataDir, port] = process.argv.slice(2);
  if (!dataDir || !port) throw new Error('usage: chdbServer.ts <data directory> <port>');
  await serveChdb(dataDir, Number(port));
}
