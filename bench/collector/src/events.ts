/**
 * Request bodies for the ingest benchmark: `POST /v1/batch` bodies of realistic track events
 * (3–5 properties, a browser context with user agent and page URL), each request with unique
 * message ids. Bodies are built from a pool of pre-serialised templates: per request only the
 * ids are spliced in, so the load generator stays cheap next to the server it measures.
 */
import { randomBytes } from 'node:crypto';

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
];

const PAGES = [
  { path: '/', title: 'Acme: project planning for small teams', search: '' },
  {
    path: '/pricing',
    title: 'Pricing | Acme',
    search: '?utm_source=newsletter&utm_medium=email&utm_campaign=spring_launch',
  },
  { path: '/dashboard/projects', title: 'Projects | Acme', search: '' },
  {
    path: '/docs/getting-started',
    title: 'Getting started | Acme docs',
    search: '?gclid=Cj0KCQiA5rGuBhCnARIsAN11vgR',
  },
  {
    path: '/blog/roadmaps-that-work',
    title: 'Roadmaps that work | Acme blog',
    search: '?utm_source=twitter&utm_medium=social',
  },
  { path: '/checkout', title: 'Checkout | Acme', search: '' },
];

const REFERRERS = [
  'https://www.google.com/',
  'https://news.ycombinator.com/',
  'https://t.co/x1Yz',
  '',
];

type Properties = Record<string, string | number | boolean>;

const TRACKS: Array<{ event: string; properties: (n: number) => Properties }> = [
  {
    event: 'Button Clicked',
    properties: (n) => ({
      feature: 'generate',
      variant: n % 2 ? 'control' : 'treatment',
      position: n % 7,
    }),
  },
  {
    event: 'Product Viewed',
    properties: (n) => ({
      product_id: `sku-${1000 + (n % 250)}`,
      name: 'Team plan',
      category: 'subscriptions',
      price: 49.99,
    }),
  },
  {
    event: 'Order Completed',
    properties: (n) => ({
      order_id: `ord-${n}`,
      revenue: 149.97,
      currency: 'EUR',
      products: 3,
      coupon: n % 3 ? 'SPRING10' : 'none',
    }),
  },
  {
    event: 'Search Performed',
    properties: (n) => ({
      query: `roadmap template ${n % 40}`,
      results: 12 + (n % 30),
      filters_used: n % 2 === 0,
    }),
  },
  {
    event: 'Signup Started',
    properties: (n) => ({
      plan: n % 2 ? 'team' : 'free',
      source: 'pricing_page',
      step: 1,
      ab_test: 'short_form',
    }),
  },
];

/** Marks where a message id goes in a template; never occurs in the events themselves. */
const ID_SLOT = '\u0000ID\u0000';

/** A batch body cut at its message ids: `parts[0] id parts[1] id … parts[n]`. */
interface Template {
  parts: string[];
}

export interface BatchSource {
  /** Events in each body. */
  readonly batchSize: number;
  /** The next body (number `seq` of this source): a template with fresh message ids. */
  next(): { seq: number; body: string };
  /** Bodies handed out so far; their `seq` are 0 to issued − 1. */
  readonly issued: number;
  /** The message ids of body `seq`. */
  messageIds(seq: number): string[];
}

/**
 * A pool of `poolSize` batch templates of `batchSize` events each. Every `next()` body carries
 * `batchSize` message ids never used before by this source (`<run>-<request>-<index>`).
 *
 * @example
 * const bodies = createBatchSource({ batchSize: 100 });
 * const { seq, body } = bodies.next(); // body: '{"batch":[{"type":"track",…},…],"sentAt":"…"}'
 */
export function createBatchSource(options: { batchSize: number; poolSize?: number }): BatchSource {
  const { batchSize } = options;
  const poolSize = options.poolSize ?? 64;
  const run = randomBytes(8).toString('hex');
  const now = Date.now();
  const templates: Template[] = [];
  for (let t = 0; t < poolSize; t++) {
    const batch = [];
    for (let i = 0; i < batchSize; i++) {
      const n = t * batchSize + i;
      const track = TRACKS[n % TRACKS.length]!;
      const page = PAGES[(n * 7 + t) % PAGES.length]!;
      const user = (n * 31 + t) % 5000;
      batch.push({
        type: 'track',
        event: track.event,
        messageId: ID_SLOT,
        anonymousId: `anon-${user.toString(36).padStart(6, '0')}-4f2a-9c1e`,
        ...(user % 3 === 0 ? { userId: `user-${user}` } : {}),
        timestamp: new Date(now - (batchSize - i) * 250).toISOString(),
        properties: track.properties(n),
        context: {
          userAgent: USER_AGENTS[(user + t) % USER_AGENTS.length]!,
          page: {
            url: `https://app.acme.example${page.path}${page.search}`,
            path: page.path,
            title: page.title,
            referrer: REFERRERS[n % REFERRERS.length]!,
          },
          locale: 'en-GB',
          timezone: 'Europe/London',
          library: { name: '@sightline/browser', version: '0.0.0' },
        },
      });
    }
    const body = JSON.stringify({ batch, sentAt: new Date(now).toISOString() });
    templates.push({ parts: body.split(JSON.stringify(ID_SLOT)) });
  }

  const prefixOf = (seq: number) => `${run}-${seq.toString(36)}-`;
  let issued = 0;
  return {
    batchSize,
    get issued() {
      return issued;
    },
    next() {
      const seq = issued++;
      const { parts } = templates[seq % poolSize]!;
      const prefix = `"${prefixOf(seq)}`;
      let body = parts[0]!;
      for (let i = 1; i < parts.length; i++) body += `${prefix}${i - 1}"${parts[i]}`;
      return { seq, body };
    },
    messageIds(seq) {
      return Array.from({ length: batchSize }, (_, i) => `${prefixOf(seq)}${i}`);
    },
  };
}
