/**
 * The baseline: a bare `node:http` server that reads each body, `JSON.parse`s it and answers
 * 200 `{"success":true}`. Nothing is validated or stored. Prints `{"port":n}` once listening;
 * SIGTERM closes it.
 */
import { createServer } from 'node:http';

const OK = JSON.stringify({ success: true });

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"success":false}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(OK);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});

process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
