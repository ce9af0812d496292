// x86-64 address-space constants and vm_flags bits, with the kernel's names and values.
import type { KernelProfile } from '../common/index.js';

/** include/linux/mm.h: vm_flags (the values the kernel uses, so smaps VmFlags could be derived). */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_PFNMAP = 0x400;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_DONTDUMP = 0x4000000;
export const VM_STACK = VM_GROWSDOWN;
/** VM_SPECIAL: never merged, never expanded by mremap (vdso, vvar). */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP;

/** PAGE_SIZE and shifts of the 4-level x86-64 page table. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PTRS_PER_TABLE = 512;

/**
 * THREAD_SIZE / PAGE_SIZE: the pages of one task's kernel stack. x86-64 6.18:
 * THREAD_SIZE_ORDER 2 (16 KiB; KASAN off), vmalloc'ed page by page (CONFIG_VMAP_STACK).
 * 2.6.18 x86-64: THREAD_ORDER 1 (8 KiB). Every task has one, kernel threads included.
 */
export const THREAD_PAGES: Readonly<Record<KernelProfile, number>> = { 'linux-6.18': 4, 'linux-2.6.18': 2 };
/** A PTE table maps 2 MiB, a PMD table 1 GiB, a PUD table 512 GiB. */
export const PTE_TABLE_SHIFT = 9; // vpn >> 9: PTE table index
export const PMD_TABLE_SHIFT = 18; // vpn >> 18: PMD table index
export const PUD_TABLE_SHIFT = 27; // vpn >> 27: PUD table index
export const PMD_SIZE = 2 * 1024 * 1024;

/** arch/x86/include/asm/page_64_types.h: TASK_SIZE_MAX with 4-level paging, DEFAULT_MAP_WINDOW. */
export const TASK_SIZE = 2 ** 47 - PAGE_SIZE;
/** STACK_TOP = TASK_SIZE_LOW = DEFAULT_MAP_WINDOW. */
export const STACK_TOP = TASK_SIZE;
/** mm/mmap.c: mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR 65536 on x86). */
export const MMAP_MIN_ADDR = 65536;
/** arch/x86/include/asm/elf.h: ELF_ET_DYN_BASE = DEFAULT_MAP_WINDOW / 3 * 2 (unsigned long division). */
export const ELF_ET_DYN_BASE = Math.floor(TASK_SIZE / 3) * 2;
/** mm/mmap.c: stack_guard_gap = 256 pages. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;
/** arch/x86/include/asm/elf.h: STACK_RND_MASK for 64-bit tasks: 22 bits of pages (16 GiB). */
export const STACK_RND_MASK = 0x3fffff;
/** CONFIG_ARCH_MMAP_RND_BITS default on x86-64. */
export const MMAP_RND_BITS = 28;
/** arch/x86/kernel/process.c: arch_randomize_brk() spreads the break over 1 GiB on 64-bit. */
export const BRK_RND_RANGE = 1024 * 1024 * 1024;
/** include/linux/mm.h: DEFAULT_MAX_MAP_COUNT (sysctl vm.max_map_count). */
export const MAX_MAP_COUNT = 65530;
/** fs/exec.c setup_arg_pages(): the stack VMA is grown by 128 KiB past the argument pages. */
export const STACK_EXPAND = 131072;

/** RLIM_INFINITY, as a JS number: anything at or above it means "unlimited". */
export const RLIM_INFINITY = Number.MAX_SAFE_INTEGER;

/** The signal numbers a touch can end with. */
export const SIGKILL = 9;
export const SIGSEGV = 11;
export const SIGBUS = 7;

/** mmap flags glibc does not use but clients may. */
export const MAP_TYPE = 0x0f;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_GROWSDOWN = 0x100;
export const MAP_LOCKED = 0x2000;
export const MAP_POPULATE = 0x8000;
export const MAP_STACK = 0x20000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

/** madvise advices (include/uapi/asm-generic/mman-common.h). */
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;

/** The device numbers /proc/<pid>/maps shows: the root filesystem (fe:00) and shmem (00:01). */
export const ROOT_DEV = 0xfe00;
export const SHMEM_DEV = 0x0001;

/** USER_HZ: /proc reports CPU times in these ticks. */
export const USER_HZ = 100;
