// `c360 docs`: regenerates docs/tables.md (from the contracts) and docs/datasets.md (from the catalogue); --check
// fails when a committed file is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDatasetsMarkdown } from '../../catalogue/docs.ts';
import { renderTablesMarkdown } from '../../contracts/docs.ts';
import type { Command } from '../command.ts';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'docs');
export const TABLES_DOC = join(DOCS, 'tables.md');
export const DATASETS_DOC = join(DOCS, 'datasets.md');

export const command: Command = {
  name: 'docs',
  summary: 'Regenerate docs/tables.md (source tables, from the contracts) and docs/datasets.md (lake datasets, from the catalogue)',
  options: {
    check: { type: 'boolean', description: 'Do not write; exit 1 when a generated doc is stale' },
    out: { type: 'string', description: 'Write into this folder instead of docs/' },
  },
  async run(values, _p, io) {
    const dir = typeof values.out === 'string' ? values.out : DOCS;
    const docs: [string, string][] = [[join(dir, 'tables.md'), renderTablesMarkdown()], [join(dir, 'datasets.md'), renderDatasetsMarkdown()]];
    if (values.check) {
      let stale = 0;
      for (const [file, text] of docs) {
        if ((await readFile(file, 'utf8').catch(() => '')) !== text) {
          io.out(`${file} is stale: run c360 docs`);
          stale++;
        } else io.out(`${file} is up to date`);
      }
      return stale ? 1 : 0;
    }
    for (const [file, text] of docs) {
      await writeFile(file, text);
      io.out(`wrote ${file}`);
    }
    return 0;
  },
};
