// The collector's HTTP server (fastify): Segment's tracking endpoints, write-key auth, limits, gzip bodies, CORS for
// browsers, the settings and bundle analytics.js fetches, health, readiness and metrics. A call is answered 200 only
// once Event Hubs has acknowledged every record it became; 503 with Retry-After when the hub is down, slow or the
// byte budget is full (the SDKs retry), 400/413 with a JSON error naming the problem, 401 for a missing or unknown key.
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../runtime/logger.ts';
import { linkMemoryKey, recordsOf, type HubRole, type OutRecord } from './mapping.ts';
import { Metrics } from './metrics.ts';
import { Budget, Ticket, type HubSender } from './sender.ts';
import { LIMITS, normaliseCall, type Call, type Problem } from './spec.ts';
import { basicAuthKey, mask, type WriteKey } from './write-keys.ts';

export interface CollectorOptions {
  keys: ReadonlyMap<string, WriteKey>;
  senders: Record<HubRole, HubSender>;
  budget: Budget;
  /** How long a request waits for Event Hubs before it is answered 503 (default 10 s). */
  ackTimeoutMs?: number;
  log: Logger;
  metrics?: Metrics;
  /** Public base URL (https://collect.example.com) for the settings analytics.js fetches; default: from the request. */
  publicUrl?: string;
  /** Log every request (default: only refused ones). */
  logRequests?: boolean;
  /** Delivered link ids remembered so a signed-in visitor's calls do not resend the same link (default 100,000). */
  linkMemory?: number;
}

const SINGLE: Record<string, Call['type']> = {
  identify: 'identify', track: 'track', page: 'page', screen: 'screen', group: 'group', alias: 'alias',
  // analytics.js (analytics-next) posts to the first letter of the call type.
  i: 'identify', t: 'track', p: 'page', s: 'screen', g: 'group', a: 'alias',
};
const BATCH = ['batch', 'import', 'b'];

type Json = Record<string, unknown>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Json = {},
  ) {
    super(message);
  }
}

/** The analytics-next build that the collector serves in place of Segment's CDN (when installed). */
function bundleDir(): string | null {
  try {
    const req = createRequire(import.meta.url);
    const dir = join(dirname(req.resolve('@segment/analytics-next/package.json')), 'dist', 'umd');
    return existsSync(join(dir, 'standalone.js')) ? dir : null;
  } catch {
    return null;
  }
}

/** A bounded set that forgets the oldest entries first. */
class Recent {
  private set = new Set<string>();
  constructor(private readonly max: number) {}
  has(k: string) {
    return this.set.has(k);
  }
  add(k: string) {
    if (this.set.has(k)) return;
    this.set.add(k);
    if (this.set.size > this.max) this.set.delete(this.set.values().next().value!);
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    writeKey?: WriteKey;
    startedAt: bigint;
  }
}

export async function buildCollector(o: CollectorOptions): Promise<FastifyInstance> {
  const metrics = o.metrics ?? new Metrics();
  const ackTimeoutMs = o.ackTimeoutMs ?? 10_000;
  const delivered = new Recent(o.linkMemory ?? 100_000);
  const bundles = bundleDir();
  const bundleFiles = new Set(bundles ? readdirSync(bundles).filter((f) => f.endsWith('.js')) : []);
  const app = Fastify({ logger: false, trustProxy: true, bodyLimit: LIMITS.batchBytes, requestIdHeader: 'x-request-id' });

  // Every body is read as bytes and parsed here (analytics.js sends JSON as text/plain to spare a CORS preflight).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    req.startedAt = process.hrtime.bigint();
    const origin = req.headers.origin;
    if (origin) {
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-allow-credentials', 'true');
    }
    if (req.method === 'OPTIONS') {
      reply
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', req.headers['access-control-request-headers'] ?? 'Content-Type, Authorization, X-Retry-Count')
        .header('access-control-max-age', '86400');
      return reply.code(204).send();
    }
    // A key in the Authorization header is checked before the body is read.
    if (req.method === 'POST' && req.headers.authorization !== undefined) {
      const key = basicAuthKey(req.headers.authorization);
      const wk = key === undefined ? undefined : o.keys.get(key);
      if (!wk) throw new HttpError(401, 'unauthorized', key === undefined ? 'Authorization must be HTTP Basic with the write key as user name and an empty password' : `Unknown write key ${mask(key)}`);
      req.writeKey = wk;
    }
  });

  // Bodies sent with Content-Encoding: gzip (or deflate) are inflated before the size limit applies, which then
  // bounds the inflated size (a small compressed body cannot expand past it).
  app.addHook('preParsing', async (req, _reply, payload) => {
    const enc = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (enc === 'identity') return payload;
    if (enc !== 'gzip' && enc !== 'deflate') throw new HttpError(415, 'unsupported_encoding', `Content-Encoding ${enc} is not supported (use gzip or none)`);
    const inflate = enc === 'gzip' ? createGunzip() : createInflate();
    const counted = Object.assign(inflate, { receivedEncodedLength: 0 });
    payload.pipe(
      new Transform({
        transform(chunk, _e, cb) {
          counted.receivedEncodedLength += chunk.length;
          cb(null, chunk);
        },
      }),
    ).pipe(inflate);
    return counted;
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    let status: number;
    let body: Json;
    if (err instanceof HttpError) {
      status = err.status;
      body = { success: false, error: err.code, message: err.message, ...err.extra };
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const limit = limitOf(req);
      status = 413;
      body = { success: false, error: 'payload_too_large', message: `The request body is larger than ${limit} bytes (${limit === LIMITS.batchBytes ? '500 KB per batch' : '32 KB per call'}; gzip bodies count inflated)` };
    } else if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR' || /incorrect header check|unexpected end of file/i.test(err.message)) {
      status = 400;
      body = { success: false, error: 'invalid_encoding', message: `The body is not valid ${String(req.headers['content-encoding'])} data: ${err.message}` };
    } else if ((err.statusCode ?? 500) < 500) {
      status = err.statusCode!;
      body = { success: false, error: 'bad_request', message: err.message };
    } else {
      status = 500;
      body = { success: false, error: 'internal', message: 'Internal error' };
      o.log.error('collector error', { reqId: req.id, error: err.message, stack: err.stack });
    }
    if (status === 503) reply.header('retry-after', String(body.retryAfterSeconds ?? 1));
    reply.code(status).send(body);
  });

  app.addHook('onResponse', async (req, reply) => {
    const seconds = Number(process.hrtime.bigint() - (req.startedAt ?? process.hrtime.bigint())) / 1e9;
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.request(route, reply.statusCode, seconds);
    if (o.logRequests || reply.statusCode >= 400) {
      const fields = { reqId: req.id, method: req.method, route, url: req.url.slice(0, 200), status: reply.statusCode, ms: Math.round(seconds * 1000), ip: req.ip };
      if (reply.statusCode >= 500 || (reply.statusCode >= 400 && reply.statusCode !== 404)) o.log.warn('request refused', fields);
      else o.log.info('request', fields);
    }
  });

  const limitOf = (req: FastifyRequest) => (BATCH.some((b) => req.url.startsWith(`/v1/${b}`)) ? LIMITS.batchBytes : LIMITS.callBytes);

  const parse = (req: FastifyRequest): Json => {
    const buf = req.body as Buffer | undefined;
    if (!buf || buf.length === 0) throw new HttpError(400, 'invalid_json', 'The body is empty: send the call as a JSON object');
    let v: unknown;
    try {
      v = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw new HttpError(400, 'invalid_json', `The body is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HttpError(400, 'invalid_json', 'The body must be a JSON object');
    return v as Json;
  };

  const keyOf = (req: FastifyRequest, body: Json): WriteKey => {
    if (req.writeKey) return req.writeKey;
    const key = typeof body.writeKey === 'string' ? body.writeKey : undefined;
    if (key === undefined) throw new HttpError(401, 'unauthorized', 'No write key: send HTTP Basic auth with the write key as user name (empty password), or writeKey in the body');
    const wk = o.keys.get(key);
    if (!wk) throw new HttpError(401, 'unauthorized', `Unknown write key ${mask(key)}`);
    return wk;
  };

  const refuse = (problems: Problem[], what: string): never => {
    const shown = problems.slice(0, 50);
    const text = shown.map((p) => `${p.index === undefined ? '' : `batch[${p.index}].`}${p.field || '(call)'} ${p.problem}`).join('; ');
    throw new HttpError(400, 'invalid_call', `${what}: ${text}${problems.length > shown.length ? `; and ${problems.length - shown.length} more` : ''}`, { problems: shown });
  };

  /** Sends the records of the calls; resolves once Event Hubs acknowledged all of them. */
  const deliver = async (calls: Call[], wk: WriteKey, reply: FastifyReply): Promise<void> => {
    const byHub: Record<HubRole, { key: string; table: string; id: string; body: Buffer }[]> = { behavioral: [], identity: [] };
    const links: string[] = [];
    let bytes = 0;
    for (const c of calls) {
      metrics.call(c.type);
      for (const r of recordsOf(c, wk, (id) => delivered.has(id)) as OutRecord[]) {
        const body = Buffer.from(r.body);
        bytes += body.length;
        byHub[r.hub].push({ key: r.key, table: r.table, id: r.id, body });
        if (r.table === 'IDENTITY_LINKS' && c.userId && c.anonymousId) links.push(linkMemoryKey(wk, c.userId, c.anonymousId));
      }
    }
    const wait = Math.max(...Object.values(o.senders).map((s) => s.retryAfterSeconds()));
    if (wait > 0) {
      const last = Object.values(o.senders).find((s) => s.retryAfterSeconds() > 0);
      throw new HttpError(503, 'hub_unavailable', `Event Hubs (${last?.hub}) is not acknowledging sends (${last?.lastError ?? 'unavailable'}); nothing was accepted, retry after ${wait} s`, { retryAfterSeconds: wait });
    }
    if (!o.budget.fits(bytes)) {
      throw new HttpError(503, 'overloaded', `The collector is holding ${o.budget.bytes} bytes for Event Hubs (limit ${o.budget.maxBytes}); nothing was accepted, retry shortly`, { retryAfterSeconds: 1 });
    }
    const ticket = new Ticket();
    for (const role of ['behavioral', 'identity'] as const) if (byHub[role].length) o.senders[role].enqueue(byHub[role], ticket);
    ticket.seal();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, rej) => {
      timer = setTimeout(() => rej(new HttpError(503, 'hub_timeout', `Event Hubs did not acknowledge within ${ackTimeoutMs} ms; retry (the calls may arrive twice: they are deduplicated by messageId)`, { retryAfterSeconds: 2 })), ackTimeoutMs);
    });
    try {
      await Promise.race([ticket.promise, timeout]);
    } catch (e) {
      ticket.abandon();
      if (e instanceof HttpError) throw e;
      const wait = Math.max(1, ...Object.values(o.senders).map((s) => s.retryAfterSeconds()));
      throw new HttpError(503, 'hub_unavailable', `Event Hubs refused the send (${e instanceof Error ? e.message : String(e)}); retry after ${wait} s`, { retryAfterSeconds: wait });
    } finally {
      clearTimeout(timer);
    }
    for (const id of links) delivered.add(id);
    for (const role of ['behavioral', 'identity'] as const) for (const r of byHub[role]) metrics.record(r.table);
    reply.code(200).send({ success: true });
  };

  app.post<{ Params: { call: string } }>('/v1/:call', { bodyLimit: LIMITS.batchBytes }, async (req, reply) => {
    const name = req.params.call;
    const isBatch = BATCH.includes(name);
    const type = SINGLE[name];
    if (!isBatch && !type) throw new HttpError(404, 'not_found', `No endpoint /v1/${name}: use identify, track, page, screen, group, alias, batch or import`);
    const size = (req.body as Buffer | undefined)?.length ?? 0;
    if (!isBatch && size > LIMITS.callBytes) {
      throw new HttpError(413, 'payload_too_large', `The call is ${size} bytes; a call may be at most ${LIMITS.callBytes} bytes (32 KB)`);
    }
    const body = parse(req);
    const wk = keyOf(req, body);
    const receivedAt = new Date();
    const scope = `${wk.tenant}\0${wk.source}`;
    if (!isBatch) {
      const c = normaliseCall(body, type, { receivedAt, scope });
      if (Array.isArray(c)) refuse(c, `The ${type} call was refused`);
      const call = c as Call;
      if (call.context.direct === true && call.context.ip === undefined) call.context = { ...call.context, ip: req.ip };
      return deliver([call], wk, reply);
    }
    if (!Array.isArray(body.batch)) throw new HttpError(400, 'invalid_call', 'A batch body needs "batch": an array of calls, each with a "type"');
    if (body.batch.length > LIMITS.batchCalls) {
      throw new HttpError(413, 'payload_too_large', `The batch holds ${body.batch.length} calls; a batch may hold at most ${LIMITS.batchCalls}`);
    }
    const env = { receivedAt, scope, sentAt: body.sentAt, context: typeof body.context === 'object' && body.context !== null ? (body.context as Json) : undefined };
    const calls: Call[] = [];
    const problems: Problem[] = [];
    const oversized: number[] = [];
    body.batch.forEach((raw, i) => {
      // Only a batch larger than one call's limit can hold an oversized call.
      if (size > LIMITS.callBytes && Buffer.byteLength(JSON.stringify(raw)) > LIMITS.callBytes) oversized.push(i);
      const c = normaliseCall(raw, undefined, env, i);
      if (Array.isArray(c)) problems.push(...c);
      else calls.push(c);
    });
    if (oversized.length) {
      throw new HttpError(413, 'payload_too_large', `batch[${oversized.slice(0, 10).join('], batch[')}] ${oversized.length === 1 ? 'is' : 'are'} larger than ${LIMITS.callBytes} bytes (32 KB per call); nothing was accepted`, { calls: oversized });
    }
    if (problems.length) refuse(problems, `${problems.length} problem(s) in the batch; nothing was accepted`);
    for (const c of calls) if (c.context.direct === true && c.context.ip === undefined) c.context = { ...c.context, ip: req.ip };
    return deliver(calls, wk, reply);
  });

  // analytics.js (analytics-next) fetches its settings from its CDN URL; pointed at the collector, it gets these,
  // which send every call back to this collector.
  app.get<{ Params: { writeKey: string } }>('/v1/projects/:writeKey/settings', async (req, reply) => {
    const wk = o.keys.get(req.params.writeKey);
    if (!wk) throw new HttpError(404, 'not_found', `Unknown write key ${mask(req.params.writeKey)}`);
    const base = o.publicUrl ? new URL(o.publicUrl) : new URL(`${req.protocol}://${req.host}`);
    reply.header('cache-control', 'public, max-age=300');
    return {
      integrations: { 'Segment.io': { apiKey: req.params.writeKey, apiHost: `${base.host}${base.pathname.replace(/\/$/, '')}/v1`, protocol: base.protocol.replace(':', '') } },
      plan: { track: { __default: { enabled: true, integrations: {} } }, identify: { __default: { enabled: true } }, group: { __default: { enabled: true } } },
      edgeFunction: {},
      analyticsNextEnabled: true,
      middlewareSettings: {},
      enabledMiddleware: {},
      metrics: { sampleRate: 0 },
      legacyVideoPluginsEnabled: false,
      remotePlugins: [],
    };
  });

  // The analytics.js bundle itself, from the installed @segment/analytics-next (so pages need nothing from Segment).
  app.get<{ Params: { writeKey: string } }>('/analytics.js/v1/:writeKey/analytics.min.js', async (req, reply) => {
    if (!bundles) throw new HttpError(404, 'not_found', '@segment/analytics-next is not installed beside the collector');
    if (!o.keys.has(req.params.writeKey)) throw new HttpError(404, 'not_found', `Unknown write key ${mask(req.params.writeKey)}`);
    reply.header('content-type', 'application/javascript; charset=utf-8').header('cache-control', 'public, max-age=300');
    return reply.send(createReadStream(join(bundles, 'standalone.js')));
  });
  app.get<{ Params: { file: string } }>('/analytics-next/bundles/:file', async (req, reply) => {
    if (!bundleFiles.has(req.params.file)) throw new HttpError(404, 'not_found', `No bundle ${req.params.file.slice(0, 80)}`);
    reply.header('content-type', 'application/javascript; charset=utf-8').header('cache-control', 'public, max-age=31536000, immutable');
    return reply.send(createReadStream(join(bundles!, req.params.file)));
  });

  const hubState = () =>
    Object.fromEntries(
      Object.values(o.senders).map((s) => [s.hub, { partitions: s.partitions, available: s.retryAfterSeconds() === 0, lastError: s.lastError, ...s.stats }]),
    );
  app.get('/health', async () => ({ status: 'ok', uptimeSeconds: Math.round((Date.now() - metrics.started) / 1000), pendingBytes: o.budget.bytes, hubs: hubState() }));
  app.get('/ready', async (_req, reply) => {
    const down = Object.values(o.senders).filter((s) => s.retryAfterSeconds() > 0);
    reply.code(down.length ? 503 : 200);
    return { ready: down.length === 0, hubs: hubState() };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4');
    const gauges: Record<string, number> = { c360_collect_pending_bytes: o.budget.bytes };
    for (const s of Object.values(o.senders)) gauges[`c360_collect_hub_available{hub="${s.hub}"}`] = s.retryAfterSeconds() === 0 ? 1 : 0;
    return metrics.prometheus(gauges);
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ success: false, error: 'not_found', message: `No endpoint ${req.method} ${req.url.slice(0, 100)}` });
  });

  await app.ready();
  return app;
}
