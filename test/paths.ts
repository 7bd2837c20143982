// Repository paths for tests, valid both from test/ (tsx) and from the compiled dist/test/.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = here.split('/').includes('dist') ? join(here, '..', '..') : join(here, '..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
export const dataDir = join(repoRoot, 'data');
