import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore } from '@sightline/collector';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createExampleApp, type ExampleApp } from './app';

/**
 * The example app over real HTTP: requests through the middleware and the decorated service,
 * events delivered to the collector mounted in the same app, read back through its read API.
 */
let example: ExampleApp;
let server: Server;
let origin: string;

beforeAll(async () => {
  example = await createExampleApp({ store: await openStore('duckdb::memory:') });
  server = example.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  example.start(origin);
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await example.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-user-id': 'u-42' },
    body: JSON.stringify(body),
  });

it('tracks requests, decorated operations and their failures for the request user', async () => {
  expect((await post('/api/generations', { model: 'fast', prompt: 'a red fox' })).status).toBe(201);
  expect((await post('/api/generations', { model: 'fast', prompt: ' ' })).status).toBe(422);
  expect((await post('/api/projects', { name: 'My Fox' })).status).toBe(201);
  expect((await fetch(`${origin}/health`)).status).toBe(200);

  await example.flush();
  const response = await fetch(`${origin}/analytics/v1/events?limit=100`, {
    headers: { authorization: 'Bearer rk_example_node_api' },
  });
  const { events } = (await response.json()) as {
    events: Array<{ event: string; userId: string; properties: Record<string, unknown> }>;
  };
  const names = events.map((event) => event.event).reverse();
  expect(names).toEqual([
    'generation_started',
    'generation_completed',
    'api_request',
    'generation_started',
    'generation_failed',
    'api_request',
    'project_created',
    'api_request',
  ]);
  expect(events.every((event) => event.userId === 'u-42')).toBe(true);
  const completed = events.find((event) => event.event === 'generation_completed');
  expect(completed?.properties).toMatchObject({ model: 'fast', duration_ms: expect.any(Number) });
  const failed = events.find((event) => event.event === 'generation_failed');
  expect(failed?.properties).toMatchObject({
    error_class: 'Error',
    error_message: 'prompt is empty',
  });
  const request = events.find((event) => event.event === 'api_request');
  expect(request?.properties).toMatchObject({
    method: 'POST',
    route: '/api/projects',
    status: 201,
  });
});
