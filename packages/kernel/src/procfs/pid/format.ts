// seq_file formatting helpers with the kernel's widths.

/** seq_put_decimal_ull_width(m, label, v, 8) + " kB": "VmRSS:\t    1804 kB". */
export const kbLine = (label: string, kb: number): string => `${label}:\t${String(kb).padStart(8, ' ')} kB`;

/** Lowercase hex, zero-padded to `width` (seq_put_hex_ll). */
export const hex = (x: number, width = 0): string => x.toString(16).padStart(width, '0');

/** /proc/<pid>/smaps{,_rollup}: the label padded to 16 columns, the value in 8, then " kB". */
export const smapsLine = (label: string, kb: number): string => `${(label + ':').padEnd(16, ' ')}${String(kb).padStart(8, ' ')} kB`;

/** RLIM_INFINITY and other unsigned longs that do not fit in a double, as the kernel prints them. */
export const ULONG_MAX = '18446744073709551615';
