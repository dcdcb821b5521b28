/** Pieces shared by the OpenAPI path items of the ingest and read routes (openapi.ts, read/*OpenApi.ts). */

export const errorContent = {
  'application/json': { schema: { $ref: '#/components/schemas/Error' } },
} as const;

export const retryAfter = {
  'Retry-After': {
    description: 'Seconds to wait before retrying.',
    required: true,
    schema: { type: 'integer', minimum: 1 },
  },
} as const;

/** The 405 of a path that answers only `allow`. */
export function methodNotAllowed(allow: string) {
  return {
    description: `Wrong method: this path answers ${allow}.`,
    headers: {
      Allow: {
        description: 'The methods this path answers.',
        required: true,
        schema: { type: 'string', const: allow },
      },
    },
    content: errorContent,
  } as const;
}

/** What every read route may answer besides its 200 and its 400. */
export const readKeyErrors = {
  '401': {
    description:
      'No read key (`missing_read_key`) or an unknown one (`invalid_read_key`). Write keys cannot read.',
    content: errorContent,
  },
  '403': {
    description:
      'The read key belongs to another tenant than `?tenant=` names (`forbidden_tenant`).',
    content: errorContent,
  },
  '503': {
    description:
      'The store is unavailable (`store_unavailable`) or the collector is shutting down (`shutting_down`): retry.',
    headers: retryAfter,
    content: errorContent,
  },
} as const;
