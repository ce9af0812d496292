// Records the golden log test/replay/logs/oom-adj.linux-6.18.mmlog: the OOM scenario of
// test/e2e/support/oom-scenario.ts at half size (128 MiB of RAM), seed 7, embedded mode.
//
//   npx tsx test/replay/record-golden.ts
//
// Re-record only when a model change is meant to change what the scenario does (and say so in
// the commit); golden.spec.ts then replays the new log.
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODEL_VERSION } from '@mmsim/kernel';
import { startEmbedded } from '../e2e/support/embedded.js';
import { runOomScenario } from '../e2e/support/oom-scenario.js';

export const GOLDEN_MACHINE = 'oom-adj';
export const GOLDEN_PROFILE = 'linux-6.18';
export const GOLDEN_FILE = fileURLToPath(new URL(`./logs/${GOLDEN_MACHINE}.${GOLDEN_PROFILE}.mmlog`, import.meta.url));

async function main(): Promise<void> {
  const srv = await startEmbedded();
  try {
    const run = await runOomScenario(srv.client, GOLDEN_MACHINE, { seed: 7, scale: 2 });
    await srv.stop();
    copyFileSync(srv.logFile(GOLDEN_MACHINE), GOLDEN_FILE);
    console.log(`wrote ${GOLDEN_FILE} (MODEL_VERSION ${MODEL_VERSION}): kill ${run.kills[0].victim} (${run.kills[0].victimName}) at seq ${run.kills[0].seq}`);
  } finally {
    await srv.dispose();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
