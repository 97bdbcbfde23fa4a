// docs/datasets.md, generated from the catalogue (`c360 docs`); a test fails when the committed file is stale.
import type { Dataset } from './dataset.ts';
import { duckType } from './dataset.ts';
import { CATALOGUE, producersOf } from './index.ts';
import { ACTIVATION_DATASETS } from '../activation/datasets.ts';

const isActivation = (d: Dataset): boolean => ACTIVATION_DATASETS.some((a) => a.name === d.name);

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

const MAINTENANCE: Record<Dataset['maintenance'], string> = {
  full: 'recomputed whole on every run',
  snapshot: 'one snapshot per as-of date (`as_of_date=YYYY-MM-DD/`)',
  'incremental-by-time': 'partitioned by time; a run rewrites only the partitions its new input touches',
  'merge-by-key': 'one current version; new and changed rows merged in by key',
  append: 'rows only ever added',
};

function section(d: Dataset): string {
  const where = d.maintenance === 'snapshot' ? `${d.path}/as_of_date=YYYY-MM-DD/` : `${d.path}/`;
  return [
    `### ${d.name}`,
    '',
    cell(d.description),
    '',
    `- Lake: \`${where}\`; ${MAINTENANCE[d.maintenance]}`,
    `- Grain: ${cell(d.grain)}; key: ${d.primaryKey.map((k) => `\`${k}\``).join(', ')}`,
    `- Written by: ${producersOf(d).map((j) => `\`c360 job ${j}\``).join(', ')}${d.sql ? ' (SQL)' : ' (TypeScript)'}`,
    `- Reads: ${d.inputs.length ? d.inputs.map((i) => `[${i}](#${i})`).join(', ') : 'Bronze'}`,
    ...(d.warehouse ? [`- Warehouse: \`${d.warehouse.schema}.${d.warehouse.table}\` (${d.warehouse.strategy})`] : []),
    '',
    '| Column | Type | PII | Description |',
    '|---|---|---|---|',
    ...d.columns.map((c) => `| \`${c.name}\` | ${duckType(c.type)} | ${c.pii ?? ''} | ${cell(c.comment)} |`),
    '',
  ].join('\n');
}

export function renderDatasetsMarkdown(datasets: readonly Dataset[] = CATALOGUE): string {
  const layers: [string, (d: Dataset) => boolean][] = [
    ['Silver', (d) => d.layer === 'silver' && !d.name.startsWith('identity_') && !d.name.startsWith('staged_')],
    ['Silver staging', (d) => d.name.startsWith('staged_')],
    ['Identity', (d) => d.job === 'silver-identity'],
    ['Gold', (d) => d.layer === 'gold' && !!d.sql],
    ['Intelligence', (d) => d.layer === 'gold' && !d.sql && !isActivation(d) && d.job !== 'silver-identity'],
    ['Activation', isActivation],
  ];
  return [
    '# Lake datasets',
    '',
    '<!-- Generated from the catalogue (src/catalogue) by `c360 docs`. Do not edit by hand: edit the declaration and regenerate. -->',
    '',
    `The ${datasets.length} datasets of the catalogue: each declared once with its columns, key, grain, inputs and how it is`,
    'maintained; the warehouse tables, the pipeline\'s activity order and this page derive from the declarations.',
    'Source tables (Bronze) are in [tables.md](tables.md).',
    '',
    ...layers.flatMap(([title, pick]) => {
      const list = datasets.filter(pick);
      return [`## ${title}`, '', ...list.map((d) => `- [${d.name}](#${d.name}): ${cell(d.description)}`), '', ...list.map(section)];
    }),
  ].join('\n');
}
