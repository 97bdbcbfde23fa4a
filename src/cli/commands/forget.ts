// `c360 forget`: erase people from every layer (src/privacy/erasure.ts) and write the erasure receipt.
import { readFile } from 'node:fs/promises';
import { openLake } from '../../lake/index.ts';
import { forget } from '../../privacy/erasure.ts';
import { parseBatch, parseSubject, type Subject } from '../../privacy/identifiers.ts';
import { UsageError } from '../../runtime/errors.ts';
import { HOME_OPTION, homeOf, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'forget',
  summary: 'Erase people from Bronze, quarantine, Silver, Gold, models, spool, caches and the warehouse; write an erasure receipt',
  options: {
    ...HOME_OPTION,
    customer: { type: 'string', multiple: true, description: 'Who: c360:<CUSTOMER360_ID> | source:<SYSTEM>/<CUSTOMER_ID> | email:<address> | phone:<number> (repeatable)' },
    batch: { type: 'string', description: 'File of requests, one subject per line (optionally followed by a tab or comma and a reason); one erasure' },
    reason: { type: 'string', description: 'Why (kept in the receipt), e.g. a ticket reference' },
    lake: { type: 'string', description: 'Lake location: folder, or ADLS URL (default: $C360_LAKE_URL or HOME/lake)' },
    'identity-state': { type: 'string', multiple: true, description: 'Identity graph folder outside the lake to erase from too (what c360 resolve --incremental --state uses; repeatable)' },
  },
  // One writer per home: an erasure rewrites files every other writer (run, ingest, stream, jobs) may be writing, so it
  // waits for or is refused by any of them (exit 75, naming the holder); on ADLS it also takes the pipeline's lease.
  lockScope: () => 'pipeline',
  async run(values, _p, io) {
    const subjects: Subject[] = [];
    const given = values.customer;
    for (const spec of Array.isArray(given) ? given : typeof given === 'string' ? [given] : []) subjects.push(parseSubject(spec));
    const batch = str(values, 'batch');
    if (batch) {
      let text: string;
      try {
        text = await readFile(batch, 'utf8');
      } catch {
        throw new UsageError(`--batch ${batch} cannot be read`);
      }
      subjects.push(...parseBatch(text, batch).map((r) => r.subject));
    }
    if (!subjects.length) throw new UsageError('Say who to forget: --customer <subject> (repeatable) or --batch <file>');
    const home = homeOf(values);
    const lake = await openLake(home, str(values, 'lake'));
    const crash = process.env.C360_TEST_CRASH_AFTER_OBJECTS;
    const states = values['identity-state'];
    const identityState = Array.isArray(states) ? states.map(String) : typeof states === 'string' ? [states] : [];
    const receipt = await forget({ home, lake, log: io.log, subjects, reason: str(values, 'reason'), identityState, crashAfterObjects: crash ? Number(crash) : undefined });
    io.out(JSON.stringify({ requestId: receipt.requestId, receipt: `_audit/privacy/erasure/${receipt.requestId}.json`, people: receipt.people.length, objects: receipt.objects.length, rowsRemoved: receipt.objects.reduce((s, o) => s + o.rowsRemoved, 0) }));
  },
};
