// Identity resolution: accuracy on the shared labelled datasets and the sample generator's truth (pairwise
// precision/recall/F1 over all pairs, threshold chosen without truth), and scale: 1M synthetic person records with
// duplicates (scale 1) resolved end to end, timed against a floor measured in the same run (DuckDB self-joining the
// same records on exact email: the cheapest dedupe there is) and against the 3-minute / 8 GB targets.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, lit } from '../src/engine/duckdb.ts';
import type { Bench } from '../src/cli/commands/bench.ts';
import { pairwiseScore } from '../src/identity/evaluate.ts';
import { loadPersonRecords } from '../src/identity/input.ts';
import { resolveIdentities } from '../src/identity/resolve.ts';
import { generatePersons } from '../test/fixtures/identity-synthetic.ts';
import { agreement, atScale, cachedGraph } from './identity-incremental.ts';
import { sampleRss } from './measure.ts';

const DATA = join(import.meta.dirname, '..', '..', 'shared', 'data', 'identity');
const TARGET_SECONDS = 180;
const TARGET_BYTES = 8 * 1024 ** 3;

async function accuracy(name: string, load: (e: Engine) => Promise<void>, truthSql: string) {
  const engine = await Engine.open();
  try {
    await load(engine);
    const t = Date.now();
    const r = await resolveIdentities(engine, 'id_input', { runId: 'bench' });
    const ms = Date.now() - t;
    await engine.run(`CREATE TABLE truth AS ${truthSql}`);
    const s = await pairwiseScore(engine, '(SELECT rid, customer360_id AS cluster FROM id_result)', 'truth');
    // Pair completeness: the share of true pairs the blocking rules put in front of the model.
    const found = Number(await engine.scalar('SELECT count(*) FROM truth a JOIN truth b ON a.cluster = b.cluster AND a.rid < b.rid JOIN id_pairs p ON p.rid_l = a.rid AND p.rid_r = b.rid'));
    return { dataset: name, records: r.records, ...s, pairCompleteness: s.truePairs ? found / s.truePairs : 1, candidatePairs: r.candidatePairs, ms };
  } finally {
    engine.close();
  }
}

export const bench: Bench = {
  name: 'identity',
  description: 'Identity resolution: accuracy on labelled data (fake_1000, FEBRL 1/2, sample truth) and 1M records end to end',
  async run(ctx) {
    // C360_BENCH_IDENTITY_PARTS=throughput runs only the named parts (comma list of accuracy, agreement, scale, throughput;
    // cache = only build the graph cache; sqlpath = also time updateGraph's SQL path on the scaled graph): the absolute throughput/latency figures are taken alone on a quiet machine.
    const parts = new Set((process.env.C360_BENCH_IDENTITY_PARTS ?? 'accuracy,agreement,scale,throughput').split(',').map((p) => p.trim()));
    const rows: Awaited<ReturnType<typeof accuracy>>[] = [];
    const csv = (file: string) => async (e: Engine) => void (await loadPersonRecords(e, join(DATA, file), 'id_input'));
    if (parts.has('accuracy')) {
      rows.push(await accuracy('fake_1000', csv('fake_1000.csv'), `SELECT row_number() OVER () - 1 AS rid, cluster FROM read_csv(${lit(join(DATA, 'fake_1000.csv'))})`));
      for (const f of ['febrl1', 'febrl2']) {
        rows.push(await accuracy(f, csv(`${f}.csv`), `SELECT row_number() OVER () - 1 AS rid, split_part(trim(rec_id), '-', 2) AS cluster FROM read_csv(${lit(join(DATA, `${f}.csv`))}, all_varchar = true)`));
      }
      try {
        const { generateSample } = await import('../src/sample/generate.ts');
        // The default sample (2000 people, 180 days) with seed 42 and with seed 7.
        for (const seed of [42, 7]) {
          const out = join(ctx.workDir, `sample-${seed}`);
          await generateSample({ customers: 2000, days: 180, seed, out });
          if (existsSync(join(out, '_truth', 'identity.parquet'))) {
            rows.push(await accuracy(`sample_s${seed}`, async (e) => void (await loadPersonRecords(e, join(out, 'CUSTOMERS.parquet'), 'id_input')),
              `SELECT s.rid, t.PERSON_ID AS cluster FROM id_std s JOIN read_parquet(${lit(join(out, '_truth', 'identity.parquet'))}) t ON t.SOURCE_SYSTEM = s.source_system AND t.CUSTOMER_ID = s.customer_id`));
          }
        }
      } catch (e) {
        ctx.out(`  sample truth skipped: ${(e as Error).message}`);
      }
    }
    ctx.out('  dataset        records  precision  recall     F1  pair-completeness  candidates      ms');
    for (const r of rows) {
      ctx.out(`  ${r.dataset.padEnd(13)}${String(r.records).padStart(8)}${r.precision.toFixed(4).padStart(11)}${r.recall.toFixed(4).padStart(8)}${r.f1.toFixed(4).padStart(7)}${r.pairCompleteness.toFixed(4).padStart(19)}${String(r.candidatePairs).padStart(12)}${String(r.ms).padStart(8)}`);
    }

    // Incremental linking: a base and 10 batches against a full re-resolution of the same records (target F1 >= 0.995).
    const agree: Awaited<ReturnType<typeof agreement>>[] = [];
    if (parts.has('agreement')) {
      agree.push(await agreement('fake_1000', join(ctx.workDir, 'agree-fake'), csv('fake_1000.csv')));
      for (const f of ['febrl1', 'febrl2']) agree.push(await agreement(f, join(ctx.workDir, `agree-${f}`), csv(`${f}.csv`)));
      const sample = join(ctx.workDir, 'sample-42', 'CUSTOMERS.parquet');
      if (existsSync(sample)) agree.push(await agreement('sample_s42', join(ctx.workDir, 'agree-sample'), async (e) => void (await loadPersonRecords(e, sample, 'id_input'))));
      ctx.out('  incremental (base + 10 batches) vs full:  dataset  records  F1  precision  recall  batch-ms');
      for (const a of agree) ctx.out(`  ${a.dataset.padEnd(13)}${String(a.records).padStart(8)}${a.f1.toFixed(4).padStart(8)}${a.precision.toFixed(4).padStart(9)}${a.recall.toFixed(4).padStart(8)}${String(a.batchMs).padStart(8)}`);
    }

    const n = Math.round(1_000_000 * ctx.scale);
    let scaleResult: Record<string, unknown> = {};
    if (parts.has('scale')) {
      const engine = await Engine.open({ tempDirectory: join(ctx.workDir, 'duckdb'), memoryLimit: '4GB' });
      try {
        const records = await generatePersons(engine, 'id_input', n);
        let t = Date.now();
        await engine.all('SELECT count(*) FROM id_input l JOIN id_input r ON lower(l.EMAIL_ADDRESS) = lower(r.EMAIL_ADDRESS) AND l.rid < r.rid');
        const floorMs = Date.now() - t;
        const rss = sampleRss(100);
        t = Date.now();
        const r = await resolveIdentities(engine, 'id_input', { runId: 'bench', onStep: (s) => ctx.out(`  ${s} ${((Date.now() - t) / 1000).toFixed(1)}s`) });
        const ms = Date.now() - t;
        const peak = rss.stop();
        const s = await pairwiseScore(engine, '(SELECT rid, customer360_id AS cluster FROM id_result)', '(SELECT rid, PERSON_ID AS cluster FROM id_input)');
        const sr = {
          records, seconds: ms / 1000, recordsPerSecond: Math.round(records / (ms / 1000)), floorSeconds: floorMs / 1000, ratioToFloor: ms / Math.max(floorMs, 1),
          ratioToTarget: ms / 1000 / TARGET_SECONDS, peakRssMB: Math.round(peak / 1024 ** 2), ratioToMemoryTarget: peak / TARGET_BYTES,
          candidatePairs: r.candidatePairs, skippedRules: r.skippedRules.map((x) => x.name), precision: s.precision, recall: s.recall, f1: s.f1, timingsMs: r.timingsMs,
        };
        scaleResult = sr;
        ctx.out(`  ${records} records: ${sr.seconds.toFixed(1)}s (${sr.recordsPerSecond}/s), ${sr.ratioToTarget.toFixed(2)}x the 3-minute target, ` +
          `${sr.ratioToFloor.toFixed(1)}x the exact-email floor (${sr.floorSeconds.toFixed(1)}s); peak RSS ${sr.peakRssMB} MB (${sr.ratioToMemoryTarget.toFixed(2)}x 8 GB); F1 ${s.f1.toFixed(4)}`);
      } finally {
        engine.close();
      }
    }
    // 'cache' alone builds the 1M graph cache (under the heavy lock) without measuring.
    if (parts.has('cache') && !parts.has('throughput')) await cachedGraph(n, ctx.out);
    const incremental = parts.has('throughput') ? await atScale(ctx.workDir, n, ctx.out, { sqlPath: parts.has('sqlpath') }) : undefined;
    return { accuracy: rows, agreement: agree, scale: scaleResult, incremental };
  },
};
