import { createCatalogValidator, type EventCatalog, type TrackFunction } from './catalog';
import { type ConsentManager, createConsentManager, HeldItems } from './consent';
import { createDelivery } from './delivery';
import { createDestinationRouter } from './destinations';
import { DeliveryError, SightlineError, toSightlineError, ValidationError } from './errors';
import type { AnalyticsEvent, CallOptions, ConsentState, Properties } from './event';
import { type Identity, restoreIdentity, STORAGE_KEYS } from './identity';
import { LIMITS, utf8ByteLength } from './limits';
import { createConsoleLogger } from './logger';
import { type AnalyticsOptions, resolveOptions } from './options';
import { createPiiFilter } from './piiFilter';
import { createPipeline, type PipelineStep } from './pipeline';
import type { QueuedEvent } from './queue';
import { defaultScheduler } from './scheduler';
import { type AnalyticsStats, createCounters } from './stats';
import { createMemoryStorage } from './storage';
import { isoTimestamp, timestampMillis } from './timestamp';
import { createFetchTransport, createSandboxTransport } from './transport';
import { uuidv7 } from './uuidv7';
import { describeInvalid, isPlainObject, toIsoTimestamp } from './validate';
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
  const settings = resolveOptions(options);
  const scheduler = options.scheduler ?? defaultScheduler;
  const logger = options.logger ?? createConsoleLogger(options.debug);
  const storage = options.storage ?? createMemoryStorage();
  const counters = createCounters();
  const consent = createConsentManager(options.consent);
  const library = options.library ?? { name: '@sightline/core', version: VERSION };
  const transport =
    options.transport ??
    (options.sandbox
      ? createSandboxTransport(logger)
      : createFetchTransport({
          host: options.host!,
          writeKey: options.writeKey,
          writeKeyIn: options.writeKeyIn,
          timeoutMs: settings.requestTimeoutMs,
        }));
  const persistQueue = options.persistQueue === true;
  const queueKey = STORAGE_KEYS.queue(options.writeKey);

  let identity: Identity = { anonymousId: undefined, userId: undefined };
  let hydrated = false;
  let closed = false;
  let closing: Promise<void> | undefined;
  let callTime: number | undefined;
  const beforeReady = new HeldItems<() => void>(settings.maxPendingEvents);

  // ── reporting ──────────────────────────────────────────────────────────────────────────────
  /** Runs a user hook or logger call; whatever it throws stays here. */
  function safely(run: () => void, isLogger = false) {
    try {
      run();
    } catch (error) {
      // A throwing logger leaves nowhere to report to; a throwing hook is logged.
      if (!isLogger) safely(() => logger.error('a Sightline hook threw', error), true);
    }
  }
  function reportError(error: unknown) {
    const wrapped = toSightlineError(error);
    safely(() => logger.debug(wrapped.message, wrapped), true);
    safely(() => options.onError?.(wrapped));
  }
  function reportDrop(reason: string, messageIds: string[], detail?: string) {
    counters.drop(reason, messageIds.length);
    safely(
      () =>
        logger.debug(`dropped ${messageIds.length} event(s): ${reason}`, { detail, messageIds }),
      true,
    );
    if (options.onDrop) safely(() => options.onDrop?.({ reason, detail, messageIds }));
  }
  const idsOf = (items: readonly QueuedEvent[]) => items.map((item) => item.messageId);

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
    persistTimer = scheduler.setTimeout(persistNow, 50);
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
    batchContext: { library },
    ...settings,
    onDrop(items, reason, detail) {
      reportDrop(reason, idsOf(items), detail);
      if (reason === 'retries_exhausted' || reason === 'max_age') {
        reportError(new DeliveryError(reason, items.length, detail ?? 'gave up'));
      }
    },
    onDeadLetter(items, reason, detail) {
      counters.counters.deadLettered += items.length;
      reportDrop(reason, idsOf(items), detail);
      reportError(new DeliveryError(reason, items.length, detail || 'rejected by the collector'));
      if (options.onDeadLetter) {
        const events = items.map((item) => JSON.parse(item.json) as AnalyticsEvent);
        safely(() => options.onDeadLetter?.({ reason, detail, events }));
      }
    },
    onDelivered(items) {
      counters.counters.sent += items.length;
      safely(() => logger.debug(`delivered ${items.length} event(s)`), true);
    },
    onRetry(items, attempt, delayMs) {
      counters.counters.retried += items.length;
      safely(
        () =>
          logger.debug(`retrying ${items.length} event(s) in ${delayMs} ms (attempt ${attempt})`),
        true,
      );
    },
    onChange: schedulePersist,
  });

  const destinations = createDestinationRouter(
    options.sandbox ? [] : (options.destinations ?? []),
    consent,
    settings.maxPendingEvents,
    {
      failed: (name, error) =>
        reportError(
          new SightlineError(
            'destination_failed',
            `destination "${name}" failed: ${toSightlineError(error).message}`,
            { cause: error },
          ),
        ),
      dropped: (event, reason) => reportDrop(reason, [event.messageId]),
    },
  );

  function accept(event: AnalyticsEvent) {
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (error) {
      reportError(
        new ValidationError(
          'properties',
          `make the event JSON-serializable (${toSightlineError(error).message})`,
        ),
      );
      return reportDrop('invalid', [event.messageId]);
    }
    const bytes = utf8ByteLength(json);
    if (bytes > LIMITS.maxEventBytes) {
      reportError(
        new ValidationError(
          'properties',
          `keep each event under 32 KB (this one is ${bytes} bytes); send large payloads elsewhere and reference them by id`,
        ),
      );
      return reportDrop('event_too_large', [event.messageId]);
    }
    counters.counters.enqueued++;
    delivery.enqueue({
      messageId: event.messageId,
      json,
      bytes,
      createdAt: timestampMillis(event.timestamp),
    });
    destinations.deliver(event);
    schedulePersist();
  }

  // ── pipeline ───────────────────────────────────────────────────────────────────────────────
  const held = new HeldItems<AnalyticsEvent>(settings.maxPendingEvents);
  const enrich: PipelineStep = function enrich(event, context) {
    const platform = options.context?.();
    const mutable = event as Mutable<AnalyticsEvent>;
    if (platform) mutable.context = Object.assign({}, platform, event.context);
    if (mutable.userId === undefined) mutable.userId = identity.userId;
    if (mutable.anonymousId === undefined) mutable.anonymousId = identity.anonymousId;
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
    const evicted = held.add(event);
    if (evicted) pipeline.drop(evicted, 'consent_buffer_overflow');
    return context.hold();
  };
  const steps: PipelineStep[] = [];
  if (options.catalog?.options.validate || options.catalog?.options.rejectUnknownEvents) {
    steps.push(createCatalogValidator(options.catalog));
  }
  steps.push(enrich, consentGate);
  if (options.pii !== false) steps.push(createPiiFilter(options.pii));
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
        reportError(
          new SightlineError(
            'plugin_failed',
            `pipeline step "${step}" threw: ${toSightlineError(error).message}`,
            { cause: error },
          ),
        );
        reportDrop('plugin_error', [event.messageId], step);
      },
    },
    consent.get,
  );

  consent.subscribe((state) => {
    write(STORAGE_KEYS.consent, JSON.stringify(state));
    const current = consent.get(settings.consentCategory);
    if (current === 'pending') return;
    for (const event of held.takeAll()) {
      if (current === 'granted') pipeline.resume(stampConsent(event), consentGate);
      else pipeline.drop(event, 'consent');
    }
  });

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
          return;
        }
        if (!hydrated) {
          const at = scheduler.now();
          const evicted = beforeReady.add(() => {
            callTime = at;
            try {
              method(...args);
            } finally {
              callTime = undefined;
            }
          });
          if (evicted) reportDrop('not_ready_overflow', ['(unassigned)']);
          return;
        }
        method(...args);
      } catch (error) {
        reportError(error);
        reportDrop('invalid', ['(unassigned)'], toSightlineError(error).message);
      }
    };
  }

  const track = guard('track', (name: string, properties?: Properties, call?: CallOptions) => {
    describeInvalid('event', name, 'string');
    describeInvalid('properties', properties, 'object');
    submit({ type: 'track', event: name, properties: properties ?? {} }, call);
  });
  const identify = guard('identify', (userId?: string, traits?: Properties, call?: CallOptions) => {
    if (userId !== undefined && userId !== null)
      describeInvalid('userId', String(userId), 'string');
    describeInvalid('traits', traits, 'object');
    if (userId !== undefined && userId !== null && settings.identity === 'persistent') {
      identity = { ...identity, userId: String(userId) };
      write(STORAGE_KEYS.userId, identity.userId);
    }
    const ids =
      userId === undefined || userId === null ? call : { ...call, userId: String(userId) };
    submit({ type: 'identify', traits: traits ?? {} }, ids);
  });
  const page = guard(
    'page',
    (name?: string, properties?: Properties, call?: CallOptions & { category?: string }) => {
      describeInvalid('properties', properties, 'object');
      const { category, ...rest } = call ?? {};
      submit(
        { type: 'page', name, category, properties: properties ?? {} },
        call ? rest : undefined,
      );
    },
  );
  const screen = guard('screen', (name: string, properties?: Properties, call?: CallOptions) => {
    describeInvalid('name', name, 'string');
    describeInvalid('properties', properties, 'object');
    submit({ type: 'screen', name, properties: properties ?? {} }, call);
  });
  const group = guard('group', (groupId: string, traits?: Properties, call?: CallOptions) => {
    describeInvalid('groupId', groupId === undefined ? groupId : String(groupId), 'string');
    describeInvalid('traits', traits, 'object');
    submit({ type: 'group', groupId: String(groupId), traits: traits ?? {} }, call);
  });
  const alias = guard('alias', (userId: string, previousId?: string, call?: CallOptions) => {
    describeInvalid('userId', userId === undefined ? userId : String(userId), 'string');
    const previous = previousId ?? identity.userId ?? identity.anonymousId;
    describeInvalid('previousId', previous, 'string');
    if (settings.identity === 'persistent') {
      identity = { ...identity, userId: String(userId) };
      write(STORAGE_KEYS.userId, identity.userId);
    }
    submit({ type: 'alias', previousId: String(previous) }, { ...call, userId: String(userId) });
  });
  const reset = guard('reset', () => {
    if (settings.identity !== 'persistent') return;
    identity = { anonymousId: uuidv7(), userId: undefined };
    write(STORAGE_KEYS.anonymousId, identity.anonymousId);
    write(STORAGE_KEYS.userId, undefined);
  });

  // ── hydration ──────────────────────────────────────────────────────────────────────────────
  function hydrate(values: Array<string | null>) {
    const [anonymousId, userId, storedConsent, storedQueue] = values;
    if (settings.identity === 'persistent') {
      const restored = restoreIdentity({
        anonymousId: anonymousId ?? null,
        userId: userId ?? null,
      });
      identity = restored.identity;
      if (restored.isNew) write(STORAGE_KEYS.anonymousId, identity.anonymousId);
    }
    if (storedConsent) {
      try {
        consent.set(JSON.parse(storedConsent) as Record<string, ConsentState>);
      } catch (error) {
        reportError(error);
      }
    }
    if (storedQueue) restoreQueue(storedQueue);
    hydrated = true;
    for (const replay of beforeReady.takeAll()) replay();
  }
  function restoreQueue(stored: string) {
    try {
      for (const event of JSON.parse(stored) as AnalyticsEvent[]) {
        const json = JSON.stringify(event);
        counters.counters.enqueued++;
        delivery.enqueue({
          messageId: event.messageId,
          json,
          bytes: utf8ByteLength(json),
          createdAt: Date.parse(event.timestamp),
        });
      }
    } catch (error) {
      reportError(
        new SightlineError(
          'storage_corrupt',
          `the persisted queue could not be read and was discarded: ${toSightlineError(error).message}`,
        ),
      );
    }
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
    const unconsented = held.takeAll();
    if (unconsented.length > 0)
      reportDrop(
        'consent',
        unconsented.map((event) => event.messageId),
        'closed while consent was pending',
      );
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
    stats: () =>
      counters.snapshot({ ...delivery.counts(), pendingConsent: held.size + destinations.held() }),
    user: () => ({ ...identity }),
    consent,
  };
}
