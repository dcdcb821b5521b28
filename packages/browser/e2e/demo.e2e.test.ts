import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Harness, startHarness, WRITE_KEY } from './harness';

/**
 * The demo page `npm start` serves (examples/browser-demo/server.mjs, run as its own process as
 * scripts/dev.mjs runs it) tracks through data attributes into the real collector.
 */
const SERVER = fileURLToPath(new URL('../../../examples/browser-demo/server.mjs', import.meta.url));
let harness: Harness;
let demo: ChildProcess;
let demoUrl: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  harness = await startHarness();
  const port = await freePort();
  demoUrl = `http://127.0.0.1:${port}`;
  demo = spawn(process.execPath, [SERVER], {
    env: {
      ...process.env,
      DEMO_PORT: String(port),
      SIGHTLINE_COLLECTOR_URL: harness.collectorUrl,
      SIGHTLINE_WRITE_KEY: WRITE_KEY,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    demo.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('demo page:')) resolve();
    });
    demo.once('exit', (code) => reject(new Error(`the demo server exited (${code})`)));
  });
});
afterAll(async () => {
  demo?.kill();
  await harness?.close();
});

it('the demo page tracks its data-attribute button, form and SPA links into the collector', async () => {
  const page = await (await harness.browser.newContext()).newPage();
  await page.goto(`${demoUrl}/`);
  await page.waitForFunction(() => !Array.isArray((window as { sightline?: unknown }).sightline));
  const anonymousId = await page.evaluate(
    () =>
      (window as unknown as { sightline: { user(): { anonymousId: string } } }).sightline.user()
        .anonymousId,
  );
  await page.click('text=Generate');
  await page.click('text=Choose Pro (yearly)');
  await page.fill('input[name="email"]', 'ada@example.com');
  await page.click('button[type="submit"]');
  await page.click('text=Pricing (SPA navigation)');
  await page.evaluate(() =>
    (window as unknown as { sightline: { flush(): Promise<void> } }).sightline.flush(),
  );
  const events = (await harness.events()).filter((event) => event.anonymousId === anonymousId);
  expect(events.map((event) => event.event ?? event.type)).toEqual([
    'page',
    'feature_click',
    'plan_selected',
    'form_started',
    'form_submitted',
    'page',
  ]);
  expect(events[2]?.properties).toEqual({ plan: 'pro', billing_cycle: 'yearly' });
});
