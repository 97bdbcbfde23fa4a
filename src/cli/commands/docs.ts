// `c360 docs`: regenerates docs/tables.md from the contracts; --check fails when the committed file is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTablesMarkdown } from '../../contracts/docs.ts';
import type { Command } from '../command.ts';

export const TABLES_DOC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs', 'tables.md');

export const command: Command = {
  name: 'docs',
  summary: 'Regenerate docs/tables.md (the table reference) from the contracts',
  options: {
    check: { type: 'boolean', description: 'Do not write; exit 1 when docs/tables.md is stale' },
    out: { type: 'string', description: 'Write to this file instead of docs/tables.md' },
  },
  async run(values, _p, io) {
    const text = renderTablesMarkdown();
    const target = typeof values.out === 'string' ? values.out : TABLES_DOC;
    if (values.check) {
      const current = await readFile(target, 'utf8').catch(() => '');
      if (current !== text) {
        io.out(`${target} is stale: run c360 docs`);
        return 1;
      }
      io.out(`${target} is up to date`);
      return 0;
    }
    await writeFile(target, text);
    io.out(`wrote ${target}`);
    return 0;
  },
};
