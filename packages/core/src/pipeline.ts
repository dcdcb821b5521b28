import type { AnalyticsEvent, ConsentCategory, ConsentState } from './event';

/**
 * What a pipeline step may do besides returning the (possibly changed) event.
 */
export interface StepContext {
  /**
   * Drops the event with a reason that reaches the debug logger, `stats().dropped` and `onDrop`.
   * Returns `null`, so a step can `return context.drop('bot_traffic')`.
   */
  drop(reason: string, detail?: string): null;
  /** Keeps the event aside to be resumed later (the consent gate uses it); not a drop. */
  hold(): null;
  /** The current consent state of a category. */
  consent(category: ConsentCategory): ConsentState;
}

/** What a step returns: the event to pass on, or `null` to stop it. */
export type StepResult = AnalyticsEvent | null;

/**
 * One pipeline step: a plain function. Return the event (changed or not) to pass it on, or
 * `context.drop(reason)` to stop it. A step may return a Promise; sync steps stay on the fast path.
 *
 * @example
 * const dropBots: PipelineStep = (event, context) =>
 *   String(event.context.userAgent).includes('bot') ? context.drop('bot') : event;
 */
export type PipelineStep = (
  event: AnalyticsEvent,
  context: StepContext,
) => StepResult | Promise<StepResult>;

/** Where a pipeline run ends. */
export interface PipelineSink {
  accept(event: AnalyticsEvent): void;
  dropped(event: AnalyticsEvent, reason: string, detail?: string): void;
  failed(event: AnalyticsEvent, step: string, error: unknown): void;
}

class RunContext implements StepContext {
  reason: string | undefined = undefined;
  detail: string | undefined = undefined;
  held = false;

  constructor(readonly consent: (category: ConsentCategory) => ConsentState) {}

  drop(reason: string, detail?: string): null {
    this.reason = reason;
    this.detail = detail;
    return null;
  }

  hold(): null {
    this.held = true;
    return null;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<StepResult> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** A running pipeline: ordered steps ending in a sink. */
export interface Pipeline {
  run(event: AnalyticsEvent): void;
  /** Continues a held event with the steps after `step`. */
  resume(event: AnalyticsEvent, step: PipelineStep): void;
  /** Reports a drop decided outside a step (e.g. a held event whose consent was denied). */
  drop(event: AnalyticsEvent, reason: string, detail?: string): void;
  /** Resolves once every event inside an async step has left the pipeline. */
  settled(): Promise<void>;
}

/**
 * Runs events through `steps` in order. A throwing step never reaches the caller: the event goes
 * to `sink.failed`. Steps are synchronous on the hot path; a Promise result continues the run
 * asynchronously and is tracked so `settled()` can wait for it.
 *
 * @example
 * const pipeline = createPipeline([enrich, piiFilter], { accept: enqueue, dropped: count, failed: report }, consent.get);
 */
export function createPipeline(
  steps: readonly PipelineStep[],
  sink: PipelineSink,
  consent: (category: ConsentCategory) => ConsentState,
): Pipeline {
  const inFlight = new Set<Promise<void>>();

  const stepName = (index: number) => steps[index]?.name || `step ${index}`;

  function runFrom(start: number, event: AnalyticsEvent): void {
    const context = new RunContext(consent);
    let current = event;
    for (let index = start; index < steps.length; index++) {
      let result: StepResult | Promise<StepResult>;
      try {
        result = steps[index]!(current, context);
      } catch (error) {
        sink.failed(current, stepName(index), error);
        return;
      }
      if (isPromiseLike(result)) {
        continueAsync(index, current, context, result);
        return;
      }
      if (result === null) {
        finishStopped(index, current, context);
        return;
      }
      current = result;
    }
    sink.accept(current);
  }

  function finishStopped(index: number, event: AnalyticsEvent, context: RunContext): void {
    if (context.held) return;
    sink.dropped(event, context.reason ?? `plugin:${stepName(index)}`, context.detail);
  }

  function continueAsync(
    index: number,
    event: AnalyticsEvent,
    context: RunContext,
    pending: PromiseLike<StepResult>,
  ): void {
    const tracked = Promise.resolve(pending).then(
      (result) => {
        if (result === null) finishStopped(index, event, context);
        else runFrom(index + 1, result);
      },
      (error: unknown) => sink.failed(event, stepName(index), error),
    );
    const settle = tracked.finally(() => inFlight.delete(settle));
    inFlight.add(settle);
  }

  return {
    run: (event) => runFrom(0, event),
    resume(event, step) {
      const index = steps.indexOf(step);
      runFrom(index + 1, event);
    },
    drop: (event, reason, detail) => sink.dropped(event, reason, detail),
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
