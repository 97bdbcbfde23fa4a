// The profile API over real HTTP on loopback, answering from a snapshot of a DuckDB warehouse loaded from the Gold
// scenario (three people, four source systems): every endpoint, both roles and masking, lookups by every id type,
// the merged-id redirect, match links, a past as-of date, paging, ETags, request ids, rate limiting, bad input, the
// audit log, a snapshot swap under load, and every answer checked against the committed OpenAPI document.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../src/catalogue/index.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { maskValue } from '../src/privacy/masking.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { DIM_CUSTOMER, PII_OF, SCALAR_FIELDS } from '../src/serving/fields.ts';
import { jsonExpr, Snapshot } from '../src/serving/snapshot.ts';
import { lakeSource } from '../src/serving/sources.ts';
import { openApiDocument, openApiText, OPENAPI_FILE } from '../src/serving/openapi.ts';
import { startServer, type RunningServer } from '../src/serving/serve.ts';
import { buildServer } from '../src/serving/server.ts';
import { Authenticator } from '../src/serving/auth.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';
import { DIM_CUSTOMER as DIM, IDENTITY_MAP, MODEL_REGISTRY, PRODUCTS, RECOMMENDATIONS, RISK_SCORES, SEGMENTS } from '../src/serving/fields.ts';
import { AS_OF } from './fixtures/gold-scenario.ts';
import { writeServeScenario } from './fixtures/serve-scenario.ts';

const AGENT = 'agent-key-0123456789abcdef';
const ANALYST = 'analyst-key-0123456789abcdef';
const PAST = '2026-03-15';

let home: string;
let lake: LocalLake;
let server: RunningServer;
let warehouse: Record<string, Record<string, unknown>>;
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
ajv.addSchema({ ...openApiDocument(), $id: 'api' });

/** Validates a body against a response schema of the document. */
function conforms(path: string, status: number, body: unknown): void {
  const ptr = `api#/paths/${path.replaceAll('/', '~1')}/get/responses/${status}/content/application~1json/schema`;
  const validate = ajv.getSchema(ptr);
  if (!validate) throw new Error(`No schema for ${path} ${status}`);
  if (!validate(body)) throw new Error(`${path} ${status} does not conform: ${ajv.errorsText(validate.errors)}`);
}

async function get(path: string, key: string | null = AGENT, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${server.url}${path}`, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers }, redirect: 'manual' });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}


beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-serve-'));
  lake = new LocalLake(join(home, 'lake'));
  await writeServeScenario(home, lake, [PAST, AS_OF]);
  const wh = await Engine.open({ path: join(home, 'warehouse.duckdb') });
  try {
    // The warehouse load, for the tables the API reads (the other Gold jobs are not needed here).
    await loadWarehouse(wh, lake, { asOf: AS_OF, loadId: 'L1', tables: [DIM, IDENTITY_MAP, RISK_SCORES, SEGMENTS, RECOMMENDATIONS, PRODUCTS, MODEL_REGISTRY] });
    // Identity resolution's table of retired ids: P9 was merged into P1.
    await wh.run(`CREATE TABLE "CUSTOMER_360"."CUSTOMER_ID_REDIRECTS" AS SELECT 'P9' AS "RETIRED_ID", 'P1' AS "CUSTOMER360_ID", TIMESTAMP '2026-03-30 10:00:00' AS "RETIRED_AT", 'merged' AS "REASON"`);
    const shaped = await wh.all(`SELECT ${DIM_CUSTOMER.columns.map((c) => `${jsonExpr(`"${c.name}"`, c.type)} AS "${c.name}"`).join(', ')} FROM "CUSTOMER_360"."DIM_CUSTOMER"`);
    warehouse = Object.fromEntries(shaped.map((r) => [String(r.CUSTOMER360_ID), r]));
  } finally {
    wh.close();
  }
  server = await startServer({
    lake, source: { kind: 'warehouse', path: join(home, 'warehouse.duckdb') },
    apiKeys: [{ key: AGENT, role: 'agent', name: 'support-desk' }, { key: ANALYST, role: 'analyst', name: 'bi' }],
    port: 0, host: '127.0.0.1', rateLimit: { perSecond: 0 }, auditLog: join(home, 'audit.jsonl'), pollSeconds: 0,
    snapshotDir: join(home, 'serve'), log: silentLogger,
    // a nice value, not SCHED_IDLE: a test suite loads the machine, and an idle-class build would get no CPU at all
    buildPriority: 10,
  });
  expect(await server.ready).toBe(true);
});

afterAll(async () => {
  await server?.close();
  await rm(home, { recursive: true, force: true });
});

describe('profile API', () => {
  it('health names the snapshot; the OpenAPI document is served and committed up to date', async () => {
    const h = await get('/health', null);
    expect(h.status).toBe(200);
    expect(h.body.snapshot).toMatchObject({ asOf: AS_OF, customers: Object.keys(warehouse).length });
    conforms('/health', 200, h.body);
    const doc = await get('/openapi.json', null);
    expect(doc.body).toEqual(openApiDocument());
    expect(await readFile(join(import.meta.dirname, '..', OPENAPI_FILE), 'utf8')).toBe(openApiText());
  });

  it('every route the server has is in the document, and every documented path is a route', async () => {
    const app = await buildServer({ store: server.store, auth: new Authenticator([]), log: silentLogger });
    const routes = app.routeList.filter((r) => r.method === 'GET').map((r) => r.url);
    await app.close();
    const documented = Object.keys(openApiDocument().paths as object).map((p) => p.replace(/\/\{(id|file)\}(\/links)?$/, '/*'));
    expect([...new Set(documented)].sort()).toEqual([...new Set(routes)].sort());
  });

  it('an agent gets the whole profile: warehouse columns as in DIM_CUSTOMER, scores, segment, identifiers, recommendations, models', async () => {
    const r = await get('/customer/profile/c360:P1');
    expect(r.status).toBe(200);
    conforms('/customer/profile/{id}', 200, r.body);
    for (const c of DIM_CUSTOMER.columns.filter((x) => x.name !== 'IDENTIFIERS')) expect([c.name, r.body[c.name]]).toEqual([c.name, warehouse.P1![c.name]]);
    expect(r.body).toMatchObject({ CHURN_RISK: 0.1, P_ALIVE: 0.95, PREDICTED_CLV: 120.5, CHURN_MODEL_VERSION: 'churn-v1', SEGMENT_LABEL: 'Engaged regulars', SEGMENT_MODEL_VERSION: 'seg-v1' });
    expect(r.body.IDENTIFIERS).toEqual([
      { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C1' }, { SOURCE_SYSTEM: 'ECOMMERCE', CUSTOMER_ID: 'E1' }, { SOURCE_SYSTEM: 'POS', CUSTOMER_ID: 'S1' },
    ]);
    expect(r.body.RECOMMENDATIONS.map((x: any) => [x.RANK, x.PRODUCT_ID, x.REASON])).toEqual([[1, 'PR3', 'Bought together with Runner'], [2, 'PR2', 'You bought this before']]);
    expect(r.body.MODELS.map((m: any) => m.MODEL_VERSION)).toEqual(['churn-v1', 'clv-v1', 'reco-v1', 'seg-v1']);
    expect(r.body.MODELS[0]).toMatchObject({ MODEL_NAME: 'churn', METRICS: { auc: 0.7 } });
    expect(r.body.LINKS).toBeUndefined();
    expect(r.body.FIRST_NAME).toBe('Ann');
  });

  it('an analyst gets every PII field masked by its class, the rest as the agent sees it', async () => {
    const agent = (await get('/customer/profile/c360:P1')).body;
    const analyst = await get('/customer/profile/c360:P1', ANALYST);
    expect(analyst.status).toBe(200);
    conforms('/customer/profile/{id}', 200, analyst.body);
    expect(PII_OF.size).toBeGreaterThan(8);
    for (const f of SCALAR_FIELDS) expect([f.name, analyst.body[f.name]]).toEqual([f.name, maskValue(f.pii, agent[f.name])]);
    expect(analyst.body.FIRST_NAME).toBe('A***');
    expect(analyst.body.EMAIL_ADDRESS).toMatch(/^\*{5}@[a-z.]+$/);
    expect(analyst.body.DATE_OF_BIRTH).toMatch(/^\d{4}-01-01$/);
    expect(analyst.body.CITY).toBe('*****');
  });

  it('finds people by source id, e-mail and phone, normalised as identity resolution does', async () => {
    const email = warehouse.P1!.EMAIL_ADDRESS as string;
    for (const id of ['source:CRM/C1', 'source:pos/S1', `source:ECOMMERCE%2FE1`, `email:${encodeURIComponent(`  ${email.toUpperCase()} `)}`]) {
      const r = await get(`/customer/profile/${id}?fields=CUSTOMER360_ID`);
      expect([id, r.status, r.body.CUSTOMER360_ID]).toEqual([id, 200, 'P1']);
      expect(r.headers.get('content-location')).toBe('/customer/profile/c360:P1');
    }
    const bob = await get(`/customer/profile/email:Bob@Example.com?fields=FIRST_NAME`);
    expect(bob.body).toEqual({ CUSTOMER360_ID: 'P2', AS_OF_DATE: AS_OF, FIRST_NAME: 'Bob' });
    const phone = (warehouse.P1!.PHONE_NUMBER as string).replaceAll(' ', '');
    expect(phone).toMatch(/^\+1\d{10}$/);
    const national = `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`;
    expect((await get(`/customer/profile/phone:${encodeURIComponent(national)}`)).body.CUSTOMER360_ID).toBe('P1');
    expect((await get('/customer/profile/source:CRM/NOBODY')).status).toBe(404);
    expect((await get('/customer/profile/email:nobody@example.com')).status).toBe(404);
  });

  it('fields= returns just the named fields; unknown ones are refused by name', async () => {
    const r = await get('/customer/profile/c360:P2?fields=TOTAL_REVENUE,CHURN_RISK,RECOMMENDATIONS');
    expect(Object.keys(r.body).sort()).toEqual(['AS_OF_DATE', 'CHURN_RISK', 'CUSTOMER360_ID', 'RECOMMENDATIONS', 'TOTAL_REVENUE']);
    expect(r.body).toMatchObject({ TOTAL_REVENUE: warehouse.P2!.TOTAL_REVENUE, CHURN_RISK: 0.7 });
    conforms('/customer/profile/{id}', 200, r.body);
  });

  it('bad input is 400 naming what was wrong; unknown people 404; no or unknown key 401', async () => {
    const cases: [string, RegExp][] = [
      ['/customer/profile/fax:123', /Unknown id type 'fax'/],
      ['/customer/profile/P1', /must be \{idType\}:\{value\}/],
      ['/customer/profile/c360:', /empty/],
      ['/customer/profile/c360:P1;drop', /Malformed c360 id/],
      ['/customer/profile/email:not-an-email', /Malformed e-mail 'not-an-email'/],
      ['/customer/profile/phone:12', /Malformed phone number '12'/],
      ['/customer/profile/source:CRM', /Malformed source id 'CRM'/],
      ['/customer/profile/c360:P1?fields=TOTAL_REVENUE,REVENUE', /Unknown field 'REVENUE'/],
      ['/customer/profile/c360:P1?fields=total_revenue', /did you mean TOTAL_REVENUE/],
      ['/customer/profile/c360:P1?colour=red', /Unknown query parameter 'colour'/],
      ['/customer/profile/c360:P1?asOf=2026-13-45', /asOf must be a date/],
      ['/customer/profile/c360:P1?include=everything', /Unknown include 'everything'/],
      ['/customer/profile/c360:P1?fields=LINKS', /LINKS field needs include=links/],
      ['/customers?churnRiskMin=high', /churnRiskMin must be a number from 0 to 1/],
      ['/customers?limit=5000', /limit must be a whole number from 1 to 1000/],
      ['/customers?cursor=%25%25', /cursor/],
    ];
    for (const [path, message] of cases) {
      const r = await get(path);
      expect([path, r.status]).toEqual([path, 400]);
      expect(r.body.message).toMatch(message);
      conforms('/customer/profile/{id}', 400, r.body);
    }
    const missing = await get('/customer/profile/c360:P404');
    expect([missing.status, missing.body.error]).toEqual([404, 'not_found']);
    for (const key of [null, 'not-a-key-of-this-server']) {
      const r = await get('/customer/profile/c360:P1', key);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await get('/nowhere')).status).toBe(404);
  });

  it('a retired (merged) id answers 308 with the surviving person, keeping the query', async () => {
    const r = await get('/customer/profile/c360:P9?fields=FIRST_NAME');
    expect(r.status).toBe(308);
    expect(r.headers.get('location')).toBe('/customer/profile/c360:P1?fields=FIRST_NAME');
    expect(r.body).toMatchObject({ error: 'retired_id', CUSTOMER360_ID: 'P1' });
    const followed = await get(r.headers.get('location')!);
    expect(followed.body.FIRST_NAME).toBe('Ann');
    expect((await get('/customer/profile/c360:P9/links')).headers.get('location')).toBe('/customer/profile/c360:P1/links');
  });

  it('include=links and /links explain the person from the match ledger (only their records\' decisions)', async () => {
    const r = await get('/customer/profile/c360:P1?include=links&fields=CUSTOMER360_ID');
    expect(r.body.LINKS.map((l: any) => `${l.CUSTOMER_ID_L}-${l.CUSTOMER_ID_R}:${l.DECISION}`)).toEqual(['C1-S1:LINKED', 'C1-E1:LINKED']);
    conforms('/customer/profile/{id}', 200, r.body);
    const links = await get('/customer/profile/source:POS/S1/links');
    expect(links.status).toBe(200);
    conforms('/customer/profile/{id}/links', 200, links.body);
    expect(links.body.RECORDS).toHaveLength(3);
    expect(links.body.LINKS).toEqual(r.body.LINKS);
    expect((await get('/customer/profile/c360:P3/links')).body.LINKS.map((l: any) => l.DECISION)).toEqual(['REFUSED']);
  });

  it('asOf= answers from that date\'s Gold snapshot in the lake; a date without one is 404 listing the dates', async () => {
    const past = await get(`/customer/profile/c360:P1?asOf=${PAST}&fields=TOTAL_REVENUE,TOTAL_ORDERS`);
    expect(past.status).toBe(200);
    const e = await Engine.open();
    try {
      const files = (await lake.list(`${getDataset('customer_profile').path}/as_of_date=${PAST}`)).map((f) => `'${join(home, 'lake', f.path)}'`);
      const expected = await e.all<{ r: number; o: number }>(`SELECT CAST(TOTAL_REVENUE AS DOUBLE) AS r, CAST(TOTAL_ORDERS AS DOUBLE) AS o FROM read_parquet([${files.join(',')}]) WHERE CUSTOMER360_ID = 'P1'`);
      expect(past.body).toEqual({ CUSTOMER360_ID: 'P1', AS_OF_DATE: PAST, TOTAL_REVENUE: expected[0]!.r, TOTAL_ORDERS: expected[0]!.o });
    } finally {
      e.close();
    }
    expect(past.body.TOTAL_REVENUE).not.toBe(warehouse.P1!.TOTAL_REVENUE);
    const none = await get('/customer/profile/c360:P1?asOf=2020-01-01');
    expect(none.status).toBe(404);
    expect(none.body.available).toEqual([PAST, AS_OF]);
  });

  it('the ready bodies of the current snapshot equal profiles built field by field from the same date\'s Gold (every person)', async () => {
    // The current snapshot answers an agent with bytes DuckDB wrote at load; a past date builds each profile in
    // JavaScript from views. Both read the lake's data of AS_OF here, so every person must come out the same.
    const view = await Snapshot.build({ file: ':memory:', mode: 'view', connections: 1, ...(await lakeSource(lake, AS_OF))! });
    try {
      const current = server.store.current!;
      expect(current.customers).toBe(Object.keys(warehouse).length);
      for (const id of Object.keys(warehouse)) {
        const body = await current.body(id);
        expect(body).toBeInstanceOf(Buffer);
        expect([id, JSON.parse(body!.toString('utf8'))]).toEqual([id, await view.profile(id)]);
        // and the API sends those bytes as they are
        const res = await fetch(`${server.url}/customer/profile/c360:${id}`, { headers: { authorization: `Bearer ${AGENT}` } });
        expect(Buffer.from(await res.arrayBuffer()).equals(body!)).toBe(true);
      }
      expect(await current.body('NOBODY')).toBeUndefined();
    } finally {
      view.retire();
    }
  });

  it('/customers pages through people by id, filters by segment and churn risk, masks for analysts', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await get(`/customers?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      conforms('/customers', 200, r.body);
      seen.push(...r.body.items.map((i: any) => i.CUSTOMER360_ID));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Object.keys(warehouse).sort());
    expect((await get('/customers?churnRiskMin=0.5')).body.items.map((i: any) => i.CUSTOMER360_ID)).toEqual(['P2']);
    expect((await get('/customers?segment=Prospects')).body.items.map((i: any) => i.CUSTOMER360_ID)).toEqual(['P3']);
    const masked = await get('/customers?segment=Engaged%20regulars', ANALYST);
    expect(masked.body.items).toEqual([expect.objectContaining({ CUSTOMER360_ID: 'P1', FIRST_NAME: 'A***', CHURN_RISK: 0.1 })]);
  });

  it('ETag and If-None-Match: 304 for an unchanged answer, a new tag when the body differs (e.g. by role)', async () => {
    const a = await get('/customer/profile/c360:P1');
    const tag = a.headers.get('etag')!;
    expect(tag).toMatch(/^"[\w-]+"$/);
    const again = await get('/customer/profile/c360:P1', AGENT, { 'if-none-match': tag });
    expect([again.status, again.body]).toEqual([304, null]);
    expect(again.headers.get('etag')).toBe(tag);
    const analyst = await get('/customer/profile/c360:P1', ANALYST, { 'if-none-match': tag });
    expect(analyst.status).toBe(200);
    expect(analyst.headers.get('etag')).not.toBe(tag);
  });

  it('a request id on every response: the client\'s when valid, else a new one', async () => {
    const mine = await get('/customer/profile/c360:P1', AGENT, { 'x-request-id': 'crm-call-42' });
    expect(mine.headers.get('x-request-id')).toBe('crm-call-42');
    for (const r of [await get('/health', null), await get('/customer/profile/fax:1'), await get('/customer/profile/c360:P1', null)]) {
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect((await get('/customer/profile/fax:1', AGENT, { 'x-request-id': 'bad id with spaces' })).body.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rate limit per caller: 429 with Retry-After once the burst is spent; other callers unaffected', async () => {
    const app = await buildServer({
      store: server.store, log: silentLogger, rateLimit: { perSecond: 0.5, burst: 3 },
      auth: new Authenticator([{ key: AGENT, role: 'agent', name: 'a' }, { key: ANALYST, role: 'analyst', name: 'b' }]),
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const call = (key: string) => fetch(`${url}/customer/profile/c360:P1?fields=CUSTOMER360_ID`, { headers: { authorization: `Bearer ${key}` } });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(AGENT)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await call(AGENT);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = await refused.json();
      expect(body).toMatchObject({ error: 'rate_limited', retryAfterSeconds: Number(refused.headers.get('retry-after')) });
      conforms('/customer/profile/{id}', 429, body);
      expect((await call(ANALYST)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('audit log: who read which person, with role, id type and answer', async () => {
    await get('/customer/profile/email:bob@example.com', ANALYST, { 'x-request-id': 'audit-check-1' });
    await new Promise((r) => setTimeout(r, 50));
    const lines = (await readFile(join(home, 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.requestId === 'audit-check-1')).toMatchObject({
      principal: 'bi', role: 'analyst', via: 'api-key', idType: 'email', customers: ['P2'], status: 200,
    });
    expect(lines.some((l) => l.principal === 'support-desk' && l.customers.includes('P1') && l.status === 200)).toBe(true);
    expect(lines.some((l) => l.status === 308 && l.customers[0] === 'P1')).toBe(true);
  });

  it('audit log holds no e-mail address or phone number: they are written as a keyed hash of the normalised id', async () => {
    const email = String(warehouse.P1!.EMAIL_ADDRESS);
    const phone = String(warehouse.P1!.PHONE_NUMBER).replaceAll(' ', '');
    const asked = [
      [`email:${encodeURIComponent(email)}`, 'audit-pii-1'], [`email:${encodeURIComponent(` ${email.toUpperCase()}`)}`, 'audit-pii-2'],
      [`phone:${encodeURIComponent(phone)}`, 'audit-pii-3'], ['email:nobody@example.com', 'audit-pii-4'],
    ];
    for (const [id, rid] of asked) await get(`/customer/profile/${id}?fields=CUSTOMER360_ID`, AGENT, { 'x-request-id': rid! });
    await new Promise((r) => setTimeout(r, 50));
    const text = await readFile(join(home, 'audit.jsonl'), 'utf8');
    const decoded = decodeURIComponent(text).toLowerCase(); // as sent (URL-encoded) or not
    for (const raw of [email, email.split('@')[0]!, phone, phone.slice(2), 'nobody@example.com', 'bob@example.com']) {
      expect([raw, decoded.includes(raw.toLowerCase())]).toEqual([raw, false]);
    }
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const line = (rid: string) => lines.find((l) => l.requestId === rid);
    // one hash per address however it was written; the person read is still named by c360 id
    expect(line('audit-pii-1')).toMatchObject({ idType: 'email', customers: ['P1'], path: expect.stringMatching(/^\/customer\/profile\/email:#[0-9a-f]{16}$/) });
    expect(line('audit-pii-2').path).toBe(line('audit-pii-1').path);
    expect(line('audit-pii-3')).toMatchObject({ idType: 'phone', customers: ['P1'], path: expect.stringMatching(/^\/customer\/profile\/phone:#[0-9a-f]{16}$/) });
    expect(line('audit-pii-4')).toMatchObject({ status: 404, customers: [] });
    expect(line('audit-pii-4').path).not.toBe(line('audit-pii-1').path);
  });

  it('a snapshot swap under load: no request fails, the old snapshot is closed once its requests finish', async () => {
    const before = server.store.current!;
    let failures = 0;
    let done = false;
    const load = (async () => {
      let n = 0;
      while (!done || n < 20) {
        const r = await get('/customer/profile/c360:P2?fields=TOTAL_REVENUE');
        if (r.status !== 200 || r.body.TOTAL_REVENUE !== warehouse.P2!.TOTAL_REVENUE) failures++;
        n++;
      }
      return n;
    })();
    expect(await server.store.reload()).toBe(true);
    done = true;
    expect(await load).toBeGreaterThanOrEqual(20);
    expect(failures).toBe(0);
    expect(server.store.current).not.toBe(before);
    expect(before.inUse).toBe(0);
    expect((await get('/health', null)).body.snapshot.swaps).toBe(2);
  });
});
