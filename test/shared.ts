// Where the suite finds the shared reference data (official ARM schemas, labelled identity data sets): $C360_SHARED,
// else ../shared beside the repository (the workspace layout), else the copies in test/fixtures/shared, so the suite
// passes in a clone with nothing beside it. An empty C360_SHARED (an unset shell variable) counts as unset.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const beside = join(import.meta.dirname, '..', '..', 'shared');

export const SHARED = process.env.C360_SHARED || (existsSync(join(beside, 'schemas', 'arm')) ? beside : join(import.meta.dirname, 'fixtures', 'shared'));
