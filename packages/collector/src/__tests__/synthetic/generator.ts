import { CHANNELS, type Channel, type RawEvent, USER_AGENTS } from './catalog';
import { simulateMarketing } from './marketing';
import {
  assignDevices,
  DAY,
  FORCED_ROLES,
  HOUR,
  MINUTE,
  newSession,
  type Person,
  type Role,
  simulateSession,
} from './person';
import { createRandom, mixSeed, type Random } from './random';
import { emitFunnel, planFunnel } from './signupFlow';
import { Timeline } from './timeline';

export type { RawEvent } from './catalog';

/** What to generate: `users` visitors arriving over `days` days from `start` (UTC midnight). */
export interface GenerateOptions {
  seed: number;
  users: number;
  days: number;
  /** `YYYY-MM-DD`: UTC midnight of day 1. */
  start: string;
}

/**
 * Generates a deterministic, realistic product-analytics event stream: visitors arriving on
 * different days through referrers and UTM campaigns, sessions, churn and comebacks, anonymous →
 * identified users (identify, alias, second devices, anonymous ids linked twice), a signup →
 * project → payment funnel with drop-off and long delays, repeat payments, refunds, ad spend and
 * sessions around UTC midnight. Events are sorted by timestamp and never carry `sentAt`; the
 * events of one person (hence of one user key) have distinct timestamps.
 *
 * @example
 * const events = generateEvents({ seed: 1, users: 2000, days: 60, start: '2024-03-01' });
 * for (const batch of toBatches(events)) await post('/v1/batch', { batch });
 */
export function generateEvents(options: GenerateOptions): RawEvent[] {
  const origin = Date.parse(`${options.start}T00:00:00.000Z`);
  if (Number.isNaN(origin)) throw new Error(`start must be YYYY-MM-DD, got ${options.start}`);
  const end = origin + options.days * DAY;
  const times: number[] = [];
  const events: RawEvent[] = [];
  const collect = (timeline: Timeline) => {
    for (const { t, event } of timeline.finish()) {
      times.push(t);
      events.push(event);
    }
  };
  for (let index = 0; index < options.users; index++) {
    collect(simulatePerson(options, index, origin, end));
  }
  collect(simulateMarketing(createRandom(mixSeed(options.seed, 0)), options, origin));
  // Ties keep generation order (person by person), so the output is fully deterministic.
  const order = Array.from(times, (_, index) => index);
  order.sort((a, b) => times[a]! - times[b]! || a - b);
  return order.map((index) => events[index]!);
}

/**
 * Splits events into `/v1/batch` bodies' `batch` arrays of at most `size` events.
 *
 * @example
 * toBatches(events, 500).map((batch) => ({ batch }));
 */
export function toBatches(events: readonly RawEvent[], size = 500): RawEvent[][] {
  const batches: RawEvent[][] = [];
  for (let at = 0; at < events.length; at += size) batches.push(events.slice(at, at + size));
  return batches;
}

function simulatePerson(options: GenerateOptions, index: number, origin: number, end: number) {
  const r = createRandom(mixSeed(options.seed, index + 1));
  const forced = options.users >= 20 ? FORCED_ROLES[index] : undefined;
  // A few signups use alias instead of identify; most visitors never sign up.
  const role: Role = forced ?? (r.chance(0.55) ? (r.chance(0.08) ? 'alias' : 'signup') : 'visitor');
  const hex = () => r.int(0, 0xffffff).toString(16).padStart(6, '0');
  const person: Person = {
    r,
    tag: `${options.seed}-${index}`,
    role,
    forced: forced !== undefined,
    anonymousId: `anon-${hex()}-${index}`,
    secondAnonymousId: `anon-${hex()}-${index}-b`,
    userId: role === 'tieLink' ? `user-${index}-a` : `user-${index}`,
    userAgent: r.pick(USER_AGENTS).userAgent,
    secondUserAgent: r.pick(USER_AGENTS).userAgent,
    numericSessions: r.chance(0.2),
    variant: r.chance(0.9) ? r.pick(['a', 'b']) : r.chance(0.5) ? 2 : undefined,
    identifiedAt: undefined,
    loginAt: undefined,
    oneIdOnly: role === 'alias' || role === 'tieLink',
    sessions: [],
    timeline: new Timeline(`syn-${options.seed}-${index}`),
  };
  const arrival = forced ? r.int(0, Math.floor(options.days / 3)) : r.int(0, options.days - 1);
  const pattern = forced ? (role === 'nightOwl' ? 'regular' : 'loyal') : pickPattern(r);
  const days = activeDays(r, pattern, arrival, options.days);
  let last = Number.NEGATIVE_INFINITY;
  for (const day of days) {
    for (const planned of sessionStarts(r, origin + day * DAY, role === 'nightOwl')) {
      // Sessions last under an hour: two hours apart, they never overlap.
      const start = Math.max(planned, last + 2 * HOUR);
      last = start;
      person.sessions.push(newSession(person, start, r.pick(WEIGHTED_CHANNELS)));
    }
  }
  const signs = role !== 'visitor' && person.sessions.length > 0;
  const signupSession = signs
    ? r.chance(0.4)
      ? person.sessions[0]
      : r.pick(person.sessions)
    : undefined;
  const milestones = signupSession ? planFunnel(person, signupSession.start, end) : undefined;
  person.identifiedAt = milestones?.completed;
  assignDevices(person);
  for (const session of [...person.sessions]) simulateSession(person, session);
  if (milestones) emitFunnel(person, milestones, end);
  return person.timeline;
}

function pickPattern(r: Random): 'oneoff' | 'regular' | 'loyal' | 'comeback' {
  const x = r.next();
  return x < 0.3 ? 'oneoff' : x < 0.75 ? 'regular' : x < 0.85 ? 'loyal' : 'comeback';
}

/** Days (0-based) on which a person visits: some stay, some churn, some come back a month later. */
function activeDays(r: Random, pattern: string, arrival: number, total: number): number[] {
  const days: number[] = [];
  const block = (from: number, length: number, p: number) => {
    for (let day = from; day <= from + length && day < total; day++) {
      if (day === from || r.chance(p)) days.push(day);
    }
  };
  if (pattern === 'oneoff') block(arrival, r.chance(0.3) ? 1 : 0, 0.5);
  else if (pattern === 'regular') block(arrival, r.int(2, 40), r.float(0.15, 0.5));
  else if (pattern === 'loyal') block(arrival, total, 0.75);
  else {
    const first = r.int(1, 5);
    block(arrival, first, 0.6);
    block(arrival + first + r.int(32, 45), r.int(0, 6), 0.5);
  }
  return days;
}

/** One or two session starts on a day; some within minutes of UTC midnight. */
function sessionStarts(r: Random, dayStart: number, nightOwl: boolean): number[] {
  const count = r.chance(0.3) ? 2 : 1;
  const starts: number[] = [];
  for (let i = 0; i < count; i++) {
    starts.push(
      nightOwl || r.chance(0.12)
        ? dayStart + DAY - r.int(1, 15) * MINUTE - r.int(0, 59_999)
        : dayStart + r.int(0, DAY - 1),
    );
  }
  return starts.sort((a, b) => a - b);
}

/** Each channel repeated by its weight, so that a uniform pick is a weighted one. */
const WEIGHTED_CHANNELS = CHANNELS.flatMap((channel) =>
  Array<Channel>(channel.weight).fill(channel),
);
