// Job bronze-ingest: ingests every drop of one table found in the input location into Bronze and quarantine.
import { getContract } from '../schemas/index.ts';
import { findDrops } from '../src/bronze/drops.ts';
import { ingestDrops } from '../src/bronze/ingest-drops.ts';
import { compactTables } from '../src/bronze/compact.ts';
import { UsageError } from '../src/runtime/errors.ts';
import type { Job } from '../src/runtime/job.ts';

export const bronzeIngestJob: Job = {
  name: 'bronze-ingest',
  description: 'Validate the drops of one table (<input>/<TABLE>.csv|.parquet|.ndjson|.jsonl, <input>/<TABLE>/*) into Bronze and quarantine',
  params: [
    { name: 'table', description: 'Source table, e.g. CUSTOMERS', required: true, type: { kind: 'table' } },
    { name: 'input', description: 'A local folder, or a lake prefix such as landing/customer360', required: true, type: { kind: 'location' } },
    { name: 'stream', description: "'true': the contract's streaming tables arrive via Event Hubs, so skip them here", type: { kind: 'bool' } },
    { name: 'sourceSystem', description: 'Fallback _source_system for records without a SOURCE_SYSTEM field' },
  ],
  async run(ctx) {
    const contract = getContract(ctx.params.table ?? '');
    const input = ctx.params.input;
    if (!input) throw new UsageError('bronze-ingest needs the input parameter (a folder or lake prefix of drops)');
    if (ctx.params.stream === 'true' && contract.streaming) {
      ctx.report.metrics[`${contract.name}.skipped`] = 'streaming table: ingested from Event Hubs';
      ctx.log.info(`${contract.name} skipped: arrives via Event Hubs`);
      return;
    }
    const drops = await findDrops(input, contract, ctx.lake);
    if (drops.length === 0) {
      ctx.report.metrics[`${contract.name}.skipped`] = `no drop in ${input}`;
      ctx.log.info(`${contract.name}: no drop in ${input}`);
      return;
    }
    await ingestDrops(ctx, contract, drops, { sourceSystem: ctx.params.sourceSystem || undefined });
    // Many small drops of a table (e.g. hourly files) are compacted like streaming micro-batches.
    const compacted = await compactTables(ctx, [contract]);
    if (compacted[contract.name]) ctx.report.metrics[`${contract.name}.compactedFiles`] = compacted[contract.name];
  },
};

export default bronzeIngestJob;
