// /proc/buddyinfo (mm/vmstat.c frag_show_print, the same in 2.6.18 and 6.18): one line per
// populated zone, "Node %d, zone %8s " then free_area[order].nr_free as "%6lu " per order.
export interface BuddyinfoZone {
  readonly name: string;
  readonly present: number;
  /** nr_free for orders 0..10. */
  readonly nrFree: readonly number[];
}

export function renderBuddyinfo(zones: readonly BuddyinfoZone[], node = 0): string {
  let out = '';
  for (const z of zones) {
    if (z.present === 0) continue;
    out += `Node ${node}, zone ${z.name.padStart(8)} ${z.nrFree.map((n) => `${String(n).padStart(6)} `).join('')}\n`;
  }
  return out;
}
