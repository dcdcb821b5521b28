import { ConfigurationError, type Properties, type SightlineError } from '@sightline/core';
import type { NodeAnalytics } from './nodeAnalytics';
import { emit, observeCall, type Reporter, reporter, runOperation } from './trackOperation';

/**
 * Options of `@Track`. Type `args` (and `result`) in the callbacks and the decorator checks the
 * method against them.
 */
export interface TrackOptions<Args extends readonly unknown[] = unknown[], Result = unknown> {
  /** Event properties from the call's arguments and its (awaited) return value. */
  properties?: (args: Args, result: Result) => Properties;
  /** Who called; when it returns `undefined`, the request context (`runWithContext`) decides. */
  userId?: (args: Args) => string | undefined;
}

/** Options of `@TrackOperation`. */
export interface TrackOperationOptions<
  Args extends readonly unknown[] = unknown[],
  Result = unknown,
> {
  /**
   * Properties of `_started` (`result` is `undefined`: nothing has returned yet) and of
   * `_completed` (the awaited result). `_failed` repeats those of `_started`.
   */
  properties?: (args: Args, result: Result | undefined) => Properties;
  /** Who called; when it returns `undefined`, the request context (`runWithContext`) decides. */
  userId?: (args: Args) => string | undefined;
}

/** Options of {@link createDecorators}. */
export interface DecoratorsOptions {
  /**
   * Failures of the tracking itself (a throwing `properties` or `userId` callback), as
   * `SightlineError`s with code `tracking_failed`. They never reach the decorated method's
   * caller; without this hook they are dropped. Invalid events go to the client's own `onError`.
   */
  onError?: (error: SightlineError) => void;
}

/**
 * The methods a decorator built from `Args`/`Result` accepts: any method while the callbacks'
 * types are left at their defaults, otherwise methods whose parameters and (awaited) return
 * value match them.
 */
export type TrackedMethod<Args extends readonly unknown[], Result> = (
  ...args: unknown[] extends Args ? never : Args
) => unknown extends Result ? unknown : Result | PromiseLike<Result>;

/**
 * A method decorator that works in both of TypeScript's modes: TC39 standard decorators
 * (TypeScript 5 default, esbuild, Babel 2023-05) and `experimentalDecorators` (NestJS). Which
 * one called it is decided at run time from its arguments.
 *
 * @example
 * const tracked: MethodDecorator<TrackedMethod<[string], Reply>> = Track('reply_sent');
 */
export interface MethodDecorator<Method> {
  /** TC39: `(method, context)` returns the replacement method. */
  <Value extends Method>(value: Value, context: ClassMethodDecoratorContext): Value;
  /** `experimentalDecorators`: `(prototype, name, descriptor)` returns the changed descriptor. */
  <Value extends Method>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<Value>,
  ): TypedPropertyDescriptor<Value>;
}

/** The decorators bound to one client, from {@link createDecorators}. */
export interface Decorators {
  /**
   * Tracks `event` each time the method returns (or its Promise resolves); a throwing or
   * rejecting call tracks nothing (see `TrackOperation` for failures).
   */
  Track<Args extends readonly unknown[] = unknown[], Result = unknown>(
    event: string,
    options?: TrackOptions<Args, Result>,
  ): MethodDecorator<TrackedMethod<Args, Result>>;
  /**
   * Tracks `<operation>_started` before each call and `<operation>_completed` (`duration_ms`) or
   * `<operation>_failed` (`error_class`, PII-redacted `error_message`, then the same error is
   * rethrown) after it, joined by one `operation_id`.
   */
  TrackOperation<Args extends readonly unknown[] = unknown[], Result = unknown>(
    operation: string,
    options?: TrackOperationOptions<Args, Result>,
  ): MethodDecorator<TrackedMethod<Args, Result>>;
}

/**
 * Creates `@Track` and `@TrackOperation` bound to `analytics`. The client is passed explicitly,
 * not set globally, so tests and multi-tenant apps can hold several; export the pair from one
 * module of the app (`analytics.ts`) and import them where services are declared.
 *
 * Decorated methods behave exactly as before: same `this`, arguments, return value (sync stays
 * sync; an async result resolves with the same value, one microtask later, once the event is
 * tracked) and the same thrown error object. Tracking never throws into them. `userId` and
 * `anonymousId` come from the `userId` option, else from the request context (`runWithContext`);
 * with neither, the client drops the event and reports it through its `onError`/`onDrop`.
 *
 * @example
 * export const { Track, TrackOperation } = createDecorators(analytics);
 *
 * class GenerationService {
 *   @TrackOperation('generation', { properties: ([prompt]: [string]) => ({ prompt_length: prompt.length }) })
 *   async generate(prompt: string): Promise<Reply> { … }
 *
 *   @Track('reply_rated', { properties: ([, stars]: [string, number]) => ({ stars }) })
 *   rate(replyId: string, stars: number): void { … }
 * }
 */
export function createDecorators(
  analytics: NodeAnalytics,
  options: DecoratorsOptions = {},
): Decorators {
  if (typeof analytics?.track !== 'function') {
    throw new ConfigurationError(
      'analytics',
      'pass the client returned by createNodeAnalytics({ writeKey, host }) to createDecorators',
    );
  }
  const report = reporter(options.onError);

  function Track<Args extends readonly unknown[], Result>(
    event: string,
    trackOptions: TrackOptions<Args, Result> = {},
  ): MethodDecorator<TrackedMethod<Args, Result>> {
    const label = `@Track('${requireName(event, 'Track')}')`;
    return methodDecorator(
      label,
      (method) =>
        function tracked(this: unknown, ...args: unknown[]) {
          const userId = userIdOf(trackOptions.userId, args as unknown as Args, label, report);
          return observeCall(
            () => method.apply(this, args),
            (result) => {
              let properties: Properties = {};
              try {
                properties =
                  trackOptions.properties?.(args as unknown as Args, result as Result) ?? {};
              } catch (error) {
                // The method succeeded, so its event still counts, without the properties.
                report(`the properties callback of ${label} threw`, error);
              }
              emit(analytics, event, properties, userId, report);
            },
            () => {},
          );
        },
    );
  }

  function TrackOperation<Args extends readonly unknown[], Result>(
    operation: string,
    operationOptions: TrackOperationOptions<Args, Result> = {},
  ): MethodDecorator<TrackedMethod<Args, Result>> {
    const label = `@TrackOperation('${requireName(operation, 'TrackOperation')}')`;
    const { properties } = operationOptions;
    return methodDecorator(
      label,
      (method) =>
        function trackedOperation(this: unknown, ...args: unknown[]) {
          return runOperation(
            {
              analytics,
              operation,
              properties:
                properties && ((result) => properties(args as unknown as Args, result as Result)),
              userId: userIdOf(operationOptions.userId, args as unknown as Args, label, report),
              onError: options.onError,
            },
            () => method.apply(this, args),
          );
        },
    );
  }

  return { Track, TrackOperation };
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** What a TC39 decorator receives as its second argument. */
function isTc39Context(value: unknown): value is ClassMethodDecoratorContext {
  return typeof value === 'object' && value !== null && 'kind' in value && 'name' in value;
}

/**
 * One decorator for both modes: TC39 calls it with `(method, context)` and takes the returned
 * function; `experimentalDecorators` calls it with `(prototype, name, descriptor)` and takes the
 * returned descriptor. Anything but a method is misuse, thrown when the class is defined.
 */
function methodDecorator<Method>(
  label: string,
  wrap: (method: AnyFunction) => AnyFunction,
): MethodDecorator<Method> {
  const misuse = (what: string) =>
    new ConfigurationError(label, `put it on a class method, not on ${what}`);
  const decorator = (...args: unknown[]): unknown => {
    const [value, contextOrKey, descriptor] = args;
    if (args.length === 2 && isTc39Context(contextOrKey)) {
      if (contextOrKey.kind !== 'method' || typeof value !== 'function') {
        throw misuse(`a ${contextOrKey.kind} (${String(contextOrKey.name)})`);
      }
      return named(wrap(value as AnyFunction), value);
    }
    if (typeof descriptor === 'object' && descriptor !== null) {
      const property = descriptor as PropertyDescriptor;
      if (typeof property.value !== 'function') {
        throw misuse(`an accessor or field (${String(contextOrKey)})`);
      }
      const original = property.value as AnyFunction;
      property.value = named(wrap(original), original);
      copyReflectMetadata(original, property.value);
      return property;
    }
    throw misuse('a class, a field or a parameter');
  };
  return decorator as MethodDecorator<Method>;
}

/** Keeps the method's name for stack traces and frameworks that read `fn.name`. */
function named(wrapper: AnyFunction, original: object): AnyFunction {
  const name = (original as { name?: unknown }).name;
  if (typeof name === 'string') Object.defineProperty(wrapper, 'name', { value: name });
  return wrapper;
}

interface ReflectMetadata {
  getOwnMetadataKeys(target: object): unknown[];
  getOwnMetadata(key: unknown, target: object): unknown;
  defineMetadata(key: unknown, value: unknown, target: object): void;
}

/**
 * NestJS decorators below ours (`@Get()`, `@MessagePattern()`) store their metadata on the
 * method function itself through `reflect-metadata`; the replacement must carry it, or the route
 * silently disappears.
 */
function copyReflectMetadata(from: object, to: object): void {
  const reflect = Reflect as unknown as Partial<ReflectMetadata>;
  if (
    typeof reflect.getOwnMetadataKeys !== 'function' ||
    typeof reflect.getOwnMetadata !== 'function' ||
    typeof reflect.defineMetadata !== 'function'
  ) {
    return;
  }
  for (const key of reflect.getOwnMetadataKeys(from)) {
    reflect.defineMetadata(key, reflect.getOwnMetadata(key, from), to);
  }
}

function requireName(name: string, decorator: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ConfigurationError(
      `@${decorator}`,
      `name the event as the first argument, e.g. @${decorator}('generation')`,
    );
  }
  return name;
}

function userIdOf<Args>(
  userId: ((args: Args) => string | undefined) | undefined,
  args: Args,
  label: string,
  report: Reporter,
): string | undefined {
  if (!userId) return undefined;
  try {
    return userId(args) ?? undefined;
  } catch (error) {
    report(`the userId callback of ${label} threw; the request context decides instead`, error);
    return undefined;
  }
}
