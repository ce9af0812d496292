// `mmsim heap bins|chunks|map PID`: a live process's allocator, in the spirit of pwndbg's heap
// commands, from HeapService.InspectHeap.
import { writeFileSync } from 'node:fs';
import { renderHeapSvg, toHeapMap, type BinView, type HeapInspection } from '@mmsim/kernel/heap';
import type { MmsimClient } from '@mmsim/sdk';
import type { ParsedArgs } from '../args.js';
import { UsageError } from '../args.js';
import { clientCommand } from '../client-command.js';
import { MACHINE_OPTION, machineOf } from '../client-options.js';
import type { Io } from '../io.js';
import { formatTable } from '../table.js';

const hex = (n: number): string => `0x${n.toString(16)}`;
const PID = [{ name: 'pid', required: true, description: 'the process' }] as const;

async function inspection(client: MmsimClient, args: ParsedArgs): Promise<HeapInspection> {
  const machine = await machineOf(client, args);
  const pid = Number(args.positionals.pid);
  if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`PID must be a positive integer, got "${args.positionals.pid}"`);
  const r = await client.heap.inspectHeap({ target: { machine, pid, tid: 0 } });
  return JSON.parse(r.viewJson) as HeapInspection;
}

function binLine(kind: string, b: BinView, count?: number): string {
  const chunks = b.chunks.slice(0, 8).map(hex).join(' -> ') + (b.chunks.length > 8 ? ` -> ... (${b.chunks.length})` : '') + (b.truncated ? ' (walk stopped: loop or bad link)' : '');
  return `  ${kind.padEnd(9)} [${String(b.index).padStart(3)}] size ${hex(b.size).padEnd(8)} ${count !== undefined ? `count ${count} ` : ''}${b.chunks.length ? chunks : '(empty)'}\n`;
}

export function formatBins(v: HeapInspection): string {
  let out = '';
  for (const t of v.threads) {
    out += `tcache of thread ${t.tid} (tcache_perthread_struct ${hex(t.addr)}, arena ${hex(t.arena)})\n`;
    for (const b of t.bins) out += binLine('tcache', b, b.count);
    if (t.bins.length === 0) out += '  (all empty)\n';
  }
  for (const a of v.arenas) {
    out += `\narena ${a.number}${a.main ? ' (main_arena)' : ''} at ${hex(a.addr)}: top ${hex(a.top)} size ${hex(a.topSize)}, last_remainder ${hex(a.lastRemainder)}, system_mem ${a.systemMem}\n`;
    for (const b of a.fastbins) if (b.chunks.length) out += binLine('fastbin', b);
    out += binLine('unsorted', a.unsorted);
    for (const b of a.smallbins) out += binLine('smallbin', b);
    for (const b of a.largebins) out += binLine('largebin', b);
  }
  if (v.mmapped.length) out += `\nmmapped chunks (${v.nMmaps}, ${v.mmappedMem} bytes): ${v.mmapped.slice(0, 8).map((m) => `${hex(m.addr)} (${m.size})`).join(', ')}${v.mmapped.length > 8 ? ', ...' : ''}\n`;
  const t = v.tunables;
  out += `\ntunables: mmap_threshold ${t.mmapThreshold}, trim_threshold ${t.trimThreshold}, top_pad ${t.topPad}, mmap_max ${t.mmapMax}, arena_max ${t.arenaMax || '8 x cores'}, tcache_count ${t.tcacheCount}, max_fast ${t.maxFast}${t.noDynThreshold ? ', thresholds fixed (no dynamic threshold)' : ''}\n`;
  return out;
}

export function formatChunks(v: HeapInspection): string {
  let out = '';
  for (const a of v.arenas) {
    for (const h of a.heaps) {
      out += `arena ${a.number} ${h.kind} heap [${hex(h.start)}, ${hex(h.end)}):\n`;
      out += formatTable(
        ['CHUNK', 'USER', 'SIZE', 'FLAGS', 'STATE'],
        h.chunks.map((c) => [hex(c.addr), hex(c.addr + 16), String(c.size), `${c.flags & 1 ? 'P' : '-'}${c.flags & 2 ? 'M' : '-'}${c.flags & 4 ? 'A' : '-'}`, c.kind]),
        [false, false, true, false, false],
      );
    }
  }
  for (const m of v.mmapped) out += `mmapped ${hex(m.addr)} size ${m.size} mapping [${hex(m.mapStart)}, ${hex(m.mapEnd)})\n`;
  return out;
}

const bins = clientCommand({
  name: 'bins',
  summary: "every bin of a process's allocator with its chunks: tcache per thread, fastbins, unsorted, small, large; top; tunables",
  options: [MACHINE_OPTION, { name: 'json', type: 'boolean', description: 'the whole inspection view as JSON' }],
  positionals: PID,
  async run(client, args, io: Io) {
    const v = await inspection(client, args);
    io.out(args.options.json ? JSON.stringify(v, null, 2) + '\n' : formatBins(v));
    return 0;
  },
});

const chunks = clientCommand({
  name: 'chunks',
  summary: "every chunk of a process's heaps in address order, with its size, flags and state",
  options: [MACHINE_OPTION],
  positionals: PID,
  async run(client, args, io) {
    io.out(formatChunks(await inspection(client, args)));
    return 0;
  },
});

const map = clientCommand({
  name: 'map',
  summary: "draw a process's heap to scale as SVG: in-use and free chunks by kind",
  options: [MACHINE_OPTION, { name: 'svg', type: 'string', valueName: 'FILE', description: 'where to write the SVG (required)' }, { name: 'width', type: 'number', description: 'drawing width in px', default: 1200 }],
  positionals: PID,
  examples: ['mmsim heap map 1003 --svg heap.svg'],
  async run(client, args, io) {
    const file = args.options.svg as string | undefined;
    if (!file) throw new UsageError('mmsim heap map: --svg FILE is required');
    const v = await inspection(client, args);
    writeFileSync(file, renderHeapSvg(toHeapMap(v), { title: `pid ${args.positionals.pid}`, width: args.options.width as number }));
    io.out(`wrote ${file}\n`);
    return 0;
  },
});

export const heapInspectCommands = [bins, chunks, map];
