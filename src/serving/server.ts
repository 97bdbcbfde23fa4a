// The profile API's HTTP server (fastify): routes, authentication, rate limit, ETags, request ids, the audit log and
// errors that name what was wrong. Answers come from the SnapshotStore; a request holds one snapshot throughout.
import { hash, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../runtime/logger.ts';
import { maskValue } from '../privacy/masking.ts';
import { AuditLog, type AuditEntry } from './audit.ts';
import { Authenticator, type Principal } from './auth.ts';
import { LIST_ITEM_FIELDS, PII_OF } from './fields.ts';
import { ApiError, formatProfileId, parseProfileId } from './identifiers.ts';
import { openApiDocument } from './openapi.ts';
import { buildProfile, links, parseFields, resolveId, type LedgerReader } from './profile.ts';
import { RateLimiter } from './rate-limit.ts';
import { IdRedactor } from './redact.ts';
import type { RuntimeStats } from './runtime-stats.ts';
import type { SnapshotStore } from './store.ts';

export interface ServerOptions {
  store: SnapshotStore;
  auth: Authenticator;
  log: Logger;
  audit?: AuditLog;
  /** Requests per second per caller (0: no limit) and the burst allowed. */
  rateLimit?: { perSecond: number; burst?: number };
  ledger?: LedgerReader;
  /** Log every request (default: errors only). */
  logRequests?: boolean;
  /** The dashboard's files by name (null: not generated yet), served at /dashboard/. */
  dashboard?: (file: string) => Promise<Buffer | null>;
  /** Who may open /dashboard/: callers of the API (default; a browser sends the key as a Basic password) or anyone. */
  dashboardAccess?: 'authenticated' | 'public';
  /** How e-mail and phone ids are written in the audit log and request logs (default: a random key per process). */
  redactor?: IdRedactor;
  /** Event-loop delay, GC pauses and handling times, reported (and restarted) by /health (runtime-stats.ts). */
  runtimeStats?: RuntimeStats;
  /** Extra routes, registered on the same server. */
  extend?: (app: FastifyInstance) => void | Promise<void>;
}

const DASHBOARD_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', json: 'application/json; charset=utf-8',
};

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered (method, url), for checking them against the OpenAPI document. */
    routeList: { method: string; url: string }[];
  }
  interface FastifyRequest {
    principal?: Principal;
    audit?: Partial<AuditEntry>;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function allowOnly(query: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(query)) {
    if (!allowed.includes(k)) throw new ApiError(400, 'unknown_parameter', `Unknown query parameter '${k.slice(0, 40)}': allowed are ${allowed.join(', ')}`);
    if (Array.isArray(query[k])) throw new ApiError(400, 'repeated_parameter', `Query parameter '${k}' is given more than once`);
  }
}

function asOfOf(query: Record<string, unknown>): string | undefined {
  const v = query.asOf as string | undefined;
  if (v === undefined) return undefined;
  if (!DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new ApiError(400, 'bad_as_of', `asOf must be a date YYYY-MM-DD, got '${v.slice(0, 40)}'`);
  return v;
}

/** Sends JSON (a value, or bytes that are JSON already) with a strong ETag, or 304 when the client already has it. */
function sendTagged(req: FastifyRequest, reply: FastifyReply, body: unknown): FastifyReply {
  const text = Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const tag = `"${hash('sha1', text, 'base64url')}"`; // one-shot: no Hash object per request
  reply.header('etag', tag).header('cache-control', 'private, no-cache');
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === tag || t.trim() === '*')) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(text);
}

export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const redact = o.redactor ?? new IdRedactor();
  const limiter = o.rateLimit && o.rateLimit.perSecond > 0 ? new RateLimiter(o.rateLimit.perSecond, o.rateLimit.burst) : null;
  const app = Fastify({
    logger: false,
    trustProxy: true,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const doc = openApiDocument();
  const routeList: { method: string; url: string }[] = [];
  app.decorate('routeList', routeList);
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routeList.push({ method: m, url: r.url });
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  /** Authenticates and rate-limits a data route. */
  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    req.principal = await o.auth.authenticate(req.headers.authorization);
    const wait = limiter?.take(req.principal.id) ?? 0;
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait));
      reply.header('retry-after', String(seconds));
      throw new ApiError(429, 'rate_limited', `More than ${limiter!.perSecond} requests per second for ${req.principal.id}: retry after ${seconds} s`, { retryAfterSeconds: seconds });
    }
  };

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    let status: number;
    let body: Record<string, unknown>;
    if (err instanceof ApiError) {
      status = err.status;
      body = { error: err.code, message: err.message, ...err.extra };
      if (status === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer');
    } else if ((err.statusCode ?? 500) < 500) {
      status = err.statusCode!;
      body = { error: 'bad_request', message: err.message };
    } else {
      status = 500;
      body = { error: 'internal', message: 'Internal error (logged with the request id)' };
      o.log.error('request failed', { requestId: req.id, url: redact.url(req.url).slice(0, 200), error: err.message, stack: err.stack });
    }
    reply.code(status).send({ ...body, requestId: req.id });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'not_found', message: `No route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}: see /openapi.json`, requestId: req.id });
  });

  app.addHook('onResponse', async (req, reply) => {
    o.runtimeStats?.request(reply.elapsedTime);
    if (req.audit && req.principal && o.audit) {
      o.audit.write({
        time: new Date().toISOString(), requestId: req.id, principal: req.principal.id, role: req.principal.role, via: req.principal.via,
        method: req.method, path: redact.url(req.url.split('?')[0]!), status: reply.statusCode, customers: [], ...req.audit,
      });
    }
    if (o.logRequests || reply.statusCode >= 500) {
      o.log.info('request', { requestId: req.id, method: req.method, url: redact.url(req.url).slice(0, 200), status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
    }
  });

  const noSnapshot = () => new ApiError(503, 'loading', 'No snapshot loaded yet: the server is loading one (see /health)');

  /** Runs fn on the snapshot for asOf, with the 404 for a date that has none. */
  const withSnapshot = async <T>(asOf: string | undefined, fn: Parameters<SnapshotStore['use']>[1]): Promise<T> => {
    if (!o.store.current) throw noSnapshot();
    const r = await o.store.use(asOf, fn);
    if (!r.found) {
      const available = await o.store.pastDates();
      throw new ApiError(404, 'no_snapshot', `No snapshot for asOf=${asOf}${available.length ? '' : ' (no past snapshots are available)'}`, { available });
    }
    return r.value as T;
  };

  app.get('/health', async (req, reply) => {
    const s = o.store.current;
    reply.code(s ? 200 : 503).send({
      status: s ? 'ok' : 'loading',
      snapshot: s ? { asOf: s.asOf, customers: s.customers, source: s.source, loadedAt: s.loadedAt, swaps: o.store.swaps } : null,
      lastError: o.store.lastError,
      ...(o.runtimeStats && (req.query as Record<string, unknown>).runtime !== undefined ? { runtime: o.runtimeStats.take() } : {}),
    });
  });

  app.get('/openapi.json', async (_req, reply) => reply.send(doc));

  // One wildcard route: a source id's CUSTOMER_ID may itself hold '/' (sent raw or as %2F); a trailing /links is the links view.
  app.get('/customer/profile/*', { preHandler: guard }, async (req, reply) => {
    const rest = (req.params as { '*': string })['*'];
    const wantsLinks = rest.endsWith('/links');
    const raw = wantsLinks ? rest.slice(0, -'/links'.length) : rest;
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      throw new ApiError(400, 'bad_id', 'The profile id is not valid URL encoding');
    }
    const query = req.query as Record<string, string>;
    allowOnly(query, wantsLinks ? ['asOf'] : ['fields', 'asOf', 'include']);
    const asOf = asOfOf(query);
    const include = query.include === undefined ? [] : query.include.split(',').map((s) => s.trim());
    for (const i of include) if (i !== 'links') throw new ApiError(400, 'bad_include', `Unknown include '${i.slice(0, 40)}': the only one is links`);
    const includeLinks = include.includes('links');
    const fields = wantsLinks ? undefined : parseFields(query.fields, includeLinks);
    const pid = parseProfileId(decoded);
    req.audit = { idType: pid.type, customers: [], ...(fields ? { fields: [...fields] } : {}), ...(asOf ? { asOf } : {}) };
    const role = req.principal!.role;
    const answer = await withSnapshot<{ status: number; body: Record<string, unknown> | Buffer; location?: string; id?: string }>(asOf, async (s) => {
      const r = await resolveId(s, pid);
      if (r.kind === 'missing') {
        return { status: 404, body: { error: 'not_found', message: `No customer with ${formatProfileId(pid)} in the snapshot of ${s.asOf}` } };
      }
      if (r.kind === 'redirect') {
        const qs = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
        return {
          status: 308, id: r.id,
          location: `/customer/profile/c360:${encodeURIComponent(r.id)}${wantsLinks ? '/links' : ''}${qs}`,
          body: { error: 'retired_id', message: `${r.retired} was retired (${r.reason ?? 'merged'}); the person is now ${r.id}`, CUSTOMER360_ID: r.id },
        };
      }
      if (wantsLinks) {
        return {
          status: 200, id: r.id,
          body: { CUSTOMER360_ID: r.id, AS_OF_DATE: s.asOf, RECORDS: await s.records(r.id), LINKS: await links(s, r.id, o.ledger) },
        };
      }
      return { status: 200, id: r.id, body: await buildProfile(s, r.id, { fields, role, includeLinks, ledger: o.ledger }) };
    });
    if (answer.id) req.audit.customers = [answer.id];
    if (answer.status !== 200) {
      if (answer.location) reply.header('location', answer.location);
      return reply.code(answer.status).send({ ...(answer.body as Record<string, unknown>), requestId: req.id });
    }
    if (pid.type !== 'c360') reply.header('content-location', `/customer/profile/c360:${encodeURIComponent(answer.id!)}`);
    return sendTagged(req, reply, answer.body);
  });

  app.get('/customers', { preHandler: guard }, async (req, reply) => {
    const query = req.query as Record<string, string>;
    allowOnly(query, ['segment', 'rfmSegment', 'churnRiskMin', 'limit', 'cursor']);
    let churnRiskMin: number | undefined;
    if (query.churnRiskMin !== undefined) {
      churnRiskMin = Number(query.churnRiskMin);
      if (query.churnRiskMin.trim() === '' || !Number.isFinite(churnRiskMin) || churnRiskMin < 0 || churnRiskMin > 1) {
        throw new ApiError(400, 'bad_parameter', `churnRiskMin must be a number from 0 to 1, got '${query.churnRiskMin.slice(0, 40)}'`);
      }
    }
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError(400, 'bad_parameter', `limit must be a whole number from 1 to 1000, got '${String(query.limit).slice(0, 40)}'`);
    let after: string | undefined;
    if (query.cursor !== undefined) {
      after = Buffer.from(query.cursor, 'base64url').toString('utf8');
      if (!after || Buffer.from(after, 'utf8').toString('base64url') !== query.cursor) throw new ApiError(400, 'bad_parameter', 'cursor is not one this API gave out');
    }
    const role = req.principal!.role;
    const page = await withSnapshot<{ asOf: string; rows: Record<string, unknown>[] }>(undefined, async (s) => ({
      asOf: s.asOf,
      rows: await s.list({ columns: LIST_ITEM_FIELDS, segment: query.segment, rfmSegment: query.rfmSegment, churnRiskMin, after, limit: limit + 1 }),
    }));
    const more = page.rows.length > limit;
    const items = page.rows.slice(0, limit).map((r) =>
      role === 'agent' ? r : Object.fromEntries(Object.entries(r).map(([k, v]) => [k, maskValue(PII_OF.get(k), v)])),
    );
    req.audit = { customers: items.map((r) => String(r.CUSTOMER360_ID)) };
    const last = items.at(-1);
    return sendTagged(req, reply, {
      AS_OF_DATE: page.asOf,
      items,
      nextCursor: more && last ? Buffer.from(String(last.CUSTOMER360_ID), 'utf8').toString('base64url') : null,
    });
  });

  // The Customer Health Overview shows aggregates and masked names only, but still the business's figures: it asks
  // for a caller of the API unless configured public. A browser sends no bearer token, so a 401 here asks for Basic
  // credentials (the browser's own prompt) with the API key as the password.
  const dashboardGuard = async (req: FastifyRequest, reply: FastifyReply) => {
    if (o.dashboardAccess === 'public') return;
    try {
      req.principal = await o.auth.authenticate(req.headers.authorization, { basic: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) reply.header('www-authenticate', 'Basic realm="Customer Health Overview", charset="UTF-8"');
      throw e;
    }
  };
  app.get('/dashboard', { preHandler: dashboardGuard }, async (_req, reply) => reply.redirect('/dashboard/', 302));
  app.get('/dashboard/*', { preHandler: dashboardGuard }, async (req, reply) => {
    const name = (req.params as { '*': string })['*'] || 'index.html';
    const ext = /^[a-z0-9.-]+\.([a-z]+)$/.exec(name)?.[1];
    const body = ext && DASHBOARD_TYPES[ext] && o.dashboard ? await o.dashboard(name) : null;
    if (!body) {
      const what = o.dashboard ? `No dashboard file '${name.slice(0, 60)}'` : 'No dashboard is configured';
      throw new ApiError(404, 'not_found', `${what}: it is written by c360 dashboard (or the pipeline's dashboard activity)`);
    }
    return reply.type(DASHBOARD_TYPES[ext!]!).header('cache-control', 'no-cache').send(body);
  });

  if (o.extend) await o.extend(app);
  return app;
}
