/**
 * `pnpm --filter @sightline/example-node-api start`: the example API on http://127.0.0.1:3000 with
 * the collector mounted at /analytics. Try:
 *
 *   curl -X POST -H 'content-type: application/json' -H 'x-user-id: u-42' \
 *        -d '{"model":"fast","prompt":"a red fox"}' http://127.0.0.1:3000/api/generations
 *   curl -H 'authorization: Bearer rk_example_node_api' http://127.0.0.1:3000/analytics/v1/events
 */
import { createExampleApp } from './app';

const port = Number(process.env.PORT ?? 3000);
const example = await createExampleApp({});
const server = example.app.listen(port, '127.0.0.1', () => {
  example.start(`http://127.0.0.1:${port}`);
  console.log(`example API on http://127.0.0.1:${port} (collector at /analytics)`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void example.close().then(() => process.exit(0));
  });
}
