// Segment's own SDKs, unmodified, through the collector into Bronze and Silver: @segment/analytics-node with its host
// pointed at the collector, and @segment/analytics-next (the bundle and settings the collector serves) in headless
// Chromium on another origin. Then `c360 stream`'s consumer drains both hubs into Bronze, and Silver resolves
// identities: every call is in Bronze once, retried calls reach Silver once, and calls sent with only an anonymousId
// land on the person their later sign-in (and the CRM record with the same email) belongs to.
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Analytics } from '@segment/analytics-node';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silverProcessing } from '../pipelines/silver.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { startCollector, type RunningCollector } from '../src/collect/collector.ts';
import { loadWriteKeys } from '../src/collect/write-keys.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { runStream } from '../src/streaming/consumer.ts';
import { startHub, type LocalHub } from '../src/streaming/hub/local-hub.ts';

const KEY = 'wk_e2e_web_key';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let home: string;
let lake: LocalLake;
let engine: Engine;
let hub: LocalHub;
let collector: RunningCollector;
let site: Server;
let browserAnonymousId = '';

/** A page on its own origin that loads analytics.js from the collector: Segment's snippet with its CDN host changed. */
const page = (collectorUrl: string) => `<!doctype html><html><head><title>Shop</title><script>
!function () {
  var cdn = ${JSON.stringify(collectorUrl)}, key = ${JSON.stringify(KEY)};
  var analytics = window.analytics = window.analytics || [];
  if (analytics.initialize || analytics.invoked) return;
  analytics.invoked = true;
  ['identify', 'track', 'page', 'screen', 'group', 'alias', 'reset', 'ready', 'on', 'off', 'once', 'setAnonymousId', 'addSourceMiddleware'].forEach(function (m) {
    analytics[m] = function () { var a = Array.prototype.slice.call(arguments); a.unshift(m); analytics.push(a); return analytics; };
  });
  analytics._writeKey = key;
  analytics._cdn = cdn;
  var s = document.createElement('script'); s.async = true; s.src = cdn + '/analytics.js/v1/' + key + '/analytics.min.js';
  document.head.appendChild(s);
  analytics.page('Home');
}();
</script></head><body><h1>Shop</h1></body></html>`;

const rows = (sql: string) => engine.all<Record<string, unknown>>(sql);
const parquet = (dir: string) => `read_parquet('${join(home, 'lake', dir, '**', '*.parquet')}', union_by_name = true)`;

async function until(cond: () => boolean, what: string, ms = 30_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-collect-e2e-'));
  lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
  hub = await startHub({ port: 0 });
  collector = await startCollector({ keys: loadWriteKeys([`${KEY}:default:WEB`], ''), connectionString: hub.connectionString, port: 0, host: '127.0.0.1', metricsIntervalSeconds: 0, log: silentLogger });
  site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page(collector.url)));
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await collector?.stop();
  await hub?.close();
  site?.close();
  engine?.close();
  if (!process.env.KEEP_E2E) await rm(home, { recursive: true, force: true });
  else console.log('kept', home);
});

describe('real Segment clients through the collector', () => {
  it('analytics-node: track before sign-in, identify, page', async () => {
    const analytics = new Analytics({ writeKey: KEY, host: collector.url, flushInterval: 50, maxRetries: 2 });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    analytics.track({ anonymousId: 'node-anon-1', event: 'Product Viewed', properties: { product_id: 'P-100', price: 25 } });
    analytics.identify({ userId: 'node-user-1', anonymousId: 'node-anon-1', traits: { email: 'Ann.Lee@Outlook.com', firstName: 'Ann', lastName: 'Lee' } });
    analytics.page({ userId: 'node-user-1', name: 'Checkout', properties: { url: 'https://shop.example/checkout' } });
    analytics.group({ userId: 'node-user-1', groupId: 'acme-inc', traits: { name: 'Acme Inc', employees: 420 } });
    await analytics.closeAndFlush({ timeout: 20_000 });
    expect(errors).toEqual([]);
    expect(collector.metrics.calls.get('identify')).toBe(1);
  });

  it('analytics-next in headless Chromium: page, track, identify, track, from another origin', async () => {
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    try {
      const tab = await browser.newPage();
      const failed: string[] = [];
      tab.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
      await tab.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
      await tab.waitForFunction(() => (window as unknown as { analytics: { initialized?: boolean } }).analytics.initialized === true, undefined, { timeout: 20_000 });
      browserAnonymousId = await tab.evaluate(async () => {
        const a = (window as unknown as { analytics: Record<string, (...args: unknown[]) => Promise<unknown>> & { user(): { anonymousId(): string } } }).analytics;
        await a.track!('Products Searched', { query: 'red shoes' });
        const anon = a.user().anonymousId();
        await a.identify!('web-user-7', { email: 'bo.ng@outlook.com', name: 'Bo Ng' });
        await a.track!('Signed Up', { plan: 'free' });
        return anon;
      });
      expect(browserAnonymousId).toMatch(/^[0-9a-f-]{36}$/);
      // The page call queued by the snippet before the bundle loaded is delivered too.
      await until(() => (collector.metrics.records.get('CUSTOMER_BEHAVIORAL_EVENTS') ?? 0) >= 5, 'the browser calls');
      expect(failed).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('a retried call: the same record (Bronze keeps one) or, from a skewed clock, one row in Silver', async () => {
    const send = (body: object) =>
      fetch(`${collector.url}/v1/track`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` }, body: JSON.stringify(body) });
    const call = { messageId: 'retry-1', userId: 'node-user-1', event: 'Order Completed', properties: { total: 40 }, timestamp: new Date(Date.now() - 1000).toISOString() };
    expect((await send({ ...call, sentAt: new Date().toISOString() })).status).toBe(200);
    expect((await send({ ...call, sentAt: new Date().toISOString() })).status).toBe(200);
    // A device clock two hours behind: the same sentAt received 50 ms apart gives two corrected times.
    const skewed = { messageId: 'retry-2', anonymousId: 'node-anon-1', event: 'Coupon Applied', timestamp: new Date(Date.now() - 7_200_000).toISOString(), sentAt: new Date(Date.now() - 7_200_000 + 500).toISOString() };
    expect((await send(skewed)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect((await send(skewed)).status).toBe(200);
  });

  it('drains both hubs into Bronze: every call once, identities and links beside the events', async () => {
    // The CRM knows Ann under another id, with the same email.
    const crm = join(home, 'crm.csv');
    await writeFile(crm, 'CUSTOMER_ID,FIRST_NAME,LAST_NAME,EMAIL_ADDRESS,COUNTRY_CODE\nCRM-0042,Ann,Lee,ann.lee@outlook.com,US\n');
    await ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file: crm }, loadId: 'crm-load', ingestDate: '2026-11-01', sourceSystem: 'CRM' });
    for (const hubName of ['c360-behavioral-events', 'c360-id-resolution']) {
      const r = await runStream({ target: { hub: hubName, connectionString: hub.connectionString }, lake, loadId: `stream-${hubName}`, log: silentLogger, openEngine: () => Engine.open(), tmpDir: join(home, 'tmp'), untilIdleSeconds: 1 });
      expect(r.rowCounts).not.toHaveProperty('_events.quarantine');
    }
    expect(await lake.list('quarantine/')).toEqual([]);
    const events = await rows(`SELECT EVENT_ID, EVENT_TYPE, EVENT_NAME, CUSTOMER_ID, ANONYMOUS_ID, _source_system FROM ${parquet('bronze/customer360/behavioral')} ORDER BY EVENT_ID`);
    const ids = events.map((e) => e.EVENT_ID as string);
    // 3 from analytics-node, 4 from the browser (page, search, signed up + none for identify), the retried calls.
    expect(ids.filter((id) => id === 'retry-1')).toHaveLength(1);
    expect(ids.filter((id) => id === 'retry-2')).toHaveLength(2);
    expect(new Set(ids.filter((id) => !id.startsWith('retry-'))).size).toBe(ids.length - 3);
    expect(events.filter((e) => !String(e.EVENT_ID).startsWith('retry-')).map((e) => `${e.EVENT_TYPE}:${e.EVENT_NAME}`).sort()).toEqual(
      ['CUSTOM:Signed Up', 'PAGE_VIEW:Checkout', 'PAGE_VIEW:Home', 'PRODUCT_VIEW:Product Viewed', 'SEARCH:Products Searched'].sort(),
    );
    expect(events.every((e) => e._source_system === 'WEB')).toBe(true);
    const customers = await rows(`SELECT CUSTOMER_ID, EMAIL_ADDRESS, _source_system FROM ${parquet('bronze/customer360/customers')} ORDER BY CUSTOMER_ID`);
    expect(customers.map((c) => `${c._source_system}:${c.CUSTOMER_ID}`)).toEqual(['CRM:CRM-0042', 'WEB:node-user-1', 'WEB:web-user-7']);
    const links = await rows(`SELECT CUSTOMER_ID, LINKED_ID FROM ${parquet('bronze/customer360/identity_links')} ORDER BY CUSTOMER_ID`);
    expect(links).toEqual([
      { CUSTOMER_ID: 'node-user-1', LINKED_ID: 'node-anon-1' },
      { CUSTOMER_ID: 'web-user-7', LINKED_ID: browserAnonymousId },
    ]);
    expect((await rows(`SELECT GROUP_ID, EMPLOYEES FROM ${parquet('bronze/customer360/account_membership')}`))).toEqual([{ GROUP_ID: 'acme-inc', EMPLOYEES: 420 }]);
  });

  it('Silver: retried calls once, anonymous calls on the person who signed in, web and CRM records one person', async () => {
    const tables = ['CUSTOMERS', 'CUSTOMER_BEHAVIORAL_EVENTS', 'IDENTITY_LINKS'];
    const stage = { ...silverProcessing, activities: silverProcessing.activities.map((a) => (a.forEach ? { ...a, forEach: { ...a.forEach, items: tables } } : a)) };
    const run = await runPipeline({ home, lake, log: silentLogger, pipeline: { name: 'silver_collected', description: '', parameters: [], stages: [stage] }, runDate: '2026-12-01' });
    expect(run.status, JSON.stringify(run.jobs.find((j) => j.status === 'failed')?.error)).toBe('succeeded');
    const people = Object.fromEntries(
      (await rows(`SELECT _source_system || ':' || CUSTOMER_ID AS k, CUSTOMER360_ID AS id FROM ${parquet('silver/customer360/customers')}`)).map((r) => [r.k, r.id]),
    );
    expect(people['WEB:node-user-1']).toBe(people['CRM:CRM-0042']);
    expect(people['WEB:web-user-7']).not.toBe(people['CRM:CRM-0042']);
    const events = await rows(`SELECT EVENT_ID, EVENT_NAME, CUSTOMER_ID, ANONYMOUS_ID, CUSTOMER360_ID FROM ${parquet('silver/customer360/behavioral')}`);
    expect(events.filter((e) => e.EVENT_ID === 'retry-2')).toHaveLength(1);
    expect(events.filter((e) => e.EVENT_ID === 'retry-1')).toHaveLength(1);
    const person = (name: string) => events.find((e) => e.EVENT_NAME === name)!.CUSTOMER360_ID;
    // Sent with only an anonymousId, before sign-in:
    expect(events.find((e) => e.EVENT_NAME === 'Product Viewed')!.CUSTOMER_ID).toBeNull();
    expect(person('Product Viewed')).toBe(people['CRM:CRM-0042']);
    expect(person('Coupon Applied')).toBe(people['CRM:CRM-0042']);
    expect(person('Products Searched')).toBe(people['WEB:web-user-7']);
    expect(person('Home')).toBe(people['WEB:web-user-7']);
    expect(person('Signed Up')).toBe(people['WEB:web-user-7']);
    expect(person('Checkout')).toBe(people['CRM:CRM-0042']);
    const crosswalk = await rows(`SELECT SOURCE_SYSTEM, CUSTOMER_ID, CUSTOMER360_ID FROM ${parquet('silver/customer360/identity/crosswalk')} WHERE CUSTOMER_ID IN ('node-anon-1', '${browserAnonymousId}')`);
    expect(crosswalk).toHaveLength(2);
  });
});
