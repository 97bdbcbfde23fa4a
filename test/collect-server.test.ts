// The collector over HTTP against the local Event Hubs endpoint: refused requests (malformed, oversized,
// unauthenticated) say why and send nothing; gzip bodies; CORS; analytics.js settings and bundle; a stopped hub gives
// 503 + Retry-After with nothing held in memory, and the collector recovers when the hub is back.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../src/collect/collector.ts';
import { loadWriteKeys } from '../src/collect/write-keys.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { startHub, type LocalHub } from '../src/streaming/hub/local-hub.ts';

const KEY = 'wk_server_test';
let hub: LocalHub;
let collector: RunningCollector;
const auth = (key = KEY) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const events = () => hub.partitionCounts('c360-behavioral-events').reduce((a, b) => a + b, 0);

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(collector.url + path, {
    method: 'POST',
    headers: { authorization: auth(), 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  hub = await startHub({ port: 0 });
  collector = await startCollector({
    keys: loadWriteKeys([`${KEY}:acme:WEB`], ''),
    connectionString: hub.connectionString,
    port: 0,
    host: '127.0.0.1',
    ackTimeoutMs: 3000,
    metricsIntervalSeconds: 0,
    log: silentLogger,
  });
});
afterAll(async () => {
  await collector?.stop();
  await hub?.close();
});

describe('c360 collect over HTTP', () => {
  it('answers 200 once the hub has the records, for the long and the analytics.js short paths', async () => {
    const before = events();
    expect(await post('/v1/track', { userId: 'u1', event: 'Signed Up' })).toMatchObject({ status: 200, body: { success: true } });
    // curl -d sends a form content type: the body is read as JSON whatever the type says.
    expect((await post('/v1/p', { anonymousId: 'a1', name: 'Home' }, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(200);
    expect(events() - before).toBe(2);
  });

  it('refuses malformed bodies with 400 naming the problem, and sends nothing', async () => {
    const before = events();
    expect(await post('/v1/track', '{"userId": "u1", "event": ')).toMatchObject({ status: 400, body: { success: false, error: 'invalid_json' } });
    expect((await post('/v1/track', '[1, 2]')).body.message).toBe('The body must be a JSON object');
    const batch = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u1', event: 'ok' }, { type: 'track', anonymousId: 'a1' }, { type: 'wave', userId: 'u1' }] });
    expect(batch.status).toBe(400);
    expect(batch.body.problems).toEqual([
      { index: 1, field: 'event', problem: 'track needs an event name' },
      { index: 2, field: 'type', problem: 'must be one of identify, track, page, screen, group, alias, got "wave"' },
    ]);
    expect(batch.body.message).toMatch(/batch\[1\]\.event track needs an event name/);
    expect((await post('/v1/batch', { calls: [] })).body.message).toMatch(/needs "batch": an array/);
    expect((await post('/v1/identify', { traits: { email: 'x@y.z' } })).body.message).toMatch(/userId a call needs a userId or an anonymousId/);
    expect((await post('/v1/nope', { userId: 'u' })).status).toBe(404);
    expect(events()).toBe(before);
  });

  it('refuses oversized calls and batches with 413: 32 KB per call, 500 KB and 2,500 calls per batch', async () => {
    const before = events();
    const big = 'x'.repeat(33 * 1024);
    expect(await post('/v1/track', { userId: 'u1', event: 'Big', properties: { big } })).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    const inBatch = await post('/v1/batch', { batch: [{ type: 'track', userId: 'u1', event: 'ok' }, { type: 'track', userId: 'u1', event: 'Big', properties: { big } }] });
    expect(inBatch).toMatchObject({ status: 413, body: { calls: [1] } });
    expect(inBatch.body.message).toMatch(/batch\[1\] is larger than 32768 bytes/);
    const huge = await post('/v1/batch', { batch: Array.from({ length: 20 }, () => ({ type: 'track', userId: 'u1', event: 'x', properties: { p: 'y'.repeat(30_000) } })) });
    expect(huge).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });
    expect(huge.body.message).toMatch(/larger than 512000 bytes \(500 KB per batch/);
    const many = await post('/v1/batch', { batch: Array.from({ length: 2501 }, () => ({ type: 'page', anonymousId: 'a' })) });
    expect(many.body.message).toBe('The batch holds 2501 calls; a batch may hold at most 2500');
    // A gzip bomb: 1 MB of JSON in a few KB of gzip is measured inflated.
    const bomb = gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'x', properties: { p: 'z'.repeat(1_000_000) } }] }));
    expect(bomb.length).toBeLessThan(10_000);
    expect((await post('/v1/batch', bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
    expect(events()).toBe(before);
  });

  it('accepts gzip bodies and refuses broken ones', async () => {
    const before = events();
    const ok = await post('/v1/batch', gzipSync(JSON.stringify({ batch: [{ type: 'track', userId: 'u1', event: 'Zipped' }, { type: 'page', userId: 'u1' }] })), { 'content-encoding': 'gzip' });
    expect(ok.status).toBe(200);
    expect(events() - before).toBe(2);
    expect(await post('/v1/track', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' })).toMatchObject({ status: 400, body: { error: 'invalid_encoding' } });
    expect((await post('/v1/track', 'x', { 'content-encoding': 'br' })).status).toBe(415);
  });

  it('answers 401 without a key or with an unknown one (header or body), and takes a known key from the body', async () => {
    const before = events();
    const noKey = await fetch(`${collector.url}/v1/track`, { method: 'POST', body: JSON.stringify({ userId: 'u1', event: 'x' }) });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { message: string }).message).toMatch(/HTTP Basic auth with the write key as user name/);
    expect(await post('/v1/track', { userId: 'u1', event: 'x' }, { authorization: auth('wk_unknown_key') })).toMatchObject({ status: 401, body: { message: 'Unknown write key wk_u…ey' } });
    expect((await post('/v1/track', { userId: 'u1', event: 'x' }, { authorization: 'Bearer t' })).status).toBe(401);
    const bodyKey = await fetch(`${collector.url}/v1/track`, { method: 'POST', body: JSON.stringify({ writeKey: 'wk_unknown_key', userId: 'u1', event: 'x' }) });
    expect(bodyKey.status).toBe(401);
    expect(events()).toBe(before);
    const good = await fetch(`${collector.url}/v1/track`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ writeKey: KEY, userId: 'u1', event: 'x' }) });
    expect(good.status).toBe(200);
  });

  it('serves browsers: CORS preflight, the analytics.js settings pointing back here, and the bundle', async () => {
    const pre = await fetch(`${collector.url}/v1/t`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    const settings = (await (await fetch(`${collector.url}/v1/projects/${KEY}/settings`)).json()) as { integrations: Record<string, { apiHost: string; protocol: string }> };
    expect(settings.integrations['Segment.io']).toMatchObject({ apiHost: `${new URL(collector.url).host}/v1`, protocol: 'http' });
    expect((await fetch(`${collector.url}/v1/projects/wk_unknown_key/settings`)).status).toBe(404);
    const bundle = await fetch(`${collector.url}/analytics.js/v1/${KEY}/analytics.min.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(50_000);
    expect((await fetch(`${collector.url}/analytics-next/bundles/..%2Fpackage.json`)).status).toBe(404);
  });

  it('reports health, readiness and Prometheus metrics', async () => {
    const health = (await (await fetch(`${collector.url}/health`)).json()) as { status: string; hubs: Record<string, { partitions: number }> };
    expect(health.status).toBe('ok');
    expect(health.hubs['c360-behavioral-events']!.partitions).toBe(4);
    expect((await fetch(`${collector.url}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/c360_collect_requests_total\{route="\/v1\/:call",status="401"\} [1-9]/);
    expect(metrics).toMatch(/c360_collect_records_total\{table="CUSTOMER_BEHAVIORAL_EVENTS"\} [1-9]/);
    expect(metrics).toMatch(/c360_collect_request_seconds_count [1-9]/);
  });

  it('answers 503 with Retry-After while the hub is down, holds nothing, and recovers when it is back', async () => {
    const port = hub.port;
    await hub.close();
    const down = await post('/v1/track', { userId: 'u1', event: 'While Down' });
    expect(down.status).toBe(503);
    expect(Number(down.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(down.body.error).toMatch(/hub_unavailable|hub_timeout/);
    // While the hub is known down, calls are refused at once, before anything is queued.
    const t0 = Date.now();
    expect((await post('/v1/track', { userId: 'u1', event: 'Still Down' })).status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(collector.budget.bytes).toBe(0);
    expect((await fetch(`${collector.url}/ready`)).status).toBe(503);
    hub = await startHub({ port });
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      const r = await post('/v1/track', { userId: 'u1', event: 'Back', messageId: 'back-1' });
      status = r.status;
      if (status !== 200) await new Promise((res) => setTimeout(res, 500));
    }
    expect(status).toBe(200);
    expect(events()).toBeGreaterThanOrEqual(1);
  });
});
