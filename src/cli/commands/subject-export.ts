// `c360 subject-export`: a data subject access request: everything held about a person, one JSON file.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { openLake } from '../../lake/index.ts';
import { parseSubject } from '../../privacy/identifiers.ts';
import { subjectExport } from '../../privacy/subject-export.ts';
import { UsageError } from '../../runtime/errors.ts';
import { HOME_OPTION, homeOf, requireStr, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'subject-export',
  summary: 'Everything held about a person (every layer, with the source of each record) as one JSON file',
  options: {
    ...HOME_OPTION,
    customer: { type: 'string', multiple: true, description: 'Who: c360:<CUSTOMER360_ID> | source:<SYSTEM>/<CUSTOMER_ID> | email:<address> | phone:<number>' },
    output: { type: 'string', description: 'JSON file to write (it holds the person\'s data: hand it to them, keep no copy)' },
    lake: { type: 'string', description: 'Lake location: folder, or ADLS URL (default: $C360_LAKE_URL or HOME/lake)' },
  },
  async run(values, _p, io) {
    const given = values.customer;
    const specs = Array.isArray(given) ? given : typeof given === 'string' ? [given] : [];
    if (!specs.length) throw new UsageError('Say whose data: --customer <subject>');
    const output = resolve(requireStr(values, 'output'));
    const home = homeOf(values);
    const doc = await subjectExport({ home, lake: await openLake(home, str(values, 'lake')), subjects: specs.map(parseSubject) });
    await writeFile(output, JSON.stringify(doc, null, 2));
    io.out(JSON.stringify({ output, people: doc.people.length, objects: doc.objects.length, counts: doc.counts }));
  },
};
