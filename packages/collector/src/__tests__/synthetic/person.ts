/**
 * A simulated person of the generator: roles, sessions on one or two devices, and the ids and
 * context their events carry.
 */
import {
  APP_PAGES,
  CHANNELS,
  type Channel,
  MARKETING_PAGES,
  type RawContext,
  SITE,
} from './catalog';
import type { Random } from './random';
import type { Timeline } from './timeline';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Roles given to the first persons, so that small data sets still hold every case. */
export const FORCED_ROLES = [
  'alias',
  'doubleLink',
  'tieLink',
  'secondDevice',
  'junkRevenue',
  'stringRevenue',
  'slowPayer',
  'nightOwl',
] as const;
export type Role = (typeof FORCED_ROLES)[number] | 'visitor' | 'signup';

export interface Session {
  id: string | number;
  start: number;
  end: number;
  channel: Channel;
  /** Referrer of later pages: SPA keeps the landing one, or the previous page, or none. */
  referrerMode: 'keep' | 'internal' | 'none';
  device: 'main' | 'second';
}

/** One person: one clock, one or two devices, up to three user ids. */
export interface Person {
  r: Random;
  tag: string;
  role: Role;
  /** Given its role to guarantee a case: completes signup, and pays when the role is about paying. */
  forced: boolean;
  anonymousId: string;
  secondAnonymousId: string;
  userId: string;
  userAgent: string;
  secondUserAgent: string;
  numericSessions: boolean;
  variant: string | number | undefined;
  /** When the main device got linked (signup completed); undefined while anonymous. */
  identifiedAt: number | undefined;
  /** When the second device logged in. */
  loginAt: number | undefined;
  /** After signup, events carry one id only (never both): the alias is the only link. */
  oneIdOnly: boolean;
  sessions: Session[];
  timeline: Timeline;
}

/** A session starting at `start` through `channel`, on the main device. */
export function newSession(person: Person, start: number, channel: Channel): Session {
  const { r } = person;
  const count = person.sessions.length;
  return {
    id: person.numericSessions ? start : `sess-${person.tag}-${count}`,
    start,
    end: start,
    channel,
    referrerMode: r.pick(['keep', 'keep', 'internal', 'none'] as const),
    device: 'main',
  };
}

/** Some sessions after signup happen on a second device, which logs in during its first one. */
export function assignDevices(person: Person): void {
  const { identifiedAt, r } = person;
  if (identifiedAt === undefined) return;
  const twoDevices = person.role === 'secondDevice' || (!person.oneIdOnly && r.chance(0.1));
  if (!twoDevices) return;
  let first = true;
  for (const session of person.sessions) {
    if (session.start < identifiedAt + DAY) continue;
    if (first || r.chance(0.4)) session.device = 'second';
    first = false;
  }
}

/** The ids an event at `t` carries: anonymous before the link, then a mix (one or both). */
export function idsAt(person: Person, t: number, device: 'main' | 'second') {
  const anonymousId = device === 'main' ? person.anonymousId : person.secondAnonymousId;
  const linkedAt = device === 'main' ? person.identifiedAt : person.loginAt;
  if (linkedAt === undefined || t < linkedAt) return { anonymousId };
  const x = person.r.next();
  if (person.oneIdOnly) return x < 0.5 ? { userId: person.userId } : { anonymousId };
  if (x < 0.5) return { anonymousId, userId: person.userId };
  return x < 0.75 ? { userId: person.userId } : { anonymousId };
}

/** The page views and clicks of one session (1–5 pages, under an hour); logs in a second device. */
export function simulateSession(person: Person, session: Session): void {
  const { r } = person;
  const gap = () => r.int(5, 170) * SECOND + r.int(0, 999);
  let t = session.start;
  let previousPath: string | undefined;
  const pageCount = r.int(1, 5);
  for (let i = 0; i < pageCount; i++) {
    const signedIn = person.identifiedAt !== undefined && t >= person.identifiedAt;
    const page = r.pick<{ name: string; path: string }>(signedIn ? APP_PAGES : MARKETING_PAGES);
    const from = previousPath;
    // A fresh context per event: no two events share nested objects.
    const context = () => sessionContext(person, session, page, i === 0, from);
    previousPath = page.path;
    person.timeline.add(t, {
      type: 'page',
      name: page.name,
      ...idsAt(person, t, session.device),
      properties: { path: page.path },
      context: context(),
    });
    for (let k = r.int(0, 2); k > 0; k--) {
      t += gap();
      const feature = r.chance(0.6);
      person.timeline.add(t, {
        type: 'track',
        event: feature ? 'feature_used' : 'button_clicked',
        ...idsAt(person, t, session.device),
        properties: feature
          ? withVariant(person, { feature: r.pick(['charts', 'export', 'alerts', 'sharing']) })
          : { label: r.pick(['cta_hero', 'cta_pricing', 'nav_docs']) },
        context: context(),
      });
    }
    t += gap();
  }
  if (session.device === 'second' && person.loginAt === undefined) {
    person.loginAt = t;
    person.timeline.add(t, {
      type: 'identify',
      anonymousId: person.secondAnonymousId,
      userId: person.userId,
      traits: { login_method: 'password' },
      context: sessionContext(person, session, { name: 'Login', path: '/login' }, false, undefined),
    });
  }
  session.end = t;
}

/** `properties` plus the person's experiment variant, when it has one. */
export function withVariant(person: Person, properties: Record<string, unknown>) {
  return person.variant === undefined ? properties : { ...properties, variant: person.variant };
}

/**
 * The context of an event of `session` on `page`: the landing page carries the channel's query
 * string and referrer; later pages the landing referrer (SPA), the previous page or none.
 */
export function sessionContext(
  person: Person,
  session: Session,
  page: { name: string; path: string },
  landing: boolean,
  previousPath: string | undefined,
): RawContext {
  const { channel } = session;
  const referrer = landing
    ? channel.referrer
    : session.referrerMode === 'keep'
      ? channel.referrer
      : session.referrerMode === 'internal' && previousPath !== undefined
        ? `${SITE}${previousPath}`
        : '';
  return {
    page: {
      url: `${SITE}${page.path}${landing ? channel.query : ''}`,
      path: page.path,
      referrer,
      title: `${page.name} | Sightline`,
    },
    ...(channel.campaign ? { campaign: { ...channel.campaign } } : {}),
    userAgent: session.device === 'main' ? person.userAgent : person.secondUserAgent,
    sessionId: session.id,
  };
}

/** The context of a browser event at `t`: its session's, or a new direct session's. */
export function browserContext(person: Person, t: number, path: string, name: string): RawContext {
  let session = person.sessions.find(
    (candidate) =>
      candidate.device === 'main' && candidate.start <= t && t <= candidate.end + 30 * MINUTE,
  );
  if (!session) {
    session = newSession(person, t, CHANNELS[0]!);
    session.referrerMode = 'none';
    person.sessions.push(session);
  }
  return sessionContext(person, session, { name, path }, false, undefined);
}
