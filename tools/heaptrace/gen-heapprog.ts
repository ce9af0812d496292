// Seeded random heap programs for tools/heaptrace/heapprog.c.
//
//   npx tsx tools/heaptrace/gen-heapprog.ts SEED [--ops N] [--profile NAME] > prog.txt
//
// The same seed, ops and profile always give the same program (the PRNG is
// packages/kernel/src/common/prng.ts, stream "heapprog"). Sizes cluster around the
// boundaries where glibc 2.36 changes path (docs: /work/shared/reference/ptmalloc-2.36.md,
// malloc/malloc.c), so that a replay of the recorded trace walks every path of the model:
//   - chunk 0x20 (malloc(0..24)), fastbin max chunk 0x80 (user 120), tcache max chunk 0x410
//     (user 1032), small/large bin split at chunk 0x400 (user 1001..1016),
//   - FASTBIN_CONSOLIDATION_THRESHOLD 64 KiB, the mmap threshold 128 KiB (user 131049 is nb
//     131072), mmapped chunks up to 40 MiB (dynamic threshold, mremap on realloc),
//   - memalign / aligned_alloc / posix_memalign / valloc / pvalloc, calloc, realloc growing and
//     shrinking by less and more than MINSIZE, realloc to 0, mallopt, malloc_trim,
//   - bursts of one size (fill the tcache's 7 slots, then fastbins or the unsorted bin) freed in
//     LIFO, FIFO or "every other" order (holes).
// Profiles weight these differently; "edge" adds failing calls (a 2^50-byte request, a calloc
// whose product overflows, a bad posix_memalign alignment) and odd mallopt parameters.

import { pathToFileURL } from 'node:url';
import { nextBelow, prngStream, type PrngState } from '../../packages/kernel/src/common/prng.js';

export const HEAP_PROGRAM_PROFILES = ['mixed', 'small', 'large', 'mmap', 'tuned', 'edge'] as const;
export type HeapProgramProfile = (typeof HEAP_PROGRAM_PROFILES)[number];

export interface HeapProgramOptions {
  readonly seed: number;
  /** Number of generator steps (a burst is one step); default 2000. */
  readonly ops?: number;
  readonly profile?: HeapProgramProfile;
}

/** Draws from one PRNG stream; each helper consumes a fixed number of draws per call shape. */
class Draws {
  constructor(private state: PrngState) {}
  below(n: number): number {
    const [v, next] = nextBelow(this.state, n);
    this.state = next;
    return v;
  }
  /** A uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }
  /** True with probability perMille / 1000. */
  chance(perMille: number): boolean {
    return this.below(1000) < perMille;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[]; // literal keys: insertion order is fixed
    let total = 0;
    for (const k of keys) total += weights[k];
    let x = this.below(total);
    for (const k of keys) {
      if (x < weights[k]) return k;
      x -= weights[k];
    }
    return keys[keys.length - 1];
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** User request sizes by the glibc boundary they sit next to. */
const SIZE_CLASSES = {
  tiny: [0, 24],            // all request2size to MINSIZE 0x20
  fast: [25, 103],
  fastEdge: [104, 136],     // chunk 0x80 (last fastbin size) vs 0x90
  small: [137, 984],
  binEdge: [985, 1048],     // chunk 0x3f0 / 0x400 (first large bin) / 0x410 (last tcache) / 0x420
  large: [1049, 60 * KiB],
  consolidate: [60 * KiB, 72 * KiB], // frees merging past 64 KiB consolidate the fastbins
  mmapEdge: [126 * KiB, 136 * KiB],  // the default mmap threshold, 128 KiB
  mmap: [136 * KiB, 4 * MiB],
  huge: [4 * MiB, 40 * MiB],
} as const satisfies Record<string, readonly [number, number]>;
type SizeClass = keyof typeof SIZE_CLASSES;

type Weights<K extends string> = Readonly<Record<K, number>>;

interface ProfileRules {
  readonly sizes: Weights<SizeClass>;
  readonly steps: Weights<Step>;
  readonly frees: Weights<FreeOrder>;
}
type Step = 'alloc' | 'free' | 'realloc' | 'write' | 'burst' | 'mallopt' | 'trim' | 'edge';
type FreeOrder = 'random' | 'newest' | 'oldest';

const MIXED_SIZES: Weights<SizeClass> = {
  tiny: 6, fast: 20, fastEdge: 8, small: 20, binEdge: 8, large: 18, consolidate: 4, mmapEdge: 6, mmap: 8, huge: 2,
};
const MIXED_STEPS: Weights<Step> = { alloc: 440, free: 320, realloc: 130, write: 40, burst: 40, mallopt: 12, trim: 18, edge: 0 };
const RANDOM_FREES: Weights<FreeOrder> = { random: 60, newest: 25, oldest: 15 };

const PROFILES: Record<HeapProgramProfile, ProfileRules> = {
  mixed: { sizes: MIXED_SIZES, steps: MIXED_STEPS, frees: RANDOM_FREES },
  small: {
    sizes: { tiny: 12, fast: 35, fastEdge: 15, small: 22, binEdge: 10, large: 4, consolidate: 2, mmapEdge: 0, mmap: 0, huge: 0 },
    steps: { alloc: 420, free: 330, realloc: 110, write: 30, burst: 90, mallopt: 5, trim: 15, edge: 0 },
    frees: { random: 40, newest: 40, oldest: 20 },
  },
  large: {
    sizes: { tiny: 2, fast: 5, fastEdge: 3, small: 10, binEdge: 12, large: 45, consolidate: 12, mmapEdge: 8, mmap: 3, huge: 0 },
    steps: { alloc: 440, free: 330, realloc: 140, write: 40, burst: 30, mallopt: 5, trim: 15, edge: 0 },
    frees: { random: 70, newest: 15, oldest: 15 },
  },
  mmap: {
    sizes: { tiny: 3, fast: 8, fastEdge: 2, small: 8, binEdge: 2, large: 15, consolidate: 5, mmapEdge: 20, mmap: 30, huge: 7 },
    steps: { alloc: 430, free: 330, realloc: 160, write: 40, burst: 10, mallopt: 10, trim: 20, edge: 0 },
    frees: { random: 50, newest: 30, oldest: 20 },
  },
  tuned: {
    sizes: MIXED_SIZES,
    steps: { alloc: 420, free: 310, realloc: 120, write: 40, burst: 40, mallopt: 45, trim: 25, edge: 0 },
    frees: RANDOM_FREES,
  },
  edge: {
    sizes: MIXED_SIZES,
    steps: { alloc: 420, free: 310, realloc: 130, write: 40, burst: 30, mallopt: 20, trim: 20, edge: 30 },
    frees: RANDOM_FREES,
  },
};

/** Keeps the live total bounded, so a program runs anywhere (writes make pages resident). */
const LIVE_LIMIT = 160 * MiB;
const HANDLES = 4096;

/** A request that no address space can hold (above 2^47): malloc returns NULL on any machine. */
const IMPOSSIBLE = 2 ** 50;

export function generateHeapProgram(options: HeapProgramOptions): string {
  const ops = options.ops ?? 2000;
  const profile = options.profile ?? 'mixed';
  const rules = PROFILES[profile];
  const d = new Draws(prngStream(options.seed, `heapprog/${profile}`));
  const out: string[] = [`# gen-heapprog seed=${options.seed} profile=${profile} ops=${ops}`];

  const freeHandles: number[] = [];
  for (let h = HANDLES - 1; h >= 0; h--) freeHandles.push(h);
  const live: number[] = []; // handles in allocation order
  const sizeOf = new Map<number, number>(); // handle -> requested bytes (never iterated)
  let liveBytes = 0;

  const drawSize = (): number => {
    const [lo, hi] = SIZE_CLASSES[d.weighted(rules.sizes)];
    return d.range(lo, hi);
  };
  const fits = (n: number): boolean => liveBytes + n <= LIVE_LIMIT;

  const remember = (h: number, n: number): void => {
    live.push(h);
    sizeOf.set(h, n);
    liveBytes += n;
  };
  const forget = (h: number): void => {
    const i = live.indexOf(h);
    if (i >= 0) live.splice(i, 1);
    liveBytes -= sizeOf.get(h) ?? 0;
    sizeOf.delete(h);
    freeHandles.push(h);
  };
  const maybeWrite = (h: number, n: number, perMille: number): void => {
    if (n === 0 || !d.chance(perMille)) return;
    if (d.chance(500)) {
      out.push(`write h${h} 0 ${n}`);
    } else {
      const len = d.range(1, n);
      out.push(`write h${h} ${d.range(0, n - len)} ${len}`);
    }
  };

  const alloc = (n: number): number | undefined => {
    const h = freeHandles.pop();
    if (h === undefined) return undefined;
    const kind = d.weighted({ malloc: 720, calloc: 120, memalign: 60, alignedAlloc: 20, posixMemalign: 40, valloc: 20, pvalloc: 20 });
    switch (kind) {
      case 'malloc':
        out.push(`malloc h${h} ${n}`);
        break;
      case 'calloc': {
        const m = d.range(1, 16);
        const each = Math.floor(n / m);
        out.push(`calloc h${h} ${m} ${each}`);
        n = m * each;
        break;
      }
      case 'memalign':
        out.push(`memalign h${h} ${2 ** d.range(3, 13)} ${n}`);
        break;
      case 'alignedAlloc':
        out.push(`aligned_alloc h${h} ${2 ** d.range(4, 12)} ${n}`);
        break;
      case 'posixMemalign':
        out.push(`posix_memalign h${h} ${2 ** d.range(3, 13)} ${n}`);
        break;
      case 'valloc':
        out.push(`valloc h${h} ${n}`);
        break;
      case 'pvalloc':
        out.push(`pvalloc h${h} ${n}`);
        break;
    }
    remember(h, n);
    maybeWrite(h, n, 600);
    return h;
  };

  const pickToFree = (): number => {
    switch (d.weighted(rules.frees)) {
      case 'random': return live[d.below(live.length)];
      case 'newest': return live[live.length - 1];
      case 'oldest': return live[0];
    }
  };

  const free = (h: number): void => {
    out.push(`free h${h}`);
    forget(h);
  };

  const realloc = (): void => {
    if (live.length === 0 || d.chance(30)) {
      // realloc(NULL, n) is malloc(n)
      const h = freeHandles.pop();
      if (h === undefined) return;
      const n = drawSize();
      if (!fits(n)) { freeHandles.push(h); return; }
      out.push(`realloc h${h} ${n}`);
      remember(h, n);
      maybeWrite(h, n, 500);
      return;
    }
    const h = live[d.below(live.length)];
    const old = sizeOf.get(h) ?? 0;
    let n: number;
    switch (d.weighted({ growSmall: 25, growBig: 20, shrinkSmall: 20, shrinkBig: 15, other: 15, zero: 5 })) {
      case 'growSmall': n = old + d.range(1, 64); break;
      case 'growBig': n = old * d.range(2, 4) + d.range(0, 4096); break;
      case 'shrinkSmall': n = Math.max(0, old - d.range(1, 31)); break;
      case 'shrinkBig': n = Math.floor(old / d.range(2, 8)); break;
      case 'other': n = drawSize(); break;
      case 'zero': n = 0; break;
    }
    if (!fits(n - old)) return;
    out.push(`realloc h${h} ${n}`);
    if (n === 0) {
      forget(h); // realloc(p, 0) frees p and returns NULL
      return;
    }
    liveBytes += n - old;
    sizeOf.set(h, n);
    maybeWrite(h, n, 400);
  };

  // A run of one size: fills the tcache bin (7), then fastbins / the unsorted bin on free.
  const burst = (): void => {
    const [lo, hi] = SIZE_CLASSES[d.pick<SizeClass>(['tiny', 'fast', 'fastEdge', 'small', 'binEdge', 'large'])];
    const n = d.range(lo, hi);
    const count = d.range(6, 24);
    const hs: number[] = [];
    for (let i = 0; i < count && fits(n); i++) {
      const h = freeHandles.pop();
      if (h === undefined) break;
      out.push(`malloc h${h} ${n}`);
      remember(h, n);
      maybeWrite(h, n, 300);
      hs.push(h);
    }
    const order = d.pick(['lifo', 'fifo', 'holes', 'keep'] as const);
    if (order === 'lifo') for (let i = hs.length - 1; i >= 0; i--) free(hs[i]);
    else if (order === 'fifo') for (const h of hs) free(h);
    else if (order === 'holes') for (let i = 0; i < hs.length; i += 2) free(hs[i]);
  };

  const mallopt = (): void => {
    const tunedOnly = profile === 'tuned';
    const choice = d.weighted({
      mmapThreshold: 30, trimThreshold: 25, mxfast: 20, topPad: tunedOnly ? 15 : 5,
      mmapMax: tunedOnly ? 8 : 0, perturb: tunedOnly ? 4 : 0,
    });
    switch (choice) {
      case 'mmapThreshold': out.push(`mallopt -3 ${d.pick([32 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 8 * MiB])}`); break;
      case 'trimThreshold': out.push(`mallopt -1 ${d.pick([0, 64 * KiB, 256 * KiB, 1 * MiB])}`); break;
      case 'mxfast': out.push(`mallopt 1 ${d.pick([0, 64, 128, 160])}`); break;
      case 'topPad': out.push(`mallopt -2 ${d.pick([0, 4096, 64 * KiB, 1 * MiB])}`); break;
      case 'mmapMax': out.push(`mallopt -4 ${d.pick([0, 4, 65536])}`); break;
      case 'perturb': out.push(`mallopt -6 ${d.pick([0, 0xa5])}`); break;
    }
  };

  // Calls glibc refuses or treats specially; each is cheap and leaves no block behind.
  const edge = (): void => {
    const h = freeHandles[freeHandles.length - 1];
    if (h === undefined) return;
    switch (d.below(10)) {
      case 0: out.push(`malloc h${h} ${IMPOSSIBLE}`); break;                 // NULL, ENOMEM
      case 1: out.push(`calloc h${h} ${2 ** 32} ${2 ** 32}`); break;          // product overflows: NULL
      case 2: out.push(`posix_memalign h${h} 24 100`); break;               // EINVAL: NULL
      case 3: out.push(`memalign h${h} ${d.pick([48, 100, 3000])} ${d.range(1, 3000)}`, `free h${h}`); break; // rounded up to a power of 2
      case 4: out.push(`valloc h${h} 0`, `free h${h}`); break;
      case 5: out.push(`pvalloc h${h} 0`, `free h${h}`); break;
      case 6: out.push(`calloc h${h} 0 ${d.range(1, 100)}`, `free h${h}`); break;
      case 7: {
        if (live.length === 0) return;
        out.push(`realloc h${live[d.below(live.length)]} ${IMPOSSIBLE}`);       // NULL, the block stays
        break;
      }
      case 8: out.push(`mallopt ${d.pick([-5, -7, -8])} ${d.pick([0, 1, 2])}`); break; // no effect on one thread
      case 9: out.push(`mallopt 1 ${d.pick([161, 200, -1])}`); break;         // refused (returns 0)
    }
  };

  for (let step = 0; step < ops; step++) {
    let s = d.weighted(rules.steps);
    if (liveBytes > LIVE_LIMIT / 2 && live.length > 0 && d.chance(500)) s = 'free';
    if ((s === 'free' || s === 'write') && live.length === 0) s = 'alloc';
    switch (s) {
      case 'alloc': {
        const n = drawSize();
        if (fits(n)) alloc(n);
        break;
      }
      case 'free': free(pickToFree()); break;
      case 'realloc': realloc(); break;
      case 'write': {
        const h = live[d.below(live.length)];
        maybeWrite(h, sizeOf.get(h) ?? 0, 1000);
        break;
      }
      case 'burst': burst(); break;
      case 'mallopt': mallopt(); break;
      case 'trim': out.push(`malloc_trim ${d.pick([0, 0, 4096, 64 * KiB, 1 * MiB])}`); break;
      case 'edge': edge(); break;
    }
  }
  return out.join('\n') + '\n';
}

function usage(): never {
  process.stderr.write(`usage: gen-heapprog.ts SEED [--ops N] [--profile ${HEAP_PROGRAM_PROFILES.join('|')}]\n`);
  process.exit(2);
}

function main(argv: readonly string[]): void {
  let seed: number | undefined;
  let ops: number | undefined;
  let profile: HeapProgramProfile | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--ops') ops = Number(argv[++i]);
    else if (a === '--profile') {
      const p = argv[++i];
      if (!(HEAP_PROGRAM_PROFILES as readonly string[]).includes(p)) usage();
      profile = p as HeapProgramProfile;
    } else if (seed === undefined) seed = Number(a);
    else usage();
  }
  if (seed === undefined || !Number.isSafeInteger(seed) || (ops !== undefined && !(Number.isSafeInteger(ops) && ops > 0))) usage();
  process.stdout.write(generateHeapProgram({ seed, ops, profile }));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
