import type { EventCatalog, TrackFunction } from './catalog';
import {
  type ConsentManager,
  createConsentManager,
  holdBounded,
  holdUntilConsent,
} from './consent';
import { createDelivery } from './delivery';
import { createDestinationRouter } from './destinations';
import { DeliveryError, SightlineError, toSightlineError, ValidationError } from './errors';
import type { AnalyticsEvent, CallOptions, ConsentState, Properties } from './event';
import { type Identity, STORAGE_KEYS } from './identity';
import { LIMITS, utf8ByteLength } from './limits';
import { createConsoleLogger, type Logger } from './logger';
import { type AnalyticsOptions, resolveOptions } from './options';
import { createPiiStep } from './piiFilter';
import { createPipeline, type PipelineStep } from './pipeline';
import { defaultScheduler } from './scheduler';
import { sha256Hex } from './sha256';
import type { AnalyticsStats } from './stats';
import { createMemoryStorage } from './storage';
import { isoTimestamp, timestampMillis } from './timestamp';
import { createFetchTransport, createSandboxTransport, type Transport } from './transport';
import { uuidv7 } from './uuidv7';
import { isPlainObject, requireId, requireObject, requireString, toIsoTimestamp } from './validate';
import { VERSION } from './version';

/**
 * A Sightline client. Every tracking method returns at once and never throws: problems go to
 * `onError` and `stats().dropped`.
 *
 * @example
 * analytics.track('signup_completed', { method: 'email' });
 * await analytics.flush();
 */
export interface Analytics<Catalog extends EventCatalog | undefined = undefined> {
  track: TrackFunction<Catalog>;
  identify(userId?: string, traits?: Properties, options?: CallOptions): void;
  page(name?: string, properties?: Properties, options?: CallOptions & { category?: string }): void;
  screen(name: string, properties?: Properties, options?: CallOptions): void;
  group(groupId: string, traits?: Properties, options?: CallOptions): void;
  alias(userId: string, previousId?: string, options?: CallOptions): void;
  /** Forgets the user: clears `userId` and starts a new anonymous id. */
  reset(): void;
  /** Resolves when everything tracked before the call is delivered or definitively failed. */
  flush(): Promise<void>;
  /** Flushes (up to `timeoutMs`, default 10 s), stops timers and drops later calls. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  /** Resolves once identity, consent and any persisted queue are loaded from storage. */
  ready(): Promise<void>;
  stats(): AnalyticsStats;
  user(): Readonly<Identity>;
  readonly consent: ConsentManager;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Validators report `field: problem; field: problem`; the error names the first field. */
function invalidEventError(detail = 'event: rejected by validation'): ValidationError {
  const separator = detail.indexOf(': ');
  return separator > 0
    ? new ValidationError(detail.slice(0, separator), detail.slice(separator + 2))
    : new ValidationError('event', detail);
}

/**
 * Creates a client: validate → enrich → consent gate → PII filter → before-send plugins → queue,
 * with destinations receiving the final events.
 *
 * @example
 * const analytics = createAnalytics({ writeKey: 'wk_dev', host: 'http://127.0.0.1:8787' });
 * analytics.identify('user_42', { plan: 'pro' });
 * analytics.track('generation_completed', { model: 'fast', duration_ms: 840 });
 */
export function createAnalytics<Catalog extends EventCatalog | undefined = undefined>(
  options: AnalyticsOptions<Catalog>,
): Analytics<Catalog> {
  return buildAnalytics(
    options,
    (timeoutMs, logger) =>
      options.sandbox
        ? createSandboxTransport(logger)
        : createFetchTransport({
            host: options.host!,
            writeKey: options.writeKey,
            writeKeyIn: options.writeKeyIn,
            timeoutMs,
          }),
    sha256Hex,
  );
}

/**
 * {@link createAnalytics} for a platform SDK that brings its own transport (the browser's
 * beacon transport): the default fetch and sandbox transports stay out of its bundle, and so
 * does SHA-256 (the PII filter's `hash` action then needs `pii.hash`).
 *
 * @example
 * const analytics = createPlatformAnalytics({ writeKey, transport: createBeaconTransport(host, writeKey) });
 */
export function createPlatformAnalytics<Catalog extends EventCatalog | undefined = undefined>(
  options: AnalyticsOptions<Catalog> & { transport: Transport },
): Analytics<Catalog> {
  return buildAnalytics(options);
}

function buildAnalytics<Catalog extends EventCatalog | undefined>(
  options: AnalyticsOptions<Catalog>,
  defaultTransport?: (timeoutMs: number, logger: Logger) => Transport,
  defaultHash?: (text: string) => string,
): Analytics<Catalog> {
  const settings = resolveOptions(options);
  const scheduler = options.scheduler ?? defaultScheduler;
  const logger = options.logger ?? createConsoleLogger(options.debug);
  const storage = options.storage ?? createMemoryStorage();
  const consent = createConsentManager(options.consent);
  const transport = options.transport ?? defaultTransport!(settings.requestTimeoutMs, logger);
  const persistent = settings.identity === 'persistent';
  const persistQueue = options.persistQueue === true;
  const queueKey = STORAGE_KEYS.queue(options.writeKey);
  const counts = { enqueued: 0, sent: 0, retried: 0, deadLettered: 0 };
  const dropped: AnalyticsStats['dropped'] = {};

  let identity: Identity = { anonymousId: undefined, userId: undefined };
  let hydrated = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let callTime: number | undefined;
  /** Calls made before storage was read, replayed in order once it is (bounded). */
  const beforeReady: Array<() => void> = [];

  // ── reporting ──────────────────────────────────────────────────────────────────────────────
  /** Calls the logger; a throwing logger leaves nowhere to report to. */
  function log(level: 'debug' | 'error', message: string, data?: unknown) {
    try {
      logger[level](message, data);
    } catch {
      // Nothing left to tell.
    }
  }
  /** Runs a user hook; whatever it throws is logged and stays here. */
  function safely(run: () => void) {
    try {
      run();
    } catch (error) {
      log('error', 'a Sightline hook threw', error);
    }
  }
  function reportError(error: unknown) {
    const wrapped = toSightlineError(error);
    log('debug', wrapped.message, wrapped);
    safely(() => options.onError?.(wrapped));
  }
  /** A failure inside something the app handed us (a plugin, a destination, storage). */
  const failure = (code: string, what: string, error: unknown) =>
    new SightlineError(code, `${what}: ${toSightlineError(error).message}`, { cause: error });
  function reportDrop(reason: string, messageIds: string[], detail?: string) {
    dropped[reason] = (dropped[reason] ?? 0) + messageIds.length;
    log('debug', `dropped ${messageIds.length} event(s): ${reason}`, { detail, messageIds });
    safely(() => options.onDrop?.({ reason, detail, messageIds }));
  }
  const idsOf = (items: ReadonlyArray<{ messageId: string }>) =>
    items.map((item) => item.messageId);

  // ── storage ────────────────────────────────────────────────────────────────────────────────
  function write(key: string, value: string | undefined) {
    try {
      const result = value === undefined ? storage.removeItem(key) : storage.setItem(key, value);
      if (result instanceof Promise) result.catch(reportError);
    } catch (error) {
      reportError(error);
    }
  }
  let persistTimer: unknown;
  function schedulePersist() {
    if (!persistQueue || persistTimer !== undefined || !hydrated) return;
    if (settings.persistDelayMs === 0) persistNow();
    else persistTimer = scheduler.setTimeout(persistNow, settings.persistDelayMs);
  }
  function persistNow() {
    if (persistTimer !== undefined) scheduler.clearTimeout(persistTimer);
    persistTimer = undefined;
    if (!persistQueue) return;
    const pending = delivery.pending();
    write(queueKey, pending.length === 0 ? undefined : `[${pending.map((i) => i.json).join(',')}]`);
  }

  // ── delivery ───────────────────────────────────────────────────────────────────────────────
  const delivery = createDelivery({
    transport,
    scheduler,
    // `library` is the same for every event: it travels once per request, not once per event.
    batchContext: { library: options.library ?? { name: '@sightline/core', version: VERSION } },
    ...settings,
    createQueue: options.createQueue,
    onDrop(items, reason, detail) {
      reportDrop(reason, idsOf(items), detail);
      if (reason === 'retries_exhausted' || reason === 'max_age') {
        reportError(new DeliveryError(reason, items.length, detail ?? 'gave up'));
      }
    },
    onDeadLetter(items, reason, detail) {
      counts.deadLettered += items.length;
      reportDrop(reason, idsOf(items), detail);
      reportError(new DeliveryError(reason, items.length, detail || 'rejected by the collector'));
      if (options.onDeadLetter) {
        const events = items.map((item) => JSON.parse(item.json) as AnalyticsEvent);
        safely(() => options.onDeadLetter?.({ reason, detail, events }));
      }
    },
    onDelivered(items) {
      counts.sent += items.length;
      log('debug', `delivered ${items.length} event(s)`);
    },
    onRetry(items, attempt, delayMs) {
      counts.retried += items.length;
      log('debug', `retrying ${items.length} event(s) in ${delayMs} ms (attempt ${attempt})`);
    },
    onChange: schedulePersist,
  });
  function enqueue(messageId: string, json: string, bytes: number, createdAt: number) {
    counts.enqueued++;
    delivery.enqueue({ messageId, json, bytes, createdAt });
  }

  const destinations = createDestinationRouter(
    options.sandbox ? [] : (options.destinations ?? []),
    consent,
    settings.maxPendingEvents,
    {
      failed: (name, error) =>
        reportError(failure('destination_failed', `destination "${name}" failed`, error)),
      dropped: (event, reason) => reportDrop(reason, [event.messageId]),
    },
  );

  /** Drops an event the collector would refuse, telling the app what to change. */
  function refuse(event: AnalyticsEvent, reason: string, fix: string) {
    reportError(new ValidationError('properties', fix));
    reportDrop(reason, [event.messageId]);
  }
  function accept(event: AnalyticsEvent) {
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (error) {
      const problem = toSightlineError(error).message;
      return refuse(event, 'invalid', `make the event JSON-serializable (${problem})`);
    }
    const bytes = utf8ByteLength(json);
    if (bytes > LIMITS.maxEventBytes) {
      return refuse(
        event,
        'event_too_large',
        `keep each event under 32 KB (this one is ${bytes} bytes); send large payloads elsewhere and reference them by id`,
      );
    }
    enqueue(event.messageId, json, bytes, timestampMillis(event.timestamp));
    destinations.deliver(event);
    schedulePersist();
  }

  // ── pipeline ───────────────────────────────────────────────────────────────────────────────
  // Saved once storage is read: a write before would replace stored categories not yet loaded.
  consent.subscribe((state) => hydrated && write(STORAGE_KEYS.consent, JSON.stringify(state)));
  // Categories the app sets while storage is read (optOut() before ready(), with an async queue
  // store) are newer than the stored choice. Recorded per call, not by comparing states: setting
  // the value a category already has (optOut() with `initial` denied) must win too.
  let early: Record<string, ConsentState> | undefined;
  const setConsent = consent.set;
  consent.set = (update) => {
    setConsent(update);
    if (!hydrated) early = { ...early, ...update };
  };
  const awaitingConsent = holdUntilConsent<AnalyticsEvent>(
    consent,
    settings.consentCategory,
    settings.maxPendingEvents,
    (event) => pipeline.resume(stampConsent(event), consentGate),
    (event, reason) => pipeline.drop(event, reason),
  );
  const enrich: PipelineStep = function enrich(event, context) {
    const platform = options.context?.();
    const mutable = event as Mutable<AnalyticsEvent>;
    if (platform) mutable.context = Object.assign({}, platform, event.context);
    mutable.userId ??= identity.userId;
    mutable.anonymousId ??= identity.anonymousId;
    if (mutable.userId === undefined && mutable.anonymousId === undefined) {
      return context.drop('invalid', 'userId: pass `userId` or `anonymousId` in the call options');
    }
    return event;
  };
  function stampConsent(event: AnalyticsEvent): AnalyticsEvent {
    event.context.consent = consent.getAll() as Record<string, ConsentState>;
    return event;
  }
  const consentGate: PipelineStep = function consentGate(event, context) {
    const state = consent.get(settings.consentCategory);
    if (state === 'granted') return stampConsent(event);
    if (state === 'denied') return context.drop('consent');
    awaitingConsent.add(event);
    return context.hold();
  };
  const steps: PipelineStep[] = [];
  if (options.catalog?.validator) steps.push(options.catalog.validator);
  steps.push(enrich, consentGate);
  if (options.pii !== false) steps.push(createPiiStep(options.pii, defaultHash));
  steps.push(...(options.plugins ?? []));

  const pipeline = createPipeline(
    steps,
    {
      accept,
      dropped(event, reason, detail) {
        if (reason === 'invalid') reportError(invalidEventError(detail));
        reportDrop(reason, [event.messageId], detail);
      },
      failed(event, step, error) {
        reportError(failure('plugin_failed', `pipeline step "${step}" threw`, error));
        reportDrop('plugin_error', [event.messageId], step);
      },
    },
    consent.get,
  );

  // ── events ─────────────────────────────────────────────────────────────────────────────────
  function submit(
    fields: Partial<AnalyticsEvent> & Pick<AnalyticsEvent, 'type'>,
    call?: CallOptions,
  ) {
    if (call !== undefined && !isPlainObject(call as unknown)) {
      throw new ValidationError('options', 'pass an options object or leave it out');
    }
    const now = callTime ?? scheduler.now();
    const messageId = call?.messageId ?? uuidv7(now);
    if (typeof messageId !== 'string' || messageId.length === 0 || messageId.length > 255) {
      throw new ValidationError(
        'messageId',
        'use a non-empty string of at most 255 characters, or leave it out',
      );
    }
    // Built by assignment, not object spread: V8 12.4 (Node 20) takes a slow path for
    // `{ ...fields, more }` that costs ~0.6 µs per event (bench/core).
    const event = fields as Mutable<AnalyticsEvent>;
    event.messageId = messageId;
    event.timestamp =
      call?.timestamp === undefined ? isoTimestamp(now) : toIsoTimestamp(call.timestamp);
    event.context = call?.context ? Object.assign({}, call.context) : {};
    if (call?.userId !== undefined) event.userId = String(call.userId);
    if (call?.anonymousId !== undefined) event.anonymousId = String(call.anonymousId);
    if (call?.integrations !== undefined) event.integrations = call.integrations;
    pipeline.run(event as AnalyticsEvent);
  }

  /** Wraps a public method: never throws, waits for storage, refuses calls after close. */
  function guard<Args extends unknown[]>(name: string, method: (...args: Args) => void) {
    return (...args: Args): void => {
      try {
        if (closed) {
          reportDrop('closed', ['(unassigned)'], `${name}() after close()`);
        } else if (hydrated) {
          method(...args);
        } else {
          const at = scheduler.now();
          const evicted = holdBounded(beforeReady, settings.maxPendingEvents, () => {
            callTime = at;
            try {
              method(...args);
            } finally {
              callTime = undefined;
            }
          });
          if (evicted) reportDrop('not_ready_overflow', ['(unassigned)']);
        }
      } catch (error) {
        reportError(error);
        reportDrop('invalid', ['(unassigned)'], toSightlineError(error).message);
      }
    };
  }

  /** Remembers the identified user (persistent identity only). */
  function rememberUser(userId: string) {
    if (!persistent) return;
    identity = { ...identity, userId };
    write(STORAGE_KEYS.userId, userId);
  }

  const track = guard('track', (name: string, properties?: Properties, call?: CallOptions) => {
    requireString('event', name);
    if (name.length > 256)
      throw new ValidationError('event', 'keep event names at most 256 characters');
    submit(
      { type: 'track', event: name, properties: requireObject('properties', properties) },
      call,
    );
  });
  const identify = guard('identify', (userId?: string, traits?: Properties, call?: CallOptions) => {
    const id = userId === undefined || userId === null ? undefined : requireId('userId', userId);
    const bag = requireObject('traits', traits);
    if (id !== undefined) rememberUser(id);
    submit({ type: 'identify', traits: bag }, id === undefined ? call : { ...call, userId: id });
  });
  const page = guard(
    'page',
    (name?: string, properties?: Properties, call?: CallOptions & { category?: string }) => {
      const bag = requireObject('properties', properties);
      const { category, ...rest } = call ?? {};
      submit({ type: 'page', name, category, properties: bag }, call ? rest : undefined);
    },
  );
  const screen = guard('screen', (name: string, properties?: Properties, call?: CallOptions) => {
    requireString('name', name);
    submit({ type: 'screen', name, properties: requireObject('properties', properties) }, call);
  });
  const group = guard('group', (groupId: string, traits?: Properties, call?: CallOptions) => {
    const id = requireId('groupId', groupId);
    submit({ type: 'group', groupId: id, traits: requireObject('traits', traits) }, call);
  });
  const alias = guard('alias', (userId: string, previousId?: string, call?: CallOptions) => {
    const id = requireId('userId', userId);
    const previous = requireId('previousId', previousId ?? identity.userId ?? identity.anonymousId);
    rememberUser(id);
    submit({ type: 'alias', previousId: previous }, { ...call, userId: id });
  });
  const reset = guard('reset', () => {
    if (!persistent) return;
    identity = { anonymousId: uuidv7(), userId: undefined };
    write(STORAGE_KEYS.anonymousId, identity.anonymousId);
    write(STORAGE_KEYS.userId, undefined);
  });

  // ── hydration ──────────────────────────────────────────────────────────────────────────────
  function hydrate([anonymousId, userId, storedConsent, storedQueue]: Array<string | null>) {
    if (persistent) {
      // The first visit gets a fresh anonymous id, saved at once.
      identity = { anonymousId: anonymousId || uuidv7(), userId: userId || undefined };
      if (!anonymousId) write(STORAGE_KEYS.anonymousId, identity.anonymousId);
    }
    try {
      setConsent(Object.assign(JSON.parse(storedConsent || '{}'), early));
    } catch (error) {
      reportError(error);
    }
    // Saved even when the stored value was unreadable, so the early choice outlives this page.
    if (early) write(STORAGE_KEYS.consent, JSON.stringify(consent.getAll()));
    try {
      for (const event of JSON.parse(storedQueue || '[]') as AnalyticsEvent[]) {
        const json = JSON.stringify(event);
        enqueue(event.messageId, json, utf8ByteLength(json), Date.parse(event.timestamp));
      }
    } catch (error) {
      reportError(
        failure(
          'storage_corrupt',
          'the persisted queue could not be read and was discarded',
          error,
        ),
      );
    }
    hydrated = true;
    for (const replay of beforeReady.splice(0)) replay();
  }
  function readStorage(): Promise<void> {
    const keys = [
      STORAGE_KEYS.anonymousId,
      STORAGE_KEYS.userId,
      STORAGE_KEYS.consent,
      persistQueue ? queueKey : undefined,
    ];
    const reads = keys.map((key) => {
      if (key === undefined) return null;
      try {
        return storage.getItem(key);
      } catch (error) {
        reportError(error);
        return null;
      }
    });
    if (reads.every((value) => !(value instanceof Promise))) {
      hydrate(reads as Array<string | null>);
      return Promise.resolve();
    }
    return Promise.all(
      reads.map((read) =>
        Promise.resolve(read).catch((error: unknown) => {
          reportError(error);
          return null;
        }),
      ),
    ).then(hydrate);
  }
  const readyPromise = readStorage();

  async function flush() {
    try {
      await readyPromise;
      await pipeline.settled();
      await delivery.flush();
      await destinations.flush();
    } catch (error) {
      reportError(error);
    }
  }

  /** Flushes up to `timeoutMs`, then stops; calls made meanwhile are refused (reason `closed`). */
  async function shutDown(timeoutMs: number): Promise<void> {
    const flushed = flush();
    closed = true;
    let timer: unknown;
    const timeout = new Promise<void>((resolve) => {
      timer = scheduler.setTimeout(resolve, timeoutMs);
    });
    await Promise.race([flushed, timeout]);
    scheduler.clearTimeout(timer);
    persistNow();
    const left = delivery.stop();
    if (left.length > 0 && !persistQueue) {
      reportDrop('close_timeout', idsOf(left));
      reportError(
        new DeliveryError('close_timeout', left.length, `still undelivered after ${timeoutMs} ms`),
      );
    }
    const unconsented = awaitingConsent.held.splice(0);
    if (unconsented.length > 0) {
      reportDrop('consent', idsOf(unconsented), 'closed while consent was pending');
    }
    await destinations.close().catch(reportError);
  }

  return {
    track: track as TrackFunction<Catalog>,
    identify,
    page,
    screen,
    group,
    alias,
    reset,
    flush,
    close({ timeoutMs = 10_000 } = {}) {
      closing ??= shutDown(timeoutMs);
      return closing;
    },
    ready: () => readyPromise,
    stats: () => ({
      ...counts,
      ...delivery.counts(),
      pendingConsent: awaitingConsent.held.length + destinations.held(),
      dropped: { ...dropped },
    }),
    user: () => ({ ...identity }),
    consent,
  };
}
