// The model's call results as the API reports them: what glibc returned, or how the process ended.
import type { HeapCallResult } from '@mmsim/kernel/heap';
import type { HeapResult } from '@mmsim/proto';

const ERRNO: Readonly<Record<number, string>> = { 12: 'ENOMEM', 22: 'EINVAL' };

export function heapResult(r: HeapCallResult | undefined): HeapResult {
  const none: HeapResult = { value: 0n, signal: '', message: '', errno: '' };
  if (!r) return none;
  switch (r.kind) {
    case 'pointer':
      return { ...none, value: BigInt(r.value), errno: r.errno ? (ERRNO[r.errno] ?? `errno ${r.errno}`) : r.value === 0 ? 'ENOMEM' : '' };
    case 'value':
      return { ...none, value: BigInt(r.value) };
    case 'mallinfo2':
    case 'stats':
    case 'none':
      return none;
    case 'aborted':
      return { ...none, signal: 'SIGABRT', message: r.message };
    case 'crashed':
      return { ...none, signal: 'SIGSEGV', message: `segmentation fault at 0x${r.addr.toString(16)}` };
    case 'hung':
      return { ...none, signal: 'HANG', message: r.message };
    case 'killed':
      return { ...none, signal: r.signal, message: r.signal === 'SIGKILL' ? 'killed (OOM killer)' : `segmentation fault at 0x${r.addr.toString(16)}` };
  }
}

/** The process is gone after this result. */
export const processEnded = (r: HeapCallResult | undefined): boolean => !!r && (r.kind === 'aborted' || r.kind === 'crashed' || r.kind === 'hung' || r.kind === 'killed');
