// docs/tables.md, generated from the contracts (`c360 docs`); a test fails when the committed file is stale.
import { BRONZE_METADATA_COLUMNS, FORMAT_PATTERNS, REASON, type ColumnDef, type TableContract } from '../../schemas/contract.ts';
import { COLLECTED_CONTRACTS, CONTRACTS } from '../../schemas/index.ts';
import { duckdbType, seedType } from './duckdb-types.ts';

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function rules(c: ColumnDef): string {
  const out: string[] = [];
  if (c.enum) out.push(`one of ${c.enum.map((e) => `\`${e}\``).join(', ')}`);
  if (c.min !== undefined && c.max !== undefined) out.push(`${c.min} to ${c.max}`);
  else if (c.min !== undefined) out.push(`>= ${c.min}`);
  else if (c.max !== undefined) out.push(`<= ${c.max}`);
  if (c.format) out.push(`format \`${c.format}\``);
  return out.join('; ');
}

function table(t: TableContract): string {
  const lines = [
    `## ${t.name}`,
    '',
    cell(t.description),
    '',
    `- Bronze: \`bronze/customer360/${t.bronzeDir}/ingest_date=YYYY-MM-DD/\`, quarantine: \`quarantine/customer360/${t.bronzeDir}/ingest_date=YYYY-MM-DD/\``,
    `- Primary key: ${t.primaryKey.map((k) => `\`${k}\``).join(', ')}${t.eventTime ? `; event time: \`${t.eventTime}\`` : ''}`,
    `- Source system: \`${t.sourceSystem}\`; ${t.streaming ? 'streamed through Event Hubs (batch drops accepted too)' : 'batch drops'}; schema version ${t.version}`,
    '',
    '| Column | Seed type | DuckDB / Parquet | Required | Rules | PII | References | Description |',
    '|---|---|---|---|---|---|---|---|',
    ...t.columns.map(
      (c) =>
        `| \`${c.name}\` | ${seedType(c.type)} | ${duckdbType(c.type)} | ${c.required ? 'yes' : ''} | ${cell(rules(c))} | ${c.pii && c.pii !== 'none' ? c.pii : ''} | ${c.references ? `${c.references.table}.${c.references.column}` : ''} | ${cell(c.description)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

export function renderTablesMarkdown(contracts: readonly TableContract[] = CONTRACTS, collected: readonly TableContract[] = COLLECTED_CONTRACTS): string {
  const formats = Object.entries(FORMAT_PATTERNS).map(([k, v]) => `| \`${k}\` | \`${cell(v)}\` |`);
  return [
    '# Source tables',
    '',
    '<!-- Generated from schemas/*.ts by `c360 docs`. Do not edit by hand: edit the contract and regenerate. -->',
    '',
    `The ${contracts.length} source-table contracts. Every Bronze row carries these metadata columns after the contract columns (and after any extra columns a drop carried):`,
    '',
    '| Column | Description |',
    '|---|---|',
    ...BRONZE_METADATA_COLUMNS.map((m) => `| \`${m.name}\` | ${cell(m.description)} |`),
    '',
    `Quarantine reason codes (\`_reasons\` entries are \`COLUMN:CODE\`): ${Object.values(REASON).map((r) => `\`${r}\``).join(', ')}. See docs/bronze.md for the rules.`,
    '',
    'Formats (RE2 patterns, full match on the trimmed value; `json_array` must parse as a JSON array):',
    '',
    '| Format | Pattern |',
    '|---|---|',
    ...formats,
    '',
    ...contracts.map((t) => `- [${t.name}](#${t.name.toLowerCase()})`),
    ...(collected.length ? ['', 'Collected by `c360 collect` from Segment tracking calls (no seed table, no sample drop):', '', ...collected.map((t) => `- [${t.name}](#${t.name.toLowerCase()})`)] : []),
    '',
    ...contracts.map(table),
    ...collected.map(table),
  ].join('\n');
}
