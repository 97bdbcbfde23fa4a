// The Customer Health Overview in headless Chromium (playwright-core, Debian's /usr/bin/chromium): generated from the
// Gold scenario's snapshot and run manifests, opened from disk and from `c360 serve` at /dashboard: no console
// errors, every chart drawn, the headline numbers equal the same figures queried on the warehouse, numbers formatted
// for people, names masked. A screenshot is kept in test/artifacts/.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset, producersOf } from '../src/catalogue/index.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { jobRegistry, makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import type { RunManifest } from '../src/runtime/manifest.ts';
import { generateDashboard } from '../src/serving/dashboard/site.ts';
import { Authenticator } from '../src/serving/auth.ts';
import { startServer, type RunningServer } from '../src/serving/serve.ts';
import { buildServer } from '../src/serving/server.ts';
import { WAREHOUSE_TABLES } from '../src/warehouse/model.ts';
import { AS_OF, writeScenarioIntelligence, writeScenarioSilver } from './fixtures/gold-scenario.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const present = existsSync(CHROMIUM);
if (!present) console.warn(`dashboard browser test SKIPPED: no Chromium at ${CHROMIUM} (Debian: apt-get install chromium; .ci/run installs it)`);

let home: string;
let out: string;
let browser: Browser;
let server: RunningServer;
let expected: Record<string, number | null>;

/** The manifest of an earlier run with Bronze counts (5 of 200 rows quarantined), as the runner writes it. */
function earlierRun(): RunManifest {
  const job = (name: string, rowCounts: Record<string, number>, metrics: Record<string, unknown> = {}) => ({
    activity: name, stage: 's', job: name, params: {}, status: 'succeeded' as const, attempts: 1, startedAt: '2026-03-30T02:00:00Z', inputs: [], outputs: [], rowCounts, metrics,
  });
  return {
    runId: '20260330T020000Z-early', loadId: 'early', command: 'run', pipeline: 'c360_master', runDate: '2026-03-30', asOf: '2026-03-29', home: '', lake: '',
    status: 'succeeded', startedAt: '2026-03-30T02:00:00Z',
    jobs: [
      job('bronze-ingest', { 'CUSTOMERS.input': 120, 'CUSTOMERS.quarantine': 3, 'CUSTOMER_TRANSACTIONS.input': 80, 'CUSTOMER_TRANSACTIONS.quarantine': 2 }),
      job('silver-publish', {}, { 'CUSTOMERS.quality': { flaggedRows: 7 } }),
      job('silver-identity', { identity_retired_ids: 1 }, { identity: { records: 6, customer360Ids: 4 } }),
    ],
  } as unknown as RunManifest;
}

async function openPage(url: string, httpCredentials?: { username: string; password: string }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, ...(httpCredentials ? { httpCredentials } : {}) });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  return { page, errors };
}

/** Per chart: does Chart.js hold it, how many points it was given, and how many pixels it painted. */
async function charts(page: Page) {
  return page.$$eval('canvas[data-chart]', (canvases) =>
    canvases.map((c) => {
      const canvas = c as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
      const chartJs = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart;
      return { name: canvas.dataset.chart!, chart: !!chartJs.getChart(canvas), points: Number(canvas.dataset.rendered), painted, width: canvas.width };
    }),
  );
}

describe.skipIf(!present)('Customer Health Overview in Chromium', () => {
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'c360-dash-'));
    out = join(home, 'dashboard');
    const lake = new LocalLake(join(home, 'lake'));
    const scratch = await Engine.open();
    try {
      await writeScenarioSilver(scratch, lake, join(home, 'tmp'));
      await writeScenarioIntelligence(scratch, lake, join(home, 'tmp'));
    } finally {
      scratch.close();
    }
    // Every Gold job that writes a warehouse table (the intelligence outputs are the scenario's), in pipeline order,
    // then the load, then the dashboard: the pipeline's last stage.
    const registry = jobRegistry();
    // (identity's redirects, like the intelligence outputs, are the scenario's: it has no staged customers to resolve)
    const needed = new Set(WAREHOUSE_TABLES.flatMap((t) => producersOf(getDataset(t.source))).filter((j) => !j.startsWith('gold-intelligence') && j !== 'silver-identity'));
    const ctx = () => makeJobContext({ home, lake, log: silentLogger, runId: 'r1', loadId: 'r1', runDate: AS_OF, asOf: AS_OF, params: {} });
    for (const job of registry.values()) if (needed.has(job.name)) await job.run(ctx());
    await registry.get('warehouse-load')!.run(ctx());
    await mkdir(join(home, 'runs'), { recursive: true });
    await writeFile(join(home, 'runs', 'early.json'), JSON.stringify(earlierRun()));
    await registry.get('dashboard')!.run(ctx());

    // The same figures, queried on the warehouse the load wrote.
    const wh = await Engine.open({ path: join(home, 'warehouse.duckdb') });
    try {
      const one = async (sql: string) => (await wh.all<{ v: number | null }>(sql))[0]!.v;
      expected = {
        customers: await one('SELECT count(*)::DOUBLE AS v FROM CUSTOMER_360.DIM_CUSTOMER'),
        activeCustomers30d: await one('SELECT count(*)::DOUBLE AS v FROM CUSTOMER_360.DIM_CUSTOMER WHERE ORDERS_30D > 0 OR SESSIONS_30D > 0 OR EVENTS_30D > 0'),
        totalRevenue: await one('SELECT sum(TOTAL_REVENUE)::DOUBLE AS v FROM CUSTOMER_360.DIM_CUSTOMER'),
        atRiskCustomers: await one(`SELECT count(*)::DOUBLE AS v FROM CUSTOMER_360.CUSTOMER_RISK_SCORES WHERE AS_OF_DATE = DATE '${AS_OF}' AND CHURN_RISK >= 0.5`),
        avgChurnRisk: await one(`SELECT avg(CHURN_RISK)::DOUBLE AS v FROM CUSTOMER_360.CUSTOMER_RISK_SCORES WHERE AS_OF_DATE = DATE '${AS_OF}'`),
        predictedClv: await one(`SELECT sum(PREDICTED_CLV)::DOUBLE AS v FROM CUSTOMER_360.CUSTOMER_RISK_SCORES WHERE AS_OF_DATE = DATE '${AS_OF}'`),
      };
    } finally {
      wh.close();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('opens from disk without console errors and draws every chart', async () => {
    const { page, errors } = await openPage(pathToFileURL(join(out, 'index.html')).href);
    expect(errors).toEqual([]);
    const drawn = await charts(page);
    expect(drawn.map((c) => c.name).sort()).toEqual(['churn', 'clv', 'customers', 'funnel', 'campaigns', 'quality', 'rfm', 'segments', 'service'].sort());
    for (const c of drawn) {
      expect([c.name, c.chart]).toEqual([c.name, true]);
      expect([c.name, c.points > 0]).toEqual([c.name, true]);
      expect([c.name, c.painted > 1000]).toEqual([c.name, true]);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.close();
  });

  it('headline numbers equal the same queries on the warehouse, formatted for people', async () => {
    const { page } = await openPage(pathToFileURL(join(out, 'index.html')).href);
    const kpis = await page.$$eval('.kpi', (els) => els.map((e) => ({ key: e.getAttribute('data-kpi')!, value: e.getAttribute('data-value')!, text: e.querySelector('.value')!.textContent })));
    expect(kpis.map((k) => k.key)).toEqual(Object.keys(expected));
    expect(expected.customers).toBe(3);
    const count = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
    const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
    const pct = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
    const format: Record<string, Intl.NumberFormat> = { customers: count, activeCustomers30d: count, totalRevenue: money, atRiskCustomers: count, avgChurnRisk: pct, predictedClv: money };
    for (const k of kpis) {
      const want = expected[k.key]!;
      expect([k.key, Number(k.value)]).toEqual([k.key, expect.closeTo(want, 6)]);
      expect([k.key, k.text]).toEqual([k.key, format[k.key]!.format(want)]);
    }
    // The value-at-risk table shows masked names only; the quality chart has both runs, the earlier at 2.5% quarantined.
    const names = await page.$$eval('#at-risk td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n).toMatch(/^.\*\*\*$/);
    const quality = await page.evaluate(() => (window as unknown as { C360_DASHBOARD: { runs: { quarantineRate: number | null; merged: number | null }[] } }).C360_DASHBOARD.runs);
    expect(quality[0]).toMatchObject({ quarantineRate: 0.025, merged: 2 });
    await page.close();
  });

  it('c360 serve shows the same dashboard at /dashboard to callers of the API (a browser gives the key as a Basic password)', async () => {
    const key = 'dash-test-key-0123456789';
    server = await startServer({
      lake: new LocalLake(join(home, 'lake')), source: { kind: 'warehouse', path: join(home, 'warehouse.duckdb') }, apiKeys: [{ key, role: 'analyst', name: 't' }],
      port: 0, host: '127.0.0.1', rateLimit: { perSecond: 0 }, auditLog: null, pollSeconds: 0, snapshotDir: join(home, 'serve'), log: silentLogger, dashboardDir: out,
    });
    // Without a key: 401 asking for Basic credentials (the browser's prompt), for the page and for its data.
    for (const path of ['/dashboard', '/dashboard/', '/dashboard/data.json']) {
      const r = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      expect([path, r.status, r.headers.get('www-authenticate')]).toEqual([path, 401, 'Basic realm="Customer Health Overview", charset="UTF-8"']);
    }
    const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`anyone:${password}`).toString('base64')}` });
    expect((await fetch(`${server.url}/dashboard/data.json`, { headers: basic('wrong-key-0123456789') })).status).toBe(401);
    expect((await fetch(`${server.url}/dashboard/data.json`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    expect((await fetch(`${server.url}/dashboard/data.json`, { headers: basic(key) })).status).toBe(200);
    // Basic is for the dashboard only: the API still wants a bearer token.
    expect((await fetch(`${server.url}/customers`, { headers: basic(key) })).status).toBe(401);

    // A browser without credentials to give is refused (headless Chromium cannot answer the prompt).
    const bare = await browser.newPage();
    await expect(bare.goto(`${server.url}/dashboard/`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    await bare.close();
    const { page, errors } = await openPage(`${server.url}/dashboard`, { username: 'support', password: key });
    expect(errors).toEqual([]);
    expect((await charts(page)).every((c) => c.chart && c.painted > 1000)).toBe(true);
    expect(await page.$eval('.kpi[data-kpi="customers"] .value', (e) => e.textContent)).toBe('3');
    await page.close();
    expect((await fetch(`${server.url}/dashboard/..%2Fwarehouse.duckdb`, { headers: basic(key) })).status).toBe(404);

    // Configured public (--dashboard-public): no key asked for the dashboard; the API still asks for one.
    const open = await buildServer({
      store: server.store, auth: new Authenticator([{ key, role: 'analyst', name: 't' }]), log: silentLogger, dashboardAccess: 'public',
      dashboard: (file) => readFile(join(out, file)).catch(() => null),
    });
    try {
      expect((await open.inject({ url: '/dashboard/data.json' })).statusCode).toBe(200);
      expect((await open.inject({ url: '/customers' })).statusCode).toBe(401);
    } finally {
      await open.close();
    }
  });

  it('generating again gives the same numbers (re-runnable)', async () => {
    const first = JSON.parse(await (await import('node:fs/promises')).readFile(join(out, 'data.json'), 'utf8'));
    const again = await generateDashboard({ home, lake: new LocalLake(join(home, 'lake')), asOf: AS_OF, out: join(home, 'again') });
    expect({ ...again.data, generatedAt: '' }).toEqual({ ...first, generatedAt: '' });
  });
});
