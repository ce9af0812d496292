const NAMES: Readonly<Record<number, string>> = { 1: 'EPERM', 3: 'ESRCH', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 27: 'EFBIG', 75: 'EOVERFLOW' };

export const errnoName = (n: number): string => NAMES[n] ?? `errno ${n}`;
