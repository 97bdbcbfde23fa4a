// `c360 evaluate --transactions FILE ...`: the temporal-holdout evaluation on a user's own transaction file. The real
// grocery panel (test/fixtures/retail, CC0) holds the floors; small CSVs cover the column-mapping errors.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { command } from '../src/cli/commands/evaluate.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { bootstrap, reliability, type Comparison, type EvaluationResult } from '../src/intelligence/evaluate.ts';
import { loadTransactionFile } from '../src/intelligence/transactions-file.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { SHARED } from './shared.ts';

// The grocery panel in ../shared/data (the workspace copy), else the identical copy in test/fixtures.
const RETAIL = [join(SHARED, 'data', 'retail'), join(import.meta.dirname, '..', '..', 'shared', 'data', 'retail'), join(import.meta.dirname, 'fixtures', 'retail')]
  .find((d) => existsSync(join(d, 'completejourney_transactions_sample.parquet')))! + '/';
const io = (lines: string[] = []) => ({ log: createLogger({ silent: true }), out: (l: string) => lines.push(l) });

const row = (c: Comparison, name: string, metric = c.primary) => c.rows.find((r) => r.name === name)!.metrics[metric]!.value;
const bestBaseline = (c: Comparison, metric = c.primary) => Math.max(...c.rows.filter((r) => r.role === 'baseline').map((r) => r.metrics[metric]!.value));

describe('c360 evaluate on the grocery panel (cutoff 2017-09-30, 92 days)', () => {
  it('prints every model against every baseline with intervals, writes the report, and holds the floors', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evaltx-'));
    const lines: string[] = [];
    const report = join(home, 'grocery.md');
    const code = await command.run({
      home, transactions: `${RETAIL}completejourney_transactions_sample.parquet`, catalogue: `${RETAIL}completejourney_products.parquet`,
      customer: 'household_id', product: 'product_id', time: 'transaction_timestamp', quantity: 'quantity', amount: 'sales_value', basket: 'basket_id',
      cutoff: '2017-09-30', 'horizon-days': '92', bootstrap: '100', report,
    }, [], io(lines));
    expect(code).toBe(0);
    const text = lines.join('\n');
    expect(await readFile(report, 'utf8')).toBe(text + '\n');
    expect(text).toMatch(/holdout \(2017-09-30, 2017-12-31\] = 92 days/);
    expect(text).toMatch(/\| \*\*hybrid\*\* \| 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\]/);
    expect(text).toMatch(/Input lines left out \(by reason\): lines\.zero_amount 113, lines\.zero_quantity 416/);
    // Every CLV candidate's validation figures, with the standard error the one-standard-error rule compared.
    expect(text).toMatch(/- \*\*regression\*\*: 0\.\d{4} \/ 0\.\d{4} \/ best/);
    expect(text).toMatch(/- regression_blend_0\.75: 0\.\d{4} \/ 0\.\d{4} \/ 0\.\d{4}/);
    const files = await readdir(join(home, 'runs'));
    const manifest = JSON.parse(await readFile(join(home, 'runs', files[0]!), 'utf8'));
    expect(manifest.jobs[0].rowCounts).toMatchObject({ 'input.input_lines': 75_000, 'input.base_lines': 74_471, 'excluded.lines.zero_quantity': 416 });
    const e: EvaluationResult = manifest.jobs[0].metrics.evaluation;
    const [recs, clv, churn] = e.comparisons;
    expect(recs!.rows.map((r) => r.name)).toEqual(['hybrid', 'ease', 'repeat_purchase', 'popularity', 'global_popularity']);
    expect(clv!.rows.map((r) => r.name)).toEqual(['clv', 'bgnbd', 'bgnbd_gamma_gamma', 'past_spend']);
    expect(churn!.rows.map((r) => r.name)).toEqual(['churn', 'recency', 'p_alive']);
    for (const c of e.comparisons) for (const r of c.rows) for (const m of Object.values(r.metrics)) expect(m.lo <= m.value && m.value <= m.hi).toBe(true);
    // The targets on this panel, where met; the CLV one (+0.05 Spearman over BG/NBD) is not yet (README).
    expect(row(recs!, 'hybrid')).toBeGreaterThanOrEqual(1.1 * bestBaseline(recs!));
    expect(recs!.lift.value.lo).toBeGreaterThan(0);
    // What is served was chosen on the validation split: the blend only if it beat every ingredient alone there.
    const v = e.recommendations!.validationNdcg!;
    const ingredients = Object.entries(v).filter(([k]) => k !== 'blend').sort((a, b) => b[1] - a[1]);
    expect(e.recommendations!.served).toBe(v.blend > ingredients[0]![1] ? 'blend' : ingredients[0]![0]);
    // EASE: its strength is the best of the grid on the validation split, and it joins the blend only with a gain
    // above one standard error there (measured: 0.0755 with vs 0.0754 without, SE 0.0005: left out).
    const ease = e.recommendations!.ease!;
    expect(ease.items).toBe(1000);
    expect(ease.lambda).toBe(Number(Object.entries(ease.ndcgByLambda).sort((a, b) => b[1] - a[1])[0]![0]));
    if (ease.blend) expect((e.recommendations!.weights.ease ?? 0) > 0).toBe(ease.blend.used && ease.blend.withEase - ease.blend.withoutEase > ease.blend.standardError);
    expect(text).toMatch(/\| ease \| 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\] .*candidate: EASE alone \(lambda \d+ chosen on validation, 1000 most popular products\)/);
    expect(e.churn.rhythm!.used).toBe(e.churn.rhythm!.aucWith > e.churn.rhythm!.aucWithout);
    expect(row(churn!, 'churn')).toBeGreaterThanOrEqual(bestBaseline(churn!) + 0.03);
    // No model below its strongest baseline. The learned CLV was more than one standard error above every simpler
    // candidate on the validation snapshot before the cutoff and beats BG/NBD x Gamma-Gamma on the holdout too (the issue's +0.05 Spearman over BG/NBD alone is not reached).
    expect(e.clv.served).toBe('regression');
    expect(e.clv.validation!.ineligible).not.toContain('regression'); // above the strongest baselines on both validation metrics
    expect(clv!.lift.value.lo).toBeGreaterThan(0);
    expect(row(clv!, 'clv')).toBeGreaterThanOrEqual(bestBaseline(clv!));
    expect(row(clv!, 'clv', 'topDecileShare')).toBeGreaterThanOrEqual(bestBaseline(clv!, 'topDecileShare'));
    // Calibration is reported and holds: purchases within 10%; spend within 10% (the validation snapshot chose BG/NBD x
    // Gamma-Gamma's total over the summer snapshots' spend); churn probabilities within 0.05 on average per bin.
    expect(e.clv.validation!.candidates[e.clv.candidate]).toBeDefined();
    expect(Math.abs(e.clv.predictedPurchases / e.clv.actualPurchases - 1)).toBeLessThan(0.1);
    expect(Math.abs(e.clv.predictedSpend / e.clv.actualSpend - 1)).toBeLessThan(0.1);
    expect(e.clv.deciles.reduce((t, d) => t + d.actualSpend, 0)).toBeCloseTo(e.clv.actualSpend, 4);
    expect(text).toMatch(/\| CLV decile \| customers \| predicted spend \| actual spend \|/);
    expect(e.churn.ece).toBeLessThan(0.05);
    expect(e.churn.reliability.reduce((t, b) => t + b.customers, 0)).toBe(e.churn.customers);
  }, 420_000); // about 18 s of CPU; on the shared 2-core machine under load 15+ it took 160-180 s of wall time
});

async function csv(text: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'txcsv-')), 'tx.csv');
  await writeFile(file, text);
  return file;
}

describe('column mapping', () => {
  const good = 'cust,sku,when,qty,value,order\n' + [
    'A,P1,2024-01-02,1,5.00,o1', 'A,P2,2024-01-02,2,6.00,o1', 'B,P1,2024-01-03 10:00:00,1,5.00,o2',
    'B,P3,2024-01-09,-1,-4.00,o3', 'C,P2,2024-01-10,3,-2.00,o4', 'C,P1,not a date,1,5.00,o5', 'D,P1,,1,5.00,o6',
    ',P1,2024-01-04,1,5.00,o7', 'A,P1,2024-01-20,0,0,o8', 'A,P3,2024-01-21,1,x,o9',
  ].join('\n');
  const map = { customer: 'cust', product: 'sku', time: 'when', quantity: 'qty', amount: 'value', basket: 'order' };

  it('counts every line left out by reason, keeps examples, and turns negative quantities and amounts into returns', async () => {
    const engine = await Engine.open();
    try {
      const r = await loadTransactionFile(engine, { file: await csv(good), ...map });
      expect(r.excluded).toEqual({
        'lines.missing_customer': 1, 'lines.missing_time': 1, 'lines.unparseable_time': 1, 'lines.return_negative_quantity': 1,
        'lines.return_negative_amount': 1, 'lines.zero_quantity': 1, 'lines.unparseable_amount': 1,
      });
      expect(r.examples['lines.unparseable_time']![0]).toMatchObject({ cust: 'C', when: 'not a date', row: 6 });
      expect(r.rowCounts).toMatchObject({ input_lines: 10, base_lines: 3, base_tx: 2 });
      expect(await engine.all(`SELECT CUSTOMER360_ID AS c, PRODUCT_ID AS p FROM base_returns ORDER BY 1`)).toEqual([{ c: 'B', p: 'P3' }, { c: 'C', p: 'P2' }]);
      expect(await engine.all(`SELECT TRANSACTION_ID AS t, CAST(TX_DATE AS VARCHAR) AS d, AMOUNT AS a FROM base_tx ORDER BY 1`)).toEqual([
        { t: 'o1', d: '2024-01-02', a: 11 }, { t: 'o2', d: '2024-01-03', a: 5 }]);
    } finally {
      engine.close();
    }
  });

  it('fails clearly on a missing column, a time column where nothing parses, and non-numeric quantities', async () => {
    const engine = await Engine.open();
    try {
      const file = await csv(good);
      await expect(loadTransactionFile(engine, { file, ...map, product: 'item' })).rejects.toThrow(/--product item: no such column in .*tx\.csv \(columns: cust, sku, when, qty, value, order\)/);
      await expect(loadTransactionFile(engine, { file, ...map, time: 'sku' })).rejects.toThrow(/--time sku: no value parses as a date or timestamp \(e\.g\. 'P1'.*pass --time-format/);
      await expect(loadTransactionFile(engine, { file, ...map, quantity: 'sku' })).rejects.toThrow(/--quantity sku: no value is a number \(e\.g\. 'P1'/);
      await expect(loadTransactionFile(engine, { file: file.replace('tx.csv', 'nope.csv'), ...map })).rejects.toThrow(/file not found/);
      await expect(loadTransactionFile(engine, { file: await csv('a,b\n1,2\n'), customer: 'a', time: 'b', catalogue: file })).rejects.toThrow(/--catalogue needs --product/);
    } finally {
      engine.close();
    }
  });

  it('reads a strptime format, and without basket or amount makes a day one purchase worth its quantity', async () => {
    const engine = await Engine.open();
    try {
      const file = await csv('c;d;q\nX;02/01/2024;2\nX;02/01/2024;1\nY;15/01/2024;4\n'.replace(/;/g, ','));
      await expect(loadTransactionFile(engine, { file, customer: 'c', time: 'd' })).rejects.toThrow(/--time d: no value parses/);
      const r = await loadTransactionFile(engine, { file, customer: 'c', time: 'd', quantity: 'q', timeFormat: '%d/%m/%Y' });
      expect(r.excluded).toEqual({});
      expect(await engine.all(`SELECT TRANSACTION_ID AS t, AMOUNT AS a FROM base_tx ORDER BY 1`)).toEqual([{ t: 'X|2024-01-02', a: 3 }, { t: 'Y|2024-01-15', a: 4 }]);
    } finally {
      engine.close();
    }
  });

  it('the command refuses mapping options without --transactions and a file without the required columns', async () => {
    await expect(command.run({ home: tmpdir(), customer: 'c' }, [], io())).rejects.toThrow(/--customer maps a column of --transactions FILE/);
    await expect(command.run({ home: tmpdir(), transactions: 'x.csv', time: 't' }, [], io())).rejects.toThrow(/needs --customer/);
    await expect(command.run({ home: tmpdir(), transactions: 'x.csv', customer: 'c', time: 't', cutoff: '2024-01-01', 'as-of': '2024-02-01' }, [], io())).rejects.toThrow(/alternatives/);
  });
});

describe('bootstrap and reliability', () => {
  it('intervals contain the point value and narrow with more customers; reliability bins add up', () => {
    const metric = (xs: number[]) => (idx: Int32Array) => Array.from(idx, (i) => xs[i]!).reduce((a, b) => a + b, 0) / idx.length;
    const small = Array.from({ length: 50 }, (_, i) => i % 2);
    const large = Array.from({ length: 5000 }, (_, i) => i % 2);
    const a = bootstrap(small.length, { m: metric(small) }, 200, 1).m!;
    const b = bootstrap(large.length, { m: metric(large) }, 200, 1).m!;
    expect(a.value).toBe(0.5);
    expect(a.lo).toBeLessThan(0.5);
    expect(a.hi).toBeGreaterThan(0.5);
    expect(b.hi - b.lo).toBeLessThan((a.hi - a.lo) / 3);
    const r = reliability([0.05, 0.05, 0.95, 0.95], [0, 1, 1, 1]);
    expect(r.bins).toEqual([{ from: 0, to: 0.1, customers: 2, meanPredicted: 0.05, observedRate: 0.5 }, { from: 0.9, to: 1, customers: 2, meanPredicted: 0.95, observedRate: 1 }]);
    expect(r.ece).toBeCloseTo(0.5 * 0.45 + 0.5 * 0.05, 10);
  });
});
