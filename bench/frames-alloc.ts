// frames: pages allocated + freed per second in-process, and host bytes per simulated frame.
//
//   npx tsx bench/frames-alloc.ts            (add --expose-gc through NODE_OPTIONS for steadier memory numbers)
//
// Throughput: a 4 GiB machine; AllocUserPages of `batch` anon pages then FreeUserPages of them,
// through decide + evolve + answerOf (what a host does per command). Each figure is the best
// of several rounds of about a second, in wall time and in CPU time of this process (the
// machine is shared). A pressure case allocates past RAM on a 1 GiB machine with swap, so that
// reclaim and swap-out run. Baseline in the same run: writing every element of a plain
// Uint32Array as long as the frame table (the cheapest thing one can do per frame).
// Memory: a 64 GiB machine (16M frames): the frame table's byteLength, and the growth of
// process.memoryUsage() across the boot; baseline: one plain Uint32Array of 16M elements.
import { bootFrames, frameTableBytes, handleFrames, type FramesState } from '../packages/kernel/src/frames/index.js';
import { DEFAULT_SYSCTLS, type MachineConfig } from '../packages/kernel/src/machine/config.js';

const GiB = 2 ** 30;
const config = (ramBytes: number, swapBytes = 0): MachineConfig => ({
  tenant: 'bench', machine: 'frames', profile: 'linux-6.18', ramBytes, swapBytes, cpus: 2, seed: 1, sysctl: DEFAULT_SYSCTLS,
});
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

interface Rate {
  readonly wall: number;
  readonly cpu: number;
}

/** Best of `rounds` rounds of ~`ms` each of `step` (which returns pages done). */
function measure(step: () => number, rounds = 5, ms = 800): Rate {
  let best: Rate = { wall: 0, cpu: 0 };
  for (let r = 0; r < rounds; r++) {
    let pages = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < ms) pages += step();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    best = { wall: Math.max(best.wall, pages / wall), cpu: Math.max(best.cpu, pages / cpu) };
  }
  return best;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function allocFree(s: FramesState, batch: number): () => number {
  let index = 0;
  return () => {
    const { reply } = handleFrames(s, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 1, index, count: batch }], memcg: 0, allowReclaim: true });
    index += batch;
    handleFrames(s, { type: 'FreeUserPages', pfns: reply.pfns });
    return batch;
  };
}

function main(): void {
  console.log(`node ${process.version}, ${process.arch}`);
  console.log('\n## Throughput (order-0 user pages, allocated and freed, per second)');
  const s = bootFrames(config(4 * GiB));
  console.log('| batch | alloc+free pages/s (wall) | per CPU-second |');
  console.log('|---:|---:|---:|');
  for (const batch of [1, 16, 256, 4096]) {
    const r = measure(allocFree(s, batch));
    console.log(`| ${batch} | ${fmt(r.wall)} | ${fmt(r.cpu)} |`);
  }

  // Under pressure: every allocation past the low watermark reclaims (kswapd and direct) and swaps.
  const p = bootFrames(config(GiB, 32 * GiB));
  let pIndex = 0;
  const pressure = measure(() => {
    const { reply } = handleFrames(p, { type: 'AllocUserPages', runs: [{ kind: 'anon', owner: 2, index: pIndex, count: 256 }], memcg: 0, allowReclaim: true });
    pIndex += 256;
    if (reply.failed !== null) throw new Error('pressure bench ran out of swap');
    return 256;
  }, 3, 800);
  console.log(`| 256, 1 GiB RAM, swapping | ${fmt(pressure.wall)} (alloc only) | ${fmt(pressure.cpu)} |`);

  const n = 16 * 2 ** 20;
  const base = new Uint32Array(n);
  let round = 0;
  const baseline = measure(() => {
    round++;
    for (let i = 0; i < n; i++) base[i] = i + round;
    return n;
  }, 3, 500);
  console.log(`| baseline: Uint32Array fill | ${fmt(baseline.wall)} elements/s | ${fmt(baseline.cpu)} |`);

  console.log('\n## Host memory per frame, 64 GiB machine (16M frames)');
  gc();
  const m0 = process.memoryUsage();
  const big = bootFrames(config(64 * GiB));
  gc();
  const m1 = process.memoryUsage();
  const frames = big.nFrames;
  const ab = (m1.arrayBuffers - m0.arrayBuffers) / frames;
  const rss = (m1.rss - m0.rss) / frames;
  console.log(`frames: ${fmt(frames)}`);
  console.log(`frame table (typed arrays): ${(frameTableBytes(big) / frames).toFixed(2)} B/frame = ${fmt(frameTableBytes(big) / 2 ** 20)} MiB`);
  console.log(`process.memoryUsage() across boot: arrayBuffers +${ab.toFixed(2)} B/frame, rss +${rss.toFixed(2)} B/frame, heapUsed +${((m1.heapUsed - m0.heapUsed) / frames).toFixed(3)} B/frame`);
  gc();
  const b0 = process.memoryUsage();
  const plain = new Uint32Array(frames).fill(1);
  gc();
  const b1 = process.memoryUsage();
  console.log(`baseline Uint32Array(${fmt(frames)}): arrayBuffers +${((b1.arrayBuffers - b0.arrayBuffers) / frames).toFixed(2)} B/frame, rss +${((b1.rss - b0.rss) / frames).toFixed(2)} B/frame`);
  void plain.length;
  void big.nFrames;
}

main();
