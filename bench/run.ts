// npm run bench [-- NAME [ARGS...]]: lists the benchmarks, or runs one (a file bench/NAME.ts).
// Benchmarks run on demand, never in the test suite; each prints its figures next to a
// baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...rest] = process.argv.slice(2);

if (!name || name === '--help' || name === '-h') {
  console.log('usage: npm run bench -- NAME [ARGS...]\n\nbenchmarks (docs/performance.md has their latest figures):');
  for (const n of names) {
    const first = readFileSync(join(here, `${n}.ts`), 'utf8').split('\n')[0].replace(/^\/\/\s?/, '');
    console.log(`  ${n.padEnd(14)} ${first}`);
  }
  process.exit(0);
}
if (!names.includes(name)) {
  console.error(`npm run bench: no benchmark "${name}" (one of: ${names.join(', ')})`);
  process.exit(2);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
