import { AsyncLocalStorage } from 'node:async_hooks';

/** Who a request is for: events tracked while it runs inherit these. */
export interface RequestContext {
  userId?: string;
  anonymousId?: string;
  /** The app's tenant (account, workspace), sent as `context.tenant`. */
  tenant?: string;
  /** Sent as `context.requestId`, to find a request's events. */
  requestId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/**
 * Runs `fn` with `context` as the request context: every event tracked inside it, however deep
 * in awaits, callbacks and timers started there, takes its `userId`/`anonymousId` unless the call
 * names its own, and carries `tenant` and `requestId`. Nested calls merge over the outer context.
 *
 * @example
 * runWithContext({ userId: 'u-42', requestId: 'req-1' }, () => service.generate(prompt));
 */
export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer ? { ...outer, ...context } : context, fn);
}

/**
 * The request context of the running code, if any.
 *
 * @example
 * const { userId } = currentContext() ?? {};
 */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}
