import type * as z from 'zod';
import { HttpError } from '../http/errors';
import { ALL_TENANTS, bearerToken, type Keyring } from '../keys';
import type { Store } from '../store/store';
import type { QueryCache } from './queryCache';

/** Who is asking, resolved from the read key. */
export interface Caller {
  /** The tenant every query of this request is scoped to. */
  tenant: string;
  /** Whether the key is an admin key (tenant `*`), which picked `tenant` with `?tenant=`. */
  admin: boolean;
  /**
   * A stable, non-secret name of the key for audit logs: `rk_` and the first 8 hex characters of
   * the SHA-256 of the key.
   */
  actor: string;
}

/** What every read route gets. */
export interface ReadContext {
  request: Request;
  url: URL;
  caller: Caller;
  store: Store;
  cache: QueryCache;
  /** Path parameters, e.g. `{ id }` of `/v1/users/:id`. */
  params: Record<string, string>;
  now: number;
}

/**
 * Resolves the caller of a read request: `Authorization: Bearer <readKey>`. A tenant key sees its
 * own tenant only (a `tenant` query parameter naming another tenant is refused); an admin key
 * (tenant `*`) must name the tenant with `?tenant=` on tenant-scoped routes.
 *
 * @example
 * const caller = authorizeRead(request, url, readKeys, actorOf);
 */
export function authorizeRead(
  request: Request,
  url: URL,
  readKeys: Keyring,
  actorOf: (key: string) => string,
  options: { tenantRequired: boolean } = { tenantRequired: true },
): Caller {
  const token = bearerToken(request.headers.get('authorization'));
  if (!token) {
    throw new HttpError(
      401,
      'missing_read_key',
      'send a read key as "Authorization: Bearer <readKey>" (write keys cannot read)',
    );
  }
  const tenant = readKeys.tenantOf(token);
  if (tenant === undefined) {
    throw new HttpError(401, 'invalid_read_key', 'the read key is not known to this collector');
  }
  const asked = url.searchParams.get('tenant');
  if (tenant === ALL_TENANTS) {
    if (!asked && options.tenantRequired) {
      throw new HttpError(
        400,
        'tenant_required',
        'an admin key reads one tenant at a time: add ?tenant=<tenant>',
        {},
        { parameter: 'tenant' },
      );
    }
    return { tenant: asked ?? ALL_TENANTS, admin: true, actor: actorOf(token) };
  }
  if (asked && asked !== tenant) {
    throw new HttpError(
      403,
      'forbidden_tenant',
      'this read key belongs to another tenant: drop ?tenant= or use that tenant’s key',
      {},
      { parameter: 'tenant' },
    );
  }
  return { tenant, admin: false, actor: actorOf(token) };
}

/**
 * Parses `input` with `schema`, turning the first issue into a 400 that names the parameter and
 * says how to fix it.
 *
 * @example
 * const query = parseParams(metricsQuery, Object.fromEntries(url.searchParams));
 */
export function parseParams<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const parameter = issue && issue.path.length > 0 ? issue.path.join('.') : '(request)';
  throw new HttpError(
    400,
    'invalid_parameter',
    `${parameter}: ${issue?.message ?? 'invalid'}`,
    {},
    { parameter },
  );
}

/** The JSON body of a POST read request (funnel, retention), as a 400 when it is not JSON. */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (text.length > 64 * 1024) {
    throw new HttpError(413, 'body_too_large', 'a query body holds at most 64 KB');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the body is not valid JSON: send a JSON object');
  }
}
