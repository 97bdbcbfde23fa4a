// Issue 19, newcomer friction: `npm test` in a fresh clone failed unless ../shared sat beside it; package.json listed
// the card's packages nothing imported; README's sample counts had gone stale. (The help, --version, status-line and
// --json items are in hardening-params and hardening-runs; the attribution rule in hardening-attribution.)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SAMPLE, generateSample } from '../src/sample/generate.ts';

const ROOT = join(import.meta.dirname, '..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-newcomer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the suite in a clone with nothing beside it', () => {
  /** Where test/shared.ts, copied into `repo/test/`, finds the shared data with this environment. */
  function sharedFor(repo: string, env: Record<string, string | undefined>): string {
    const script = `import(${JSON.stringify(join(repo, 'test', 'shared.ts'))}).then((m) => process.stdout.write(m.SHARED))`;
    const clean = Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: clean, encoding: 'utf8' });
  }

  it('finds ../shared beside the clone, else the copies in test/fixtures/shared; an empty C360_SHARED counts as unset', async () => {
    const alone = join(dir, 'alone', 'repo');
    await mkdir(join(alone, 'test'), { recursive: true });
    await writeFile(join(alone, 'package.json'), '{"type":"module"}\n');
    await copyFile(join(ROOT, 'test', 'shared.ts'), join(alone, 'test', 'shared.ts'));
    expect(sharedFor(alone, { C360_SHARED: undefined })).toBe(join(alone, 'test', 'fixtures', 'shared'));
    // An exported but empty variable (an unset shell variable) made every shared path relative to the current folder.
    expect(sharedFor(alone, { C360_SHARED: '' })).toBe(join(alone, 'test', 'fixtures', 'shared'));
    await mkdir(join(dir, 'alone', 'shared', 'schemas', 'arm'), { recursive: true });
    expect(sharedFor(alone, { C360_SHARED: undefined })).toBe(join(dir, 'alone', 'shared'));
    expect(sharedFor(alone, { C360_SHARED: '/x' })).toBe('/x');
  }, 30_000);

  it('the copies hold what the suite reads: the ARM schemas the checkers load and the labelled identity files, with their licence', () => {
    const fixtures = join(ROOT, 'test', 'fixtures', 'shared');
    for (const f of ['fake_1000.csv', 'febrl1.csv', 'febrl2.csv', 'LICENSE-splink_datasets', 'README.md']) expect(existsSync(join(fixtures, 'data', 'identity', f)), f).toBe(true);
    const arm = join(fixtures, 'schemas', 'arm');
    for (const f of ['2018-06-01/Microsoft.DataFactory.json', '2019-04-01/deploymentTemplate.json', 'common/definitions.json', 'README.md']) expect(existsSync(join(arm, f)), f).toBe(true);
    // Every shared path a test joins to SHARED from string literals exists in the copies, unless the same line names a
    // fallback of its own under test/fixtures.
    for (const file of readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.test.ts'))) {
      const text = readFileSync(join(ROOT, 'test', file), 'utf8').split('\n').filter((l) => !l.includes("'fixtures'")).join('\n');
      for (const m of text.matchAll(/join\(SHARED, ((?:'[^']+'(?:, )?)+)\)/g)) {
        const parts = [...m[1]!.matchAll(/'([^']+)'/g)].map((p) => p[1]!);
        expect(existsSync(join(fixtures, ...parts)), `${file}: ${parts.join('/')}`).toBe(true);
      }
    }
  });
});

describe('dependencies', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; scripts: Record<string, string> };

  /** Every import specifier in the code (src, jobs, pipelines, bin, bench, test, scripts). */
  function importedPackages(): Set<string> {
    const names = new Set<string>();
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(ts|mjs|js|cjs)$/.test(e.name)) {
          // import/require/resolve of a package, or a file of it under node_modules/ (Azurite is started from its own).
          for (const m of readFileSync(p, 'utf8').matchAll(/(?:(?:from\s+|import\(\s*|require\(\s*|\.resolve\(\s*|--import\s+)['"]|node_modules\/)([^'"./][^'"]*)/g)) {
            const spec = m[1]!;
            names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
          }
        }
      }
    };
    for (const d of ['src', 'jobs', 'pipelines', 'bin', 'bench', 'test', 'scripts']) if (existsSync(join(ROOT, d))) walk(join(ROOT, d));
    return names;
  }

  it('every dependency is imported by the code or run by a script; the card packages nothing used are gone, and README says why', () => {
    const imported = importedPackages();
    const scripts = Object.values(pkg.scripts).join(' ');
    // Packages used as programs by package.json's scripts (TypeScript's is tsc).
    const programs: Record<string, string> = { typescript: 'tsc', vitest: 'vitest' };
    const used = (name: string) => imported.has(name) || new RegExp(`(^|\\s)${programs[name] ?? name}(\\s|$)`).test(scripts);
    const unused = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)].filter((n) => !used(n) && !n.startsWith('@types/'));
    expect(unused).toEqual([]);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const card of ['parquetjs-lite', 'apache-arrow', '@azure/storage-file-datalake']) {
      expect(pkg.dependencies[card] ?? pkg.devDependencies[card], card).toBeUndefined();
      expect(readme, card).toContain(`\`${card}\``);
    }
    expect(readme).toMatch(/card named and this code does not use, removed from `package.json`/);
  });
});

describe("README's sample counts", () => {
  it('the default sample (2,000 people, seed 7) has the rows README says Bronze conservation read', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const line = readme.split('\n').find((l) => l.includes('Bronze conservation, sample `--customers 2000 --seed 7`'));
    expect(line).toBeDefined();
    const read = Number(/([\d,]+) rows read/.exec(line!)![1]!.replaceAll(',', ''));
    const summary = await generateSample({ customers: 2000, days: DEFAULT_SAMPLE.days, seed: 7, out: join(dir, 'sample') });
    expect(Object.values(summary.tables).reduce((n, t) => n + t.rows, 0)).toBe(read);
  }, 60_000);
});
