// /proc/meminfo text as numbers: "MemFree:   107756 kB" -> { MemFree: 107756 }. The one
// reading of it the commands share (demo, run, import --from-proc).

/** Each field's number (kB, or a count for HugePages_*), optionally only the fields named. */
export function meminfoFields(text: string, only?: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(line);
    if (m && (!only || only.includes(m[1]))) out[m[1]] = Number(m[2]);
  }
  return out;
}
