// errno values the memory system calls return (heap-sys.ts has the common ones).
import { SYSCALL_KILLED } from '../../contracts/heap-sys.js';

export const EBADF_ = 9;
export const EACCES = 13;
export const EAGAIN_ = 11;
export const EFAULT_ = 14;
/** The process died during the call. */
export const KILLED = SYSCALL_KILLED;
