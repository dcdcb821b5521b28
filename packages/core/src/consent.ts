import { ConfigurationError } from './errors';
import type { ConsentCategory, ConsentState } from './event';

/** Options of consent handling. */
export interface ConsentOptions {
  /**
   * Start every category as `pending` until the app records a choice; events wait in memory
   * meanwhile. Default `false`: categories start `granted` (set `initial` to be precise).
   */
  require?: boolean;
  /** Starting state per category; wins over `require`. */
  initial?: Record<string, ConsentState>;
  /** Most events held while a category is pending (default 1,000); older ones are dropped. */
  maxPendingEvents?: number;
}

type Listener = (state: Readonly<Record<string, ConsentState>>) => void;

/**
 * The consent state per category (at least `analytics` and `marketing`).
 *
 * @example
 * analytics.consent.set({ analytics: 'granted', marketing: 'denied' });
 * analytics.consent.get('marketing'); // 'denied'
 */
export interface ConsentManager {
  get(category: ConsentCategory): ConsentState;
  /** Every known category's state; a new frozen object after each change. */
  getAll(): Readonly<Record<string, ConsentState>>;
  set(update: Record<string, ConsentState>): void;
  /** Calls `listener` after each change; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void;
}

const STATES = new Set<string>(['granted', 'denied', 'pending']);

/**
 * Creates the consent state machine. Persisting the choice is the platform's job: subscribe and
 * write it to storage, then pass it back as `initial`.
 *
 * @example
 * const consent = createConsentManager({ require: true });
 * consent.subscribe((state) => storage.setItem('consent', JSON.stringify(state)));
 */
export function createConsentManager(options: ConsentOptions = {}): ConsentManager {
  const fallback: ConsentState = options.require ? 'pending' : 'granted';
  let state: Readonly<Record<string, ConsentState>> = Object.freeze({
    analytics: fallback,
    marketing: fallback,
    ...validated(options.initial ?? {}, 'consent.initial'),
  });
  const listeners = new Set<Listener>();

  return {
    get: (category) => state[category] ?? fallback,
    getAll: () => state,
    set(update) {
      const next = validated(update, 'consent.set()');
      if (Object.keys(next).every((category) => state[category] === next[category])) return;
      state = Object.freeze({ ...state, ...next });
      for (const listener of listeners) listener(state);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function validated(update: Record<string, ConsentState>, where: string) {
  for (const [category, value] of Object.entries(update)) {
    if (!STATES.has(value)) {
      throw new ConfigurationError(
        `${where}.${category}`,
        `use 'granted', 'denied' or 'pending' (got ${JSON.stringify(value)})`,
      );
    }
  }
  return update;
}

/**
 * Appends `item` to a FIFO bounded by `max`; past it, removes the oldest item and returns it so it
 * can be counted as a drop.
 */
export function holdBounded<T>(items: T[], max: number, item: T): T | undefined {
  return items.push(item) > max ? items.shift() : undefined;
}

/**
 * Items waiting for one consent category: passed on in order once it is granted, dropped with
 * reason `consent` once it is denied, and the oldest dropped with `consent_buffer_overflow` past
 * `max`. The client's consent gate and each destination hold their events with one of these.
 */
export function holdUntilConsent<T>(
  consent: ConsentManager,
  category: ConsentCategory,
  max: number,
  pass: (item: T) => void,
  drop: (item: T, reason: string) => void,
) {
  const held: T[] = [];
  consent.subscribe(() => {
    const state = consent.get(category);
    if (state === 'pending') return;
    for (const item of held.splice(0)) {
      if (state === 'granted') pass(item);
      else drop(item, 'consent');
    }
  });
  return {
    held,
    add(item: T) {
      const evicted = holdBounded(held, max, item);
      if (evicted) drop(evicted, 'consent_buffer_overflow');
    },
  };
}
