import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  at: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Whether `Sightline-Signature` matched an HMAC-SHA256 of `<t>.<body>` computed here. */
  signatureValid: boolean;
  status: number;
}

/**
 * A real HTTP webhook receiver on a loopback port. It checks each delivery's signature the way
 * docs/reports.md tells receivers to (independently of the collector's code) and answers the
 * status `answer(n)` gives for the n-th request (1-based).
 */
export async function startWebhookServer(
  secret: string,
  answer: (request: number) => number = () => 200,
) {
  const received: ReceivedDelivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = String(request.headers['sightline-signature'] ?? '');
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      let signatureValid = false;
      if (match) {
        const expected = createHmac('sha256', secret).update(`${match[1]}.${body}`).digest();
        const fresh = Math.abs(Date.now() / 1000 - Number(match[1])) < 300;
        signatureValid = fresh && timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
      }
      const status = signatureValid ? answer(received.length + 1) : 401;
      received.push({ at: Date.now(), headers: request.headers, body, signatureValid, status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook?token=abc`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
