import {
  type AnalyticsEvent,
  LIMITS,
  type PipelineStep,
  utf8ByteLength,
  uuidv7,
} from '@sightline/core';
import { validateEvent } from '@sightline/core/schema';
import type { StoredEvent } from '../store/store';
import {
  applyIpPolicy,
  type Campaign,
  campaignFromUrl,
  canonicalIp,
  type IpPolicy,
  parseDevice,
  referrerDomain,
} from './enrich';
import { type FieldProblem, inspectEvent } from './inspect';

/** An event the collector refused, as named in the response. */
export interface Rejection {
  index: number;
  messageId?: string;
  field: string;
  reason: string;
  message: string;
}

/** What the request adds to each event of it. */
export interface IngestContext {
  tenant: string;
  receivedAt: number;
  /** `sentAt` of the batch envelope (ms), for clock-skew correction. */
  batchSentAt: number | undefined;
  /** `context` of the batch envelope, merged under each event's own. */
  batchContext: Record<string, unknown> | undefined;
  /** What is wrong with `batchContext` (forbidden keys, depth), if anything: every event fails. */
  batchContextProblem?: FieldProblem;
  /** Upper bound of the JSON size of `batchContext` (`inspectPart`), 0 without one. */
  batchContextMaxBytes?: number;
  clientIp: string | undefined;
  ipPolicy: IpPolicy;
  /** The server-side PII filter, or undefined when turned off. */
  piiFilter: PipelineStep | undefined;
}

const NO_OP_STEP_CONTEXT = {
  drop: () => null,
  hold: () => null,
  consent: () => 'granted' as const,
};

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function text(value: unknown, max = 512): string | null {
  if (typeof value === 'string' && value !== '') return value.slice(0, max);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : millis;
}

/**
 * Validates one raw event and turns it into a stored row: schema check (core's zod schemas),
 * size limit, server-side PII filter, clock-skew correction, `receivedAt`, device from the user
 * agent, anonymised IP, campaign from the page URL, revenue. Returns a rejection naming the field
 * instead of throwing.
 *
 * @example
 * const result = normalizeEvent(raw, 0, context);
 * if ('reason' in result) rejections.push(result); else rows.push(result);
 */
export function normalizeEvent(
  raw: unknown,
  index: number,
  context: IngestContext,
): StoredEvent | Rejection {
  const messageIdOf = () => (isObject(raw) ? (text(raw.messageId, 255) ?? undefined) : undefined);
  const reject = (field: string, reason: string, message: string): Rejection => ({
    index,
    messageId: messageIdOf(),
    field,
    reason,
    message,
  });
  if (!isObject(raw)) return reject('(event)', 'not_an_object', 'each event must be a JSON object');
  // Checked before merging, so the merge below can use Object.assign (a `__proto__` key would
  // otherwise set the copy's prototype) instead of spread, which is slow on Node 20. The batch's
  // `context` was checked once for the whole request; its keys and depth count for every event.
  if (context.batchContextProblem) {
    const { field, reason, message } = context.batchContextProblem;
    return reject(field, reason, message);
  }
  const inspection = inspectEvent(raw);
  if (inspection.problem) {
    const { field, reason, message } = inspection.problem;
    return reject(field, reason, message);
  }
  const merged = context.batchContext
    ? Object.assign({}, raw, {
        context: Object.assign({}, context.batchContext, isObject(raw.context) ? raw.context : {}),
      })
    : raw;
  // Serialised to measure only when the cheap bound says it might be over the limit.
  if (inspection.maxBytes + (context.batchContextMaxBytes ?? 0) > LIMITS.maxEventBytes) {
    const bytes = utf8ByteLength(JSON.stringify(merged));
    if (bytes > LIMITS.maxEventBytes) {
      return reject(
        '(event)',
        'event_too_large',
        `the event is ${bytes} bytes; the limit is 32 KB: move large payloads out of the event`,
      );
    }
  }
  const validation = validateEvent(merged);
  if (!validation.success) {
    const [first] = validation.issues;
    return reject(
      first?.field ?? '(event)',
      'invalid',
      validation.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '),
    );
  }
  const event = validation.event as unknown as LooseEvent;
  const eventContext = (isObject(event.context) ? event.context : {}) as Record<string, unknown>;
  // Taken before the PII filter, which redacts `context.ip`; server-side sources may send it. A
  // value that is no address (an SDK's own redaction marker) leaves the connection's address.
  const sentIp = text(eventContext.ip, 64);
  const clientIp = sentIp !== null && canonicalIp(sentIp) !== null ? sentIp : context.clientIp;
  const device = parseDevice(eventContext.userAgent, eventContext.userAgentData);

  const receivedAt = context.receivedAt;
  const sentAt = parseTime(event.sentAt) ?? context.batchSentAt;
  const happened = parseTime(event.timestamp) ?? parseTime(event.originalTimestamp);
  // Clock skew: the client's clock is off by (sentAt − receivedAt); move the timestamp with it.
  const timestamp =
    happened === undefined
      ? receivedAt
      : sentAt === undefined
        ? happened
        : receivedAt - (sentAt - happened);

  const clean = filterPii(event, context.piiFilter);
  const cleanContext: Record<string, unknown> = Object.assign({}, clean.context);
  const ip = applyIpPolicy(clientIp, context.ipPolicy);
  if (ip) cleanContext.ip = ip;
  else delete cleanContext.ip;

  const page = isObject(cleanContext.page) ? cleanContext.page : {};
  let campaign = (isObject(cleanContext.campaign) ? cleanContext.campaign : undefined) as
    | Campaign
    | undefined;
  if (!campaign || !isObject(cleanContext.clickIds)) {
    const fromUrl = campaignFromUrl(page.url ?? page.search);
    if (!campaign && fromUrl.campaign) cleanContext.campaign = campaign = fromUrl.campaign;
    if (!isObject(cleanContext.clickIds) && fromUrl.clickIds)
      cleanContext.clickIds = fromUrl.clickIds;
  }

  const properties = isObject(clean.properties) ? clean.properties : {};
  const revenue = clean.type === 'track' ? numeric(properties.revenue) : null;
  const propertiesJson = JSON.stringify(properties);
  const traitsJson = JSON.stringify(isObject(clean.traits) ? clean.traits : {});
  const contextJson = JSON.stringify(cleanContext);
  return {
    tenant: context.tenant,
    messageId: text(event.messageId, 255) ?? uuidv7(receivedAt),
    type: clean.type,
    event:
      clean.type === 'track'
        ? clean.event
        : clean.type === 'page' || clean.type === 'screen'
          ? text(clean.name)
          : null,
    timestamp,
    receivedAt,
    sentAt: sentAt ?? null,
    userId: text(event.userId, 255),
    anonymousId: text(event.anonymousId, 255),
    sessionId: text(cleanContext.sessionId, 128),
    groupId: text(event.groupId, 255),
    previousId: text(event.previousId, 255),
    utmSource: text(campaign?.source),
    utmMedium: text(campaign?.medium),
    utmCampaign: text(campaign?.name),
    utmTerm: text(campaign?.term),
    utmContent: text(campaign?.content),
    referrerDomain: referrerDomain(page.referrer),
    revenue,
    currency: revenue === null ? null : text(properties.currency, 8),
    browser: device.browser,
    os: device.os,
    deviceType: device.deviceType,
    ip,
    properties: propertiesJson,
    traits: traitsJson,
    context: contextJson,
  };
}

type LooseEvent = AnalyticsEvent & Record<string, unknown>;

/** Runs the server-side PII filter (core's; it keeps UTM campaign names, see piiFilter.ts). */
function filterPii(event: LooseEvent, piiFilter: PipelineStep | undefined): LooseEvent {
  if (!piiFilter) return event;
  return (piiFilter(event, NO_OP_STEP_CONTEXT) ?? event) as LooseEvent;
}

function numeric(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value.trim())) {
    // '9' × 400 matches the pattern but is Infinity as a double: no revenue, not Infinity.
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}
