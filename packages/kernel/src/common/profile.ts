export const KERNEL_PROFILES = ['linux-6.18', 'linux-2.6.18'] as const;
export type KernelProfile = (typeof KERNEL_PROFILES)[number];
export const DEFAULT_KERNEL_PROFILE: KernelProfile = 'linux-6.18';
export const isKernelProfile = (s: string): s is KernelProfile => (KERNEL_PROFILES as readonly string[]).includes(s);

/** Bumped when a model change would make an old log replay differently; recorded in each machine's first event. */
export const MODEL_VERSION = 1;
