/**
 * OpenAPI 3.1 path item and schema of `GET /v1/tenants` (tenantsRoute.ts), merged into the
 * collector's document by `openapi.ts`. Checked against real responses in openapi.test.ts.
 */
import { errorContent, methodNotAllowed, readKeyErrors } from '../openapiParts';

export const tenantsSchemas = {
  Tenants: {
    type: 'object',
    required: ['tenants'],
    additionalProperties: false,
    properties: {
      tenants: {
        type: 'array',
        items: {
          type: 'object',
          required: ['tenant', 'configured', 'stored'],
          additionalProperties: false,
          properties: {
            tenant: { type: 'string' },
            configured: {
              type: 'boolean',
              description: 'A configured write or read key belongs to this tenant.',
            },
            stored: { type: 'boolean', description: 'The store holds events of this tenant.' },
          },
        },
      },
    },
  },
} as const;

export const tenantsPaths = {
  '/v1/tenants': {
    get: {
      operationId: 'tenants',
      summary:
        'Tenants known from the configured keys and the store, by name (admin keys only; the dashboard’s tenant picker)',
      security: [{ bearerReadKey: [] }],
      responses: {
        '200': {
          description: 'Every tenant, sorted by name.',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Tenants' } } },
        },
        ...readKeyErrors,
        '403': {
          description:
            'The read key is a tenant’s key, not an admin key (tenant `*`) (`admin_key_required`).',
          content: errorContent,
        },
        '405': methodNotAllowed('GET'),
      },
    },
  },
} as const;
