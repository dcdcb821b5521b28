import {
  type Analytics,
  type AnalyticsOptions,
  backoffDelay,
  type CallOptions,
  classifyStatus,
  createConsoleLogger,
  createMemoryStorage,
  createPlatformAnalytics,
  createSandboxTransport,
  DEFAULT_RETRY,
  type EventCatalog,
  type EventContext,
  type PipelineStep,
  type Properties,
  STORAGE_KEYS,
  wholeNumber,
} from '@sightline/core';
import { type AttributionOptions, createAttribution } from './attribution';
import { type AutoTrackOptions, watchDataAttributes } from './autoTrack';
import { createBeaconTransport, KEEPALIVE_BYTES } from './beaconTransport';
import { createFlushLock } from './flushLock';
import { listen } from './listen';
import { type PageViewOptions, watchPageViews } from './pageViews';
import { createSessions } from './session';
import {
  createBrowserStorage,
  localStorageIfUsable,
  routeStorage,
  type StorageOptions,
} from './storage';
import { createTabQueue, localQueueStore, type QueueStore } from './tabQueue';

declare const __SIGHTLINE_VERSION__: string;

/**
 * Options of {@link createBrowserAnalytics}: core's options (batching, retry, consent, PII filter,
 * plugins, destinations, catalog, hooks) plus the browser's own. Storage, transport and context
 * are the SDK's.
 */
export type BrowserAnalyticsOptions<Catalog extends EventCatalog | undefined = undefined> =
  BrowserAnalyticsBaseOptions<Catalog> &
    (
      | {
          /** The collector's base URL, e.g. `https://example.com/analytics`. */
          host: string;
        }
      | {
          /** Log events instead of sending them: no collector, so no `host` needed. */
          sandbox: true;
          host?: string;
        }
    );

/** {@link BrowserAnalyticsOptions} but `host`, which only sandbox mode may leave out. */
export interface BrowserAnalyticsBaseOptions<Catalog extends EventCatalog | undefined = undefined>
  extends Omit<
      AnalyticsOptions<Catalog>,
      'storage' | 'transport' | 'persistQueue' | 'context' | 'identity' | 'writeKeyIn' | 'library'
    >,
    StorageOptions {
  /** Inactivity that ends a session. Default 30 minutes. */
  sessionTimeoutMs?: number;
  /** Track `session_start` and `session_end`. Default false. */
  sessionEvents?: boolean;
  /** Page views (initial load and SPA navigations). Default true. */
  pageViews?: boolean | PageViewOptions;
  /** Clicks and forms through data attributes; `false` turns both off. Default on. */
  autoTrack?: boolean | AutoTrackOptions;
  /** UTM parameters, click ids and referrer; `false` turns attribution off. Default on. */
  attribution?: boolean | AttributionOptions;
  /** Drop every event when the browser sends Do Not Track. Default true. */
  respectDoNotTrack?: boolean;
  /** Drop every event when the browser sends Global Privacy Control. Default true. */
  respectGlobalPrivacyControl?: boolean;
  /**
   * Where the offline queue lives. Default localStorage (each event stored as it is enqueued);
   * `indexedDbQueue()` from `@sightline/browser/indexeddb` for queues beyond its ~5 MB.
   */
  queueStorage?: QueueStore;
}

/** A browser client: core's API plus opting out and in, and `stop()` for the listeners. */
export interface BrowserAnalytics<Catalog extends EventCatalog | undefined = undefined>
  extends Analytics<Catalog> {
  /** Denies the analytics consent category (persisted): nothing more is collected. */
  optOut(): void;
  /** Grants it again. */
  optIn(): void;
  /** Removes auto-tracking listeners and stops timers, after a last flush. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** The same calls, doing nothing: what servers get during SSR. */
function inertAnalytics(): BrowserAnalytics {
  const nothing = () => {};
  const done = async () => {};
  const inert: Record<string, unknown> = {
    stats: () => ({
      enqueued: 0,
      queued: 0,
      inFlight: 0,
      pendingConsent: 0,
      sent: 0,
      retried: 0,
      deadLettered: 0,
      dropped: {},
    }),
    user: () => ({ anonymousId: undefined, userId: undefined }),
    consent: {
      get: () => 'denied',
      getAll: () => Object.freeze({}),
      set: nothing,
      subscribe: () => nothing,
    },
  };
  for (const name of 'track identify page screen group alias reset optOut optIn'.split(' ')) {
    inert[name] = nothing;
  }
  for (const name of ['flush', 'close', 'ready']) inert[name] = done;
  return inert as unknown as BrowserAnalytics;
}

/** Drops events when the browser asks not to be tracked (Do Not Track, Global Privacy Control). */
function browserSignals(
  options: Pick<BrowserAnalyticsOptions, 'respectDoNotTrack' | 'respectGlobalPrivacyControl'>,
): PipelineStep | undefined {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  const reason =
    options.respectGlobalPrivacyControl !== false && nav.globalPrivacyControl === true
      ? 'global_privacy_control'
      : options.respectDoNotTrack !== false && nav.doNotTrack === '1'
        ? 'do_not_track'
        : undefined;
  return reason ? (_event, context) => context.drop(reason) : undefined;
}

/**
 * Creates the browser client on core: persistent identity and consent, sessions shared across
 * tabs, page views (SPA too), auto-tracking through data attributes, attribution, an offline
 * queue kept in localStorage, and delivery that survives page hide. Safe to import and call
 * during SSR: without `window`, every call is a no-op.
 *
 * @example
 * const analytics = createBrowserAnalytics({ writeKey: 'wk_…', host: 'https://example.com/analytics' });
 * analytics.identify('user_42', { plan: 'pro' });
 * analytics.track('signup_completed', { method: 'email' });
 */
export function createBrowserAnalytics<Catalog extends EventCatalog | undefined = undefined>(
  options: BrowserAnalyticsOptions<Catalog>,
): BrowserAnalytics<Catalog> {
  if (typeof window === 'undefined' || typeof document === 'undefined') {
    return inertAnalytics() as BrowserAnalytics<Catalog>;
  }
  // Checked before anything starts (timers, listeners, other tabs' queues).
  const sessionTimeoutMs = wholeNumber('sessionTimeoutMs', options.sessionTimeoutMs, [30 * 60_000]);
  const storage = createBrowserStorage(options);
  /** Between `pagehide` and a `pageshow` from the back/forward cache. */
  let hiding = false;
  // The offline queue lives in localStorage, one key per tab (never in cookies: they travel with
  // every request and hold 4 KB). Without localStorage it stays in memory.
  const queueKey = STORAGE_KEYS.queue(options.writeKey);
  const local = options.persistence === 'memory' ? undefined : localStorageIfUsable();
  const queueStore =
    options.persistence === 'memory'
      ? undefined
      : (options.queueStorage ?? (local && localQueueStore(local)));
  const library = { name: '@sightline/browser', version: __SIGHTLINE_VERSION__ };
  // Sandbox mode logs each event instead of sending it, as core's does: nothing leaves the page.
  const transport = options.sandbox
    ? createSandboxTransport(options.logger ?? createConsoleLogger(options.debug))
    : createBeaconTransport(options.host!, options.writeKey, {
        timeoutMs: options.requestTimeoutMs,
        hidden: () => hiding || document.visibilityState === 'hidden',
        lock: createFlushLock(`sightline.flush.${options.writeKey}`, storage),
      });
  /** Failed sends of orphaned queues in a row, and when the next may go (core's backoff). */
  let orphanFailures = 0;
  let orphansDueAt = 0;
  /**
   * Sends the queue of a tab that went away, in keepalive-sized batches; true once all landed or
   * were refused for good (reported to `onDrop`: sent again, they would be refused again).
   */
  const deliverOrphans = async (events: readonly unknown[]) => {
    if (Date.now() < orphansDueAt) return false;
    let batch: string[] = [];
    let bytes = 0;
    const send = async () => {
      const sent = batch;
      batch = [];
      bytes = 0;
      const sentAt = new Date().toISOString();
      const { status } = await Promise.resolve(
        transport.send({ events: sent, sentAt, context: { library } }),
      ).catch(() => ({ status: undefined }));
      const verdict = classifyStatus(status);
      if (verdict === 'retry') {
        const retry = { ...DEFAULT_RETRY, ...options.retry };
        orphansDueAt = Date.now() + backoffDelay(++orphanFailures, retry);
        return false;
      }
      orphanFailures = 0;
      if (verdict !== 'delivered') {
        const messageIds = sent.map(
          (json) => (JSON.parse(json) as { messageId: string }).messageId,
        );
        try {
          options.onDrop?.({
            reason: `http_${status}`,
            detail: "a closed tab's queue",
            messageIds,
          });
        } catch {
          // The app's hook: nothing to do about it here.
        }
      }
      return true;
    };
    for (const event of events) {
      const json = JSON.stringify(event);
      if (bytes + json.length > KEEPALIVE_BYTES - 1_000 && batch.length > 0 && !(await send())) {
        return false;
      }
      batch.push(json);
      bytes += json.length + 1;
    }
    return batch.length === 0 || send();
  };

  // Heartbeats need synchronous storage; without localStorage, other tabs' queues count as gone
  // (picked up at once: sent twice, stored once).
  const tabs =
    queueStore &&
    createTabQueue(queueStore, local ?? createMemoryStorage(), queueKey, deliverOrphans);
  const queue = tabs?.storage ?? createMemoryStorage();
  const coreStorage = routeStorage((key) => (key === queueKey ? queue : storage));
  const sessions = createSessions(storage, sessionTimeoutMs);
  const attribution =
    options.attribution === false
      ? undefined
      : createAttribution(
          storage,
          () => Date.now(),
          options.attribution === true ? undefined : options.attribution,
        );
  const signals = browserSignals(options);
  const category = options.consent?.category ?? 'analytics';
  let sessionId = 0;
  /** `document.referrer`, then the previous page of an SPA. */
  let referrer = document.referrer;

  // Resolving the zone builds a DateTimeFormat: once per page, not once per event.
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  /** The page as events describe it: in `context.page`, and as a page view's properties. */
  const pageInfo = () => ({
    path: location.pathname,
    url: location.href,
    referrer,
    title: document.title,
    search: location.search,
  });
  const context = (): EventContext => ({
    page: pageInfo(),
    userAgent: navigator.userAgent,
    locale: navigator.language,
    timezone,
    screen: { width: screen.width, height: screen.height, density: devicePixelRatio },
    sessionId,
    ...attribution?.context(),
  });

  let core: Analytics<Catalog>;
  try {
    core = createPlatformAnalytics({
      maxBatchBytes: KEEPALIVE_BYTES,
      // localStorage holds about 5 MB per site, shared with the app.
      maxQueueEvents: 1_000,
      maxQueueBytes: 1_000_000,
      ...options,
      transport,
      storage: coreStorage,
      persistQueue: tabs !== undefined,
      // Saved as enqueued: a page can vanish at any moment.
      persistDelayMs: 0,
      context,
      library,
      plugins: [...(signals ? [signals] : []), ...(options.plugins ?? [])],
    });
  } catch (error) {
    // Misuse core refuses (a bad number, a missing pii.hash): leave nothing running.
    tabs?.stop();
    throw error;
  }

  /** Keeps the session alive; a new one captures attribution and, if asked, is tracked. */
  const activity = () => {
    const touch = sessions.touch(Date.now());
    sessionId = touch.session.id;
    if (!touch.started) return;
    attribution?.capture(location.href, document.referrer, true);
    if (!options.sessionEvents) return;
    if (touch.ended) {
      core.track(
        'session_end',
        { session_id: touch.ended.id },
        { timestamp: new Date(touch.ended.lastActivity), context: { sessionId: touch.ended.id } },
      );
    }
    core.track('session_start', { session_id: sessionId });
  };
  const active =
    <Args extends unknown[]>(method: (...args: Args) => void) =>
    (...args: Args) => {
      try {
        activity();
      } catch {
        // Storage trouble never stops tracking.
      }
      method(...args);
    };

  /** The URL of the last page view: the referrer of the next one at another URL. */
  let lastPage: string | undefined;
  const page = active(
    (name?: string, properties?: Properties, call?: CallOptions & { category?: string }) => {
      const href = location.href;
      if (lastPage !== undefined && lastPage !== href) referrer = lastPage;
      lastPage = href;
      core.page(name, { ...pageInfo(), ...properties }, call);
    },
  );

  const stops: Array<() => void> = [];
  if (attribution) attribution.capture(location.href, document.referrer, false);
  if (options.pageViews !== false) {
    stops.push(
      watchPageViews(() => page(), options.pageViews === true ? undefined : options.pageViews),
    );
  }
  if (options.autoTrack !== false) {
    stops.push(
      watchDataAttributes(
        active((event: string, properties: Properties) => core.track(event, properties)),
        options.autoTrack === true ? undefined : options.autoTrack,
      ),
    );
  }
  // Page hide: send what is queued now, with keepalive (see createBeaconTransport). Safari may
  // fire pagehide while the document still says "visible".
  const flush = () => void core.flush();
  if (tabs) stops.push(tabs.stop);
  stops.push(
    listen(document, {
      visibilitychange() {
        if (document.visibilityState === 'hidden') flush();
      },
    }),
    listen(window, {
      pagehide() {
        hiding = true;
        flush();
      },
      pageshow() {
        hiding = false;
      },
      online: flush,
    }),
  );

  return {
    ...core,
    track: active(core.track as (...args: unknown[]) => void) as typeof core.track,
    identify: active(core.identify),
    page,
    screen: active(core.screen),
    group: active(core.group),
    alias: active(core.alias),
    reset() {
      core.reset();
      sessions.end();
    },
    optOut: () => core.consent.set({ [category]: 'denied' }),
    optIn: () => core.consent.set({ [category]: 'granted' }),
    close(closeOptions) {
      for (const stop of stops.splice(0)) stop();
      return core.close(closeOptions);
    },
  };
}
