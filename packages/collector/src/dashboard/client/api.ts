/** A refused or failed read request, with the API's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Params = Record<string, string | number | undefined>;

/**
 * The collector's read API as the dashboard calls it: the read key as Bearer token, and an admin
 * key's chosen tenant as `?tenant=`. `base` is the collector's mount point (the dashboard lives at
 * `<base>dashboard`), so the page works under any prefix.
 *
 * @example
 * const api = createApi(new URL('.', location.href), 'rk_live_123', undefined);
 * const kpis = await api.get<Dashboard>('v1/dashboard', { from, to, tz });
 */
export function createApi(base: URL, key: string, tenant: string | undefined) {
  function url(path: string, params: Params = {}): URL {
    const target = new URL(path, base);
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== '') target.searchParams.set(name, String(value));
    }
    if (tenant !== undefined) target.searchParams.set('tenant', tenant);
    return target;
  }

  async function send(target: URL, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(target, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...init.headers },
      cache: 'no-store',
    });
    if (response.ok) return response;
    let code = 'http_error';
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, code, message);
  }

  return {
    tenant,
    url,
    async get<T>(path: string, params?: Params): Promise<T> {
      return (await send(url(path, params))).json() as Promise<T>;
    },
    async post<T>(path: string, body: unknown): Promise<T> {
      const response = await send(url(path), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return response.json() as Promise<T>;
    },
    async blob(path: string, params?: Params): Promise<Blob> {
      return (await send(url(path, params))).blob();
    },
  };
}

export type Api = ReturnType<typeof createApi>;

/** The message a panel shows for a failed request. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.status} ${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

// ── Response shapes (docs/read-api.md) ───────────────────────────────────────────────────────

// The server's own types (erased from the bundle), so the page and the API cannot drift apart.
export type { Channel } from '../../query/attribution';
export type { StepResult as FunnelStep } from '../../query/funnel';
export type { Dashboard } from '../../query/kpis';
export type { Cohort } from '../../query/retention';
export type { SeriesPoint } from '../../query/series';

export interface ApiEvent {
  messageId: string;
  type: string;
  event: string | null;
  timestamp: string;
  userId: string | null;
  anonymousId: string | null;
  utmSource: string | null;
  referrerDomain: string | null;
  revenue: number | null;
}

export interface TenantEntry {
  tenant: string;
  configured: boolean;
  stored: boolean;
}
