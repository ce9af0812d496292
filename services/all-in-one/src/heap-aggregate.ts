// The heap aggregate, once packages/kernel/src/heap/aggregate lands. (Temporary shim.)
import type { Aggregate } from '@mmsim/kernel';

export const heapAggregate: Aggregate<unknown, unknown, unknown> | null = null;
