import { createCollector, openStore, type Store } from '@sightline/collector';
import { createExpressMiddleware } from '@sightline/collector/express';
import { sightlineExpress } from '@sightline/node/express';
import express, { type Express } from 'express';
import { createAppAnalytics } from './analytics';
import { createGenerationService } from './generationService';

export interface ExampleApp {
  app: Express;
  /** Call once the server listens: the analytics client sends to `<origin>/analytics`. */
  start(origin: string): void;
  /** Resolves once every event tracked so far reached the collector. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An Express API with Sightline end to end in one process: the collector mounted at /analytics
 * (embedded DuckDB), the request middleware (user from the `x-user-id` header), and a service
 * tracked by decorators. Events the handlers cause carry the request's user.
 *
 * @example
 * const example = await createExampleApp({ store: 'duckdb:.sightline/node-api.duckdb' });
 * const server = example.app.listen(3000, () => example.start('http://127.0.0.1:3000'));
 */
export async function createExampleApp(options: {
  store?: string | Store;
  writeKey?: string;
  readKey?: string;
}): Promise<ExampleApp> {
  const writeKey = options.writeKey ?? 'wk_example_node_api';
  const readKey = options.readKey ?? 'rk_example_node_api';
  const store =
    typeof options.store === 'object'
      ? options.store
      : await openStore(options.store ?? 'duckdb:.sightline/node-api.duckdb');
  const collector = createCollector({
    store,
    writeKeys: [`${writeKey}=example`],
    readKeys: [`${readKey}=example`],
  });
  await collector.ready();

  /** Set by start(): the client needs the server's address to reach the mounted collector. */
  let tracking:
    | {
        analytics: ReturnType<typeof createAppAnalytics>['analytics'];
        middleware: ReturnType<typeof sightlineExpress>;
        service: ReturnType<typeof createGenerationService>;
      }
    | undefined;
  const app = express();
  app.use('/analytics', createExpressMiddleware(collector));
  app.get('/health', (_request, response) => {
    response.json({ ok: true });
  });
  // Everything below runs in the request's context and is tracked as api_request.
  app.use((request, response, next) => {
    if (!tracking) {
      response.status(503).json({ error: 'starting' });
      return;
    }
    return tracking.middleware(request, response, next);
  });
  app.use(express.json());
  app.post('/api/generations', async (request, response) => {
    try {
      const { model = 'fast', prompt = '' } = request.body ?? {};
      response.status(201).json(await tracking!.service.generate(model, prompt));
    } catch (error) {
      response.status(422).json({ error: (error as Error).message });
    }
  });
  app.post('/api/projects', (request, response) => {
    response.status(201).json(tracking!.service.createProject(String(request.body?.name ?? '')));
  });

  return {
    app,
    start(origin) {
      const client = createAppAnalytics(`${origin}/analytics`, writeKey);
      tracking = {
        analytics: client.analytics,
        middleware: sightlineExpress({
          analytics: client.analytics,
          identify: (request) => ({ userId: request.get('x-user-id') }),
        }),
        service: createGenerationService(client),
      };
    },
    async flush() {
      await tracking?.analytics.flush();
    },
    async close() {
      await tracking?.analytics.close();
      await collector.close();
    },
  };
}
