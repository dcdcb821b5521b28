import {
  type AnalyticsOptions,
  type AnalyticsStats,
  type CallOptions,
  ConfigurationError,
  type ConsentManager,
  createAnalytics,
  type EventContext,
  type Properties,
  type Scheduler,
} from '@sightline/core';
import { createNodeTransport } from './nodeTransport';
import { PackedEventQueue } from './packedQueue';
import { currentContext } from './requestContext';

declare const __SIGHTLINE_VERSION__: string;

/** Fields every server-side message may carry (Segment's server API shape). */
export interface MessageBase {
  /** Who did it; from the request context when left out. One of userId/anonymousId is needed. */
  userId?: string;
  anonymousId?: string;
  /** When it happened; default now. */
  timestamp?: Date | string;
  /** Keep your own id (an outbox row id) instead of a generated UUIDv7. */
  messageId?: string;
  context?: EventContext;
  integrations?: Record<string, boolean | Properties>;
}

export interface TrackMessage extends MessageBase {
  event: string;
  properties?: Properties;
}
export interface IdentifyMessage extends MessageBase {
  traits?: Properties;
}
export interface PageMessage extends MessageBase {
  name?: string;
  category?: string;
  properties?: Properties;
}
export interface GroupMessage extends MessageBase {
  groupId: string;
  traits?: Properties;
}
export interface AliasMessage extends MessageBase {
  userId: string;
  previousId: string;
}

/** What to do with a new event when the queue is full. */
export type OverflowPolicy =
  /** Drop the oldest queued event (counted as `queue_overflow`); the call returns at once. */
  | 'drop-oldest'
  /**
   * The call returns a Promise that waits up to `timeoutMs` for room (requests completing); the
   * event is dropped (counted as `queue_full`) if none comes. Awaiting it is backpressure.
   */
  | { block: { timeoutMs: number } };

/** Options of {@link createNodeAnalytics}: core's, with server defaults, plus the Node ones. */
export interface NodeAnalyticsOptions
  extends Omit<
    AnalyticsOptions,
    | 'identity'
    | 'storage'
    | 'persistQueue'
    | 'persistDelayMs'
    | 'context'
    | 'library'
    | 'writeKeyIn'
  > {
  /** Queue full: `'drop-oldest'` (default) or `{ block: { timeoutMs } }`. */
  overflow?: OverflowPolicy;
  /** gzip request bodies of 1 KB or more. Default true. */
  gzip?: boolean;
  /**
   * Flush on SIGTERM, SIGINT and `beforeExit`, then let the process end as it would have.
   * Default false (a library should not take over signals unasked).
   */
  handleSignals?: boolean;
  /**
   * Serverless runtimes' `waitUntil` (Vercel `waitUntil` from `@vercel/functions`, Cloudflare
   * `ctx.waitUntil`): every call hands it a flush, so the platform keeps the function alive until
   * the events are delivered.
   */
  waitUntil?: (promise: Promise<unknown>) => void;
}

/** The Node client. Calls never throw; failures go to `onError`/`onDrop` and `stats()`. */
export interface NodeAnalytics {
  track(message: TrackMessage): void | Promise<void>;
  identify(message: IdentifyMessage): void | Promise<void>;
  page(message: PageMessage): void | Promise<void>;
  group(message: GroupMessage): void | Promise<void>;
  alias(message: AliasMessage): void | Promise<void>;
  /** Tracks, then resolves once this event (and everything before it) is delivered or failed. */
  trackImmediate(message: TrackMessage): Promise<void>;
  /** Resolves when everything tracked before the call is delivered or definitively failed. */
  flush(): Promise<void>;
  /**
   * Flushes for up to `timeoutMs` (default 10 s), then stops: what is left is reported through
   * `onError`/`onDrop` (reason `close_timeout`). Later calls are refused (reason `closed`).
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
  stats(): AnalyticsStats;
  readonly consent: ConsentManager;
}

/** Timers that never keep the process alive. */
const unrefScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * A server absorbs bursts: a synchronous loop of 100,000 calls sends nothing until it returns, so
 * the queue must hold them all (about 53 MB of heap for 100,000 typical events), or it drops the
 * oldest. Browsers use core's smaller defaults.
 */
const NODE_MAX_QUEUE_EVENTS = 100_000;
const NODE_MAX_QUEUE_BYTES = 64 * 1024 * 1024;

/** How often a blocked call looks for room in the queue. */
const BLOCK_POLL_MS = 5;

/**
 * Creates the Node client: per-call identity (with the request context as default), batches of up
 * to 500 KB / 2,500 events gzipped to the collector, 4 requests in flight, core's retry policy,
 * a queue bounded by events and bytes, timers that never hold the process open.
 *
 * @example
 * const analytics = createNodeAnalytics({ writeKey: 'wk_…', host: 'http://127.0.0.1:8787' });
 * analytics.track({ userId: 'u-42', event: 'generation_completed', properties: { model: 'fast' } });
 * await analytics.close();
 */
export function createNodeAnalytics(options: NodeAnalyticsOptions): NodeAnalytics {
  const overflow = options.overflow ?? 'drop-oldest';
  if (
    overflow !== 'drop-oldest' &&
    !(Number.isInteger(overflow?.block?.timeoutMs) && overflow.block.timeoutMs >= 0)
  ) {
    throw new ConfigurationError(
      'overflow',
      "use 'drop-oldest' or { block: { timeoutMs } } with a whole number of milliseconds ≥ 0",
    );
  }
  const maxQueueEvents = options.maxQueueEvents ?? NODE_MAX_QUEUE_EVENTS;
  const core = createAnalytics({
    maxInFlight: 4,
    maxQueueEvents,
    maxQueueBytes: NODE_MAX_QUEUE_BYTES,
    scheduler: unrefScheduler,
    createQueue: (maxEvents, maxBytes) => new PackedEventQueue(maxEvents, maxBytes),
    ...options,
    transport:
      options.transport ??
      (options.sandbox
        ? undefined
        : options.host
          ? createNodeTransport({
              host: options.host,
              writeKey: options.writeKey,
              timeoutMs: options.requestTimeoutMs,
              gzip: options.gzip,
            })
          : undefined),
    identity: 'per-call',
    library: { name: '@sightline/node', version: __SIGHTLINE_VERSION__ },
  });

  /** Call options from a message and the request context. */
  const callOptions = (message: MessageBase | undefined): CallOptions => {
    const request = currentContext();
    const context =
      request?.tenant !== undefined || request?.requestId !== undefined
        ? { tenant: request.tenant, requestId: request.requestId, ...message?.context }
        : message?.context;
    return {
      userId: message?.userId ?? request?.userId,
      anonymousId: message?.anonymousId ?? request?.anonymousId,
      timestamp: message?.timestamp,
      messageId: message?.messageId,
      context,
      integrations: message?.integrations,
    };
  };

  let pendingWait: Promise<unknown> | undefined;
  const handOff = () => {
    if (!options.waitUntil || pendingWait) return;
    // One flush per turn of the event loop covers every call made in it.
    pendingWait = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      pendingWait = undefined;
      return core.flush();
    });
    options.waitUntil(pendingWait);
  };

  const full = () => {
    const { queued, inFlight } = core.stats();
    return queued + inFlight >= maxQueueEvents;
  };
  let dropped = 0;
  /** Waits for room up to the timeout, then runs `send` (or drops, counted, when none came). */
  const whenRoom = async (timeoutMs: number, send: () => void): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (full() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, BLOCK_POLL_MS).unref());
    }
    if (full()) {
      dropped++;
      try {
        options.onDrop?.({
          reason: 'queue_full',
          detail: `no room within ${timeoutMs} ms`,
          messageIds: [],
        });
      } catch {
        // A throwing hook stays here.
      }
      return;
    }
    send();
  };

  const call =
    <M extends MessageBase | undefined>(send: (message: M) => void) =>
    (message: M): void | Promise<void> => {
      const run = () => {
        send(message);
        handOff();
      };
      if (overflow === 'drop-oldest' || !full()) {
        run();
        return overflow === 'drop-oldest' ? undefined : Promise.resolve();
      }
      // The request context is captured now, not when room comes.
      const options = callOptions(message);
      return whenRoom(overflow.block.timeoutMs, () => {
        send({ ...message, ...options } as M);
        handOff();
      });
    };

  const track = call((message: TrackMessage) =>
    core.track(message?.event, message?.properties, callOptions(message)),
  );
  const identify = call((message: IdentifyMessage) =>
    core.identify(
      message?.userId ?? currentContext()?.userId,
      message?.traits,
      callOptions(message),
    ),
  );
  const page = call((message: PageMessage) =>
    core.page(message?.name, message?.properties, {
      ...callOptions(message),
      category: message?.category,
    }),
  );
  const group = call((message: GroupMessage) =>
    core.group(message?.groupId, message?.traits, callOptions(message)),
  );
  const alias = call((message: AliasMessage) =>
    core.alias(message?.userId, message?.previousId, callOptions(message)),
  );

  /**
   * Keeps the process alive while `promise` is pending. The client's timers are unref'd so they
   * never hold a process open on their own; but a caller awaiting `flush()` or `close()` is
   * waiting for them (a retry's backoff, close's deadline), and without this the process would
   * end mid-await, losing the events unreported.
   */
  const holdOpen = <T>(promise: Promise<T>): Promise<T> => {
    const handle = setInterval(() => {}, 1 << 30);
    return promise.finally(() => clearInterval(handle));
  };

  const stops: Array<() => void> = [];
  if (options.handleSignals) {
    stops.push(flushOnExit((closeOptions) => holdOpen(core.close(closeOptions))));
  }

  return {
    track,
    identify,
    page,
    group,
    alias,
    trackImmediate(message) {
      return holdOpen(
        (async () => {
          await track(message);
          await core.flush();
        })(),
      );
    },
    flush: () => holdOpen(core.flush()),
    close(closeOptions) {
      for (const stop of stops.splice(0)) stop();
      return holdOpen(core.close(closeOptions));
    },
    stats() {
      const stats = core.stats();
      if (dropped === 0) return stats;
      return { ...stats, dropped: { ...stats.dropped, queue_full: dropped } };
    },
    consent: core.consent,
  };
}

/**
 * On SIGTERM/SIGINT: flush (bounded by close's timeout), then let the signal do what it would
 * have done without us (other listeners run; with none, the process ends by the signal). On
 * `beforeExit`: flush once more. Returns the function that removes the listeners.
 */
function flushOnExit(close: (options?: { timeoutMs?: number }) => Promise<void>): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    void close().finally(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  let exiting = false;
  const onBeforeExit = () => {
    if (exiting) return;
    exiting = true;
    void close();
  };
  const remove = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('beforeExit', onBeforeExit);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  process.on('beforeExit', onBeforeExit);
  return remove;
}
