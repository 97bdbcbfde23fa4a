// The API's OpenAPI 3.1 document, generated from the profile fields (so the warehouse model is its one source) and
// committed as docs/openapi.json (`c360 serve --write-openapi`; a test fails when it is stale and checks every route
// and answer against it).
import type { LogicalType } from '../warehouse/types.ts';
import { LIST_FIELDS, LIST_ITEM_FIELDS, SCALAR_FIELDS } from './fields.ts';
import { ID_TYPES } from './identifiers.ts';

type Schema = Record<string, unknown>;

function jsonType(t: LogicalType): Schema {
  switch (t.kind) {
    case 'varchar': return { type: ['string', 'null'] };
    case 'integer':
    case 'bigint': return { type: ['integer', 'null'] };
    case 'double':
    case 'decimal': return { type: ['number', 'null'] };
    case 'date': return { type: ['string', 'null'], format: 'date' };
    case 'timestamp': return { type: ['string', 'null'], format: 'date-time' };
    case 'boolean': return { type: ['boolean', 'null'] };
  }
}

/** The dashboard takes a bearer token, or Basic credentials from a browser's prompt with the key as the password. */
const dashboardSecurity = [{ bearer: [] }, { basic: [] }];

const nullableString = { type: ['string', 'null'] };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const scalarProperties = Object.fromEntries(
  SCALAR_FIELDS.map((f) => [f.name, { ...jsonType(f.type), description: `${f.comment} (${f.table}.${f.column}${f.pii ? `; PII ${f.pii}, masked for analysts` : ''})` }]),
);

const error = {
  type: 'object',
  required: ['error', 'message', 'requestId'],
  properties: {
    error: { type: 'string', description: 'Machine-readable code' },
    message: { type: 'string', description: 'What was wrong, naming the parameter or value' },
    requestId: { type: 'string' },
    candidates: { type: 'array', items: { type: 'string' }, description: '409: the people an ambiguous e-mail or phone names' },
    available: { type: 'array', items: { type: 'string' }, description: '404 for asOf=: the as-of dates there are' },
    retryAfterSeconds: { type: 'number', description: '429: seconds to wait' },
  },
};

const SCHEMAS: Record<string, Schema> = {
  Profile: {
    type: 'object',
    description: 'One person. Field names are the warehouse columns; with fields= only the named ones (and CUSTOMER360_ID, AS_OF_DATE).',
    required: ['CUSTOMER360_ID', 'AS_OF_DATE'],
    additionalProperties: false,
    properties: {
      ...scalarProperties,
      IDENTIFIERS: {
        description: LIST_FIELDS.IDENTIFIERS, type: 'array',
        items: { type: 'object', required: ['SOURCE_SYSTEM', 'CUSTOMER_ID'], properties: { SOURCE_SYSTEM: { type: 'string' }, CUSTOMER_ID: { type: 'string' } } },
      },
      RECOMMENDATIONS: { description: LIST_FIELDS.RECOMMENDATIONS, type: 'array', items: ref('Recommendation') },
      MODELS: { description: LIST_FIELDS.MODELS, type: 'array', items: ref('Model') },
      LINKS: { description: LIST_FIELDS.LINKS, type: 'array', items: ref('Link') },
    },
  },
  Recommendation: {
    type: 'object',
    required: ['ALGORITHM', 'RANK', 'PRODUCT_ID', 'SCORE', 'REASON', 'MODEL_VERSION'],
    properties: {
      ALGORITHM: { type: 'string' }, RANK: { type: 'integer', description: '1 = best' }, PRODUCT_ID: { type: 'string' },
      PRODUCT_NAME: nullableString, CATEGORY: nullableString, BRAND: nullableString,
      SCORE: { type: ['number', 'null'] }, REASON: nullableString, MODEL_VERSION: nullableString,
    },
  },
  Model: {
    type: 'object',
    required: ['MODEL_NAME', 'MODEL_VERSION'],
    properties: {
      MODEL_NAME: nullableString, MODEL_VERSION: { type: 'string' }, MODEL_TYPE: nullableString,
      TRAINED_AT: { type: ['string', 'null'], format: 'date-time' }, TRAINING_WINDOW_START: { type: ['string', 'null'], format: 'date' },
      TRAINING_WINDOW_END: { type: ['string', 'null'], format: 'date' }, METRICS: { description: 'Evaluation metrics (METRICS_JSON, parsed)' },
    },
  },
  Link: {
    type: 'object',
    description: 'One match decision between two source records (the identity match ledger): the comparison levels and weights behind it',
    required: ['SOURCE_SYSTEM_L', 'CUSTOMER_ID_L', 'SOURCE_SYSTEM_R', 'CUSTOMER_ID_R', 'DECISION'],
    properties: {
      SOURCE_SYSTEM_L: { type: 'string' }, CUSTOMER_ID_L: { type: 'string' }, SOURCE_SYSTEM_R: { type: 'string' }, CUSTOMER_ID_R: { type: 'string' },
      MATCH_RULE: nullableString, BLOCKING_RULE: nullableString, MATCH_WEIGHT: { type: ['number', 'null'] }, MATCH_PROBABILITY: { type: ['number', 'null'] },
      DECISION: { type: 'string' }, CUSTOMER360_ID: nullableString, RUN_ID: nullableString,
    },
  },
  Links: {
    type: 'object',
    required: ['CUSTOMER360_ID', 'AS_OF_DATE', 'RECORDS', 'LINKS'],
    properties: {
      CUSTOMER360_ID: { type: 'string' }, AS_OF_DATE: { type: 'string', format: 'date' },
      RECORDS: { type: 'array', items: { type: 'object', properties: { SOURCE_SYSTEM: { type: 'string' }, CUSTOMER_ID: { type: 'string' } } } },
      LINKS: { type: 'array', items: ref('Link') },
    },
  },
  CustomerPage: {
    type: 'object',
    required: ['AS_OF_DATE', 'items', 'nextCursor'],
    properties: {
      AS_OF_DATE: { type: 'string', format: 'date' },
      items: {
        type: 'array',
        items: { type: 'object', required: ['CUSTOMER360_ID'], additionalProperties: false, properties: Object.fromEntries(LIST_ITEM_FIELDS.map((f) => [f, scalarProperties[f]])) },
      },
      nextCursor: { type: ['string', 'null'], description: 'Pass as cursor= for the next page; null on the last page' },
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { type: 'string', enum: ['ok', 'loading'] },
      snapshot: {
        type: ['object', 'null'],
        properties: { asOf: { type: 'string' }, customers: { type: 'integer' }, source: { type: 'string' }, loadedAt: { type: 'string' }, swaps: { type: 'integer' } },
      },
      lastError: nullableString,
      runtime: {
        type: 'object',
        description: 'Only with C360_SERVE_RUNTIME_STATS=1 and ?runtime: event-loop delay, GC pauses and request handling times since the previous such call',
      },
    },
  },
  Error: error,
};

const json = (schema: string) => ({ 'application/json': { schema: ref(schema) } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: ERROR_TEXT[c], content: json('Error') }]));
const ERROR_TEXT: Record<number, string> = {
  400: 'Bad input: unknown id type, malformed value, unknown field or parameter (the message names it)',
  401: 'No or unknown API key, or an invalid token',
  403: 'The token carries no role of this API',
  404: 'No such customer, or no snapshot for asOf=',
  409: 'The e-mail or phone names more than one person',
  429: 'Rate limit for this caller; Retry-After says when to retry',
  503: 'No snapshot loaded yet',
};
const common = { 'x-request-id': { description: 'Request id (echoed when the client sent a valid one)', schema: { type: 'string' } } };
const etag = { ETag: { description: 'Entity tag of the body; send it back as If-None-Match for a 304', schema: { type: 'string' } }, ...common };

const idParam = {
  name: 'id', in: 'path', required: true,
  description: `{idType}:{value}, idType one of ${ID_TYPES.join(', ')}: c360:<CUSTOMER360_ID>, source:<SOURCE_SYSTEM>/<CUSTOMER_ID>, email:<address>, phone:<number, international or US national>. E-mail and phone are normalised as identity resolution does.`,
  schema: { type: 'string' },
};
const asOfParam = { name: 'asOf', in: 'query', description: 'A past as-of date (YYYY-MM-DD): that Gold snapshot from the lake', schema: { type: 'string', format: 'date' } };
const profileResponses = (schema: string) => ({
  200: { description: 'OK', headers: etag, content: json(schema) },
  304: { description: 'Not modified (If-None-Match matched)', headers: etag },
  308: { description: 'A retired (merged) id: Location is the surviving person', headers: { Location: { schema: { type: 'string' } }, ...common }, content: json('Error') },
  ...errors(400, 401, 403, 404, 409, 429, 503),
});

export function openApiDocument(): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Customer 360 profile API',
      version: '1.0.0',
      description: 'One person\'s Customer 360 profile, served from a snapshot of the Gold layer (c360 serve). Agents see personal data, analysts see it masked.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key (--api-key KEY:ROLE) or an Entra ID access token whose roles claim holds agent or analyst' },
        basic: { type: 'http', scheme: 'basic', description: 'The dashboard only: any user name, an API key as the password (what a browser sends after its prompt)' },
      },
      schemas: SCHEMAS,
    },
    security: [{ bearer: [] }],
    paths: {
      '/customer/profile/{id}': {
        get: {
          operationId: 'getProfile',
          summary: 'One person\'s profile',
          parameters: [
            idParam,
            { name: 'fields', in: 'query', description: 'Comma-separated field names (warehouse columns and IDENTIFIERS, RECOMMENDATIONS, MODELS, LINKS)', schema: { type: 'string' } },
            asOfParam,
            { name: 'include', in: 'query', description: 'links: add LINKS, the match explanation from the identity ledger', schema: { type: 'string', enum: ['links'] } },
          ],
          responses: profileResponses('Profile'),
        },
      },
      '/customer/profile/{id}/links': {
        get: {
          operationId: 'getProfileLinks',
          summary: 'The person\'s source records and the match decisions between them',
          parameters: [idParam, asOfParam],
          responses: profileResponses('Links'),
        },
      },
      '/customers': {
        get: {
          operationId: 'listCustomers',
          summary: 'People by segment and churn risk, a page at a time (by CUSTOMER360_ID)',
          parameters: [
            { name: 'segment', in: 'query', description: 'SEGMENT_LABEL equals', schema: { type: 'string' } },
            { name: 'rfmSegment', in: 'query', description: 'RFM_SEGMENT equals', schema: { type: 'string' } },
            { name: 'churnRiskMin', in: 'query', description: 'CHURN_RISK at least (0..1)', schema: { type: 'number', minimum: 0, maximum: 1 } },
            { name: 'limit', in: 'query', description: 'Page size, 1..1000 (default 100)', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
            { name: 'cursor', in: 'query', description: 'nextCursor of the previous page', schema: { type: 'string' } },
          ],
          responses: { 200: { description: 'OK', headers: etag, content: json('CustomerPage') }, 304: { description: 'Not modified', headers: etag }, ...errors(400, 401, 403, 429, 503) },
        },
      },
      '/health': {
        get: {
          operationId: 'health', summary: 'Liveness and the snapshot served (no authentication)', security: [],
          parameters: [{ name: 'runtime', in: 'query', description: 'With C360_SERVE_RUNTIME_STATS=1: add the runtime figures since the previous such call (and start them again)', schema: { type: 'string' } }],
          responses: { 200: { description: 'Serving', headers: common, content: json('Health') }, 503: { description: 'No snapshot yet', headers: common, content: json('Health') } },
        },
      },
      '/dashboard': {
        get: {
          operationId: 'dashboardRoot', summary: 'Redirects to /dashboard/', security: dashboardSecurity,
          responses: { 302: { description: 'To /dashboard/', headers: common }, 401: { description: 'No or unknown key (asks for Basic credentials)', headers: common, content: json('Error') } },
        },
      },
      '/dashboard/{file}': {
        get: {
          operationId: 'dashboard', summary: 'The Customer Health Overview site written by c360 dashboard (aggregates and masked names; a key of either role, unless served with --dashboard-public)', security: dashboardSecurity,
          parameters: [{ name: 'file', in: 'path', required: true, description: 'index.html (default), dashboard.js, dashboard.css, chart.umd.min.js, data.js, data.json', schema: { type: 'string' } }],
          responses: {
            200: { description: 'The file', headers: common }, 401: { description: 'No or unknown key (asks for Basic credentials)', headers: common, content: json('Error') },
            404: { description: 'No such file, or no dashboard generated yet', headers: common, content: json('Error') },
          },
        },
      },
      '/openapi.json': {
        get: { operationId: 'openapi', summary: 'This document (no authentication)', security: [], responses: { 200: { description: 'OK', headers: common, content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
    },
  };
}

export const OPENAPI_FILE = 'docs/openapi.json';

export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}
