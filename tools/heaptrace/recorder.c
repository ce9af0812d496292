/* mmsim heap trace recorder: an LD_PRELOAD library that writes heaptrace v1
 * (docs in tools/heaptrace/README.md) for every malloc-family call a program
 * makes, with the address glibc returned.
 *
 *   MMSIM_HEAPTRACE_OUT=/tmp/ls-%p.ht LD_PRELOAD=./libmmsim-heaptrace.so ls
 *
 * "%p" in the path becomes the process id. Without the variable the library
 * only forwards.
 *
 * Rules this file keeps, because a recorder that breaks them records a
 * different program:
 *  - It never allocates: no stdio, no malloc, numbers are formatted by hand
 *    into a static buffer that is written with write(2).
 *  - It forwards to glibc's exported __libc_* entry points (posix_memalign
 *    repeats glibc's EINVAL test, then calls __libc_memalign, which is what
 *    __posix_memalign does in glibc 2.36 malloc/malloc.c), so glibc returns
 *    what it would have returned without us.
 *  - One lock is held across the forwarded call and the line it writes, so the
 *    order of the lines is the order in which glibc ran the calls, also with
 *    several threads (without it, a realloc's line could follow a malloc
 *    that already reused the realloc's old block).
 *  - errno is what glibc left.
 *
 * Process life:
 *  - heap_base is sbrk(0) read before the first call is forwarded.
 *  - mallinfo2 and final_brk are written by a destructor, or by _exit/_Exit
 *    when the program calls them directly; calls after that are forwarded
 *    without a line, so the trace stays consistent with its mallinfo2.
 *  - A forked child stops recording (its heap is a copy of the parent's and
 *    could not be replayed from an empty heap). If it execs, the new image
 *    starts a trace of its own (with %p, in the file of its pid).
 *  - A process killed by a signal, or one that execs, leaves a trace without
 *    mallinfo2/final_brk: lines are written only at line ends, so such a file
 *    ends on a whole line.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern int __libc_mallopt(int, int);

#define EXPORT __attribute__((visibility("default")))
#define OUT_ENV "MMSIM_HEAPTRACE_OUT"

/* ---- output: a static buffer, written at line ends once half full ---- */

static char out_buf[1 << 17];
static size_t out_used;
static int out_fd = -1;

static void out_flush(void) {
  size_t off = 0;
  while (out_fd >= 0 && off < out_used) {
    ssize_t n = write(out_fd, out_buf + off, out_used - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += (size_t)n;
  }
  out_used = 0;
}
/* Lines are far shorter than the half buffer out_end_line() keeps free, so
 * the flush here is a safety net that never cuts a line in practice. */
static void out_str(const char *s) {
  size_t n = strlen(s);
  if (out_used + n > sizeof out_buf) out_flush();
  if (n > sizeof out_buf) n = sizeof out_buf;
  memcpy(out_buf + out_used, s, n);
  out_used += n;
}
static void out_udec(unsigned long v) {
  char t[24];
  int i = 23;
  t[i] = 0;
  do { t[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  out_str(t + i);
}
static void out_sdec(long v) {
  if (v < 0) { out_str("-"); out_udec(0UL - (unsigned long)v); }
  else out_udec((unsigned long)v);
}
static void out_hex(uintptr_t v) {
  char t[24];
  int i = 23;
  t[i] = 0;
  do { t[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
  out_str("0x");
  out_str(t + i);
}
static void out_end_line(void) {
  out_str("\n");
  if (out_used > sizeof out_buf / 2) out_flush();
}

/* ---- the lock: one owner thread at a time, re-entry detected ---- */

static volatile pid_t lock_owner;

static pid_t current_tid(void) { return (pid_t)syscall(SYS_gettid); }

/* Returns 0 when this thread already holds the lock: a call made from inside
 * a call (a signal handler that allocates), which is forwarded unrecorded. */
static int lock_take(pid_t tid) {
  if (__atomic_load_n(&lock_owner, __ATOMIC_ACQUIRE) == tid) return 0;
  pid_t none = 0;
  while (!__atomic_compare_exchange_n(&lock_owner, &none, tid, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    none = 0;
    sched_yield();
  }
  return 1;
}
static void lock_give(void) { __atomic_store_n(&lock_owner, 0, __ATOMIC_RELEASE); }

/* ---- recorder state ---- */

enum { UNINIT = 0, STARTING = 1, READY = 2 };
static volatile int init_state;
static volatile pid_t init_tid; /* the thread running init() */
static int recording;   /* 1 while lines are written */
static pid_t first_tid; /* calls from other threads get "t<tid> " */
static unsigned long unrecorded;

/* The command line, for a comment line; read with open/read, no allocation. */
static void out_cmdline(void) {
  static char cmd[2048];
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, cmd, sizeof cmd - 1);
  close(fd);
  if (n <= 0) return;
  for (ssize_t i = 0; i < n; i++)
    if (cmd[i] == 0 || cmd[i] == '\n') cmd[i] = ' ';
  while (n > 0 && cmd[n - 1] == ' ') n--;
  cmd[n] = 0;
  out_str("# cmd ");
  out_str(cmd);
  out_str("\n");
}

static void open_output(void) {
  const char *path = getenv(OUT_ENV);
  if (!path || !*path) return;
  static char name[4096];
  size_t k = 0;
  for (const char *c = path; *c && k + 24 < sizeof name; c++) {
    if (c[0] == '%' && c[1] == 'p') {
      char t[24];
      int i = 23;
      unsigned long v = (unsigned long)getpid();
      t[i] = 0;
      do { t[--i] = (char)('0' + v % 10); v /= 10; } while (v);
      for (const char *d = t + i; *d; d++) name[k++] = *d;
      c++;
    } else {
      name[k++] = *c;
    }
  }
  name[k] = 0;
  out_fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static void on_fork_prepare(void) { lock_take(current_tid()); }
static void on_fork_parent(void) { lock_give(); }
static void on_fork_child(void) {
  /* The parent writes its own buffered lines; the child forgets them. */
  recording = 0;
  out_used = 0;
  if (out_fd >= 0) close(out_fd);
  out_fd = -1;
  lock_give();
}

/* Runs before the first forwarded call, whoever makes it (the constructor, or
 * another library's constructor that allocates first). */
static void init(void) {
  if (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == READY) return;
  pid_t me = current_tid();
  int expected = UNINIT;
  if (!__atomic_compare_exchange_n(&init_state, &expected, STARTING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    /* Another thread is starting us; or this one is, and something init()
     * calls has allocated: that call goes on (and is recorded if the header
     * is out already). */
    while (__atomic_load_n(&init_state, __ATOMIC_ACQUIRE) != READY && init_tid != me) sched_yield();
    return;
  }
  init_tid = me;
  int saved = errno;
  first_tid = me;
  open_output();
  if (out_fd >= 0) {
    out_str("# heaptrace v1 glibc=");
    out_str(gnu_get_libc_version());
    out_str(" recorder=mmsim\n");
    out_cmdline();
    out_str("heap_base ");
    out_hex((uintptr_t)sbrk(0));
    out_str("\n");
    recording = 1;
  }
  pthread_atfork(on_fork_prepare, on_fork_parent, on_fork_child);
  errno = saved;
  __atomic_store_n(&init_state, READY, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void recorder_start(void) { init(); }

/* Writes mallinfo2 and final_brk and stops recording. */
static void finish(void) {
  init();
  int saved = errno;
  pid_t tid = current_tid();
  int took = lock_take(tid);
  if (recording) {
    struct mallinfo2 mi = mallinfo2();
    if (unrecorded) { out_str("# unrecorded re-entrant calls: "); out_udec(unrecorded); out_str("\n"); }
    out_str("mallinfo2 arena="); out_udec(mi.arena);
    out_str(" ordblks="); out_udec(mi.ordblks);
    out_str(" smblks="); out_udec(mi.smblks);
    out_str(" hblks="); out_udec(mi.hblks);
    out_str(" hblkhd="); out_udec(mi.hblkhd);
    out_str(" usmblks="); out_udec(mi.usmblks);
    out_str(" fsmblks="); out_udec(mi.fsmblks);
    out_str(" uordblks="); out_udec(mi.uordblks);
    out_str(" fordblks="); out_udec(mi.fordblks);
    out_str(" keepcost="); out_udec(mi.keepcost);
    out_str("\nfinal_brk ");
    out_hex((uintptr_t)sbrk(0));
    out_str("\n");
    out_flush();
    recording = 0;
  }
  if (took) lock_give();
  errno = saved;
}

__attribute__((destructor)) static void recorder_stop(void) { finish(); }

EXPORT void _exit(int status) {
  finish();
  for (;;) syscall(SYS_exit_group, status);
}
EXPORT void _Exit(int status) { _exit(status); }

/* ---- one call: begin() takes the lock and says whether to write a line ---- */

struct call {
  pid_t tid;
  int locked; /* this call holds the lock */
  int saved_errno;
};

static int begin(struct call *c) {
  init();
  c->tid = current_tid();
  c->locked = lock_take(c->tid);
  if (!c->locked) {
    if (recording) unrecorded++;
    return 0;
  }
  return recording;
}
static void line_start(const struct call *c) {
  if (c->tid != first_tid) {
    out_str("t");
    out_udec((unsigned long)c->tid);
    out_str(" ");
  }
}
static void end(struct call *c) {
  if (c->locked) lock_give();
}

/* ---- the interposed functions ---- */

EXPORT void *malloc(size_t n) {
  struct call c;
  int rec = begin(&c);
  void *p = __libc_malloc(n);
  int e = errno;
  if (rec) { line_start(&c); out_str("malloc "); out_udec(n); out_str(" = "); out_hex((uintptr_t)p); out_end_line(); }
  end(&c);
  errno = e;
  return p;
}

EXPORT void free(void *p) {
  if (!p) { __libc_free(p); return; } /* glibc returns at once for NULL: not a call worth a line */
  struct call c;
  int e = errno;
  int rec = begin(&c);
  if (rec) { line_start(&c); out_str("free "); out_hex((uintptr_t)p); out_end_line(); }
  __libc_free(p);
  end(&c);
  errno = e;
}

EXPORT void *calloc(size_t nmemb, size_t size) {
  struct call c;
  int rec = begin(&c);
  void *p = __libc_calloc(nmemb, size);
  int e = errno;
  if (rec) {
    line_start(&c); out_str("calloc "); out_udec(nmemb); out_str(" "); out_udec(size);
    out_str(" = "); out_hex((uintptr_t)p); out_end_line();
  }
  end(&c);
  errno = e;
  return p;
}

EXPORT void *realloc(void *old, size_t n) {
  struct call c;
  int rec = begin(&c);
  void *p = __libc_realloc(old, n);
  int e = errno;
  if (rec) {
    line_start(&c); out_str("realloc "); out_hex((uintptr_t)old); out_str(" "); out_udec(n);
    out_str(" = "); out_hex((uintptr_t)p); out_end_line();
  }
  end(&c);
  errno = e;
  return p;
}

/* glibc's reallocarray (malloc/reallocarray.c) checks the product, then calls
 * realloc through the PLT, so it reaches realloc() above: nothing to add. */

static void *memalign_common(const char *name, size_t align, size_t n) {
  struct call c;
  int rec = begin(&c);
  void *p = __libc_memalign(align, n);
  int e = errno;
  if (rec) {
    line_start(&c); out_str(name); out_str(" "); out_udec(align); out_str(" "); out_udec(n);
    out_str(" = "); out_hex((uintptr_t)p); out_end_line();
  }
  end(&c);
  errno = e;
  return p;
}
EXPORT void *memalign(size_t align, size_t n) { return memalign_common("memalign", align, n); }
/* glibc 2.36 makes aligned_alloc an alias of __libc_memalign: same call, same line. */
EXPORT void *aligned_alloc(size_t align, size_t n) { return memalign_common("memalign", align, n); }

EXPORT int posix_memalign(void **res, size_t align, size_t n) {
  struct call c;
  int rec = begin(&c);
  void *p = NULL;
  int r;
  /* malloc/malloc.c __posix_memalign(): a power-of-two multiple of sizeof(void *). */
  if (align % sizeof(void *) != 0 || ((align / sizeof(void *)) & (align / sizeof(void *) - 1)) != 0 || align == 0) {
    r = EINVAL;
  } else {
    p = __libc_memalign(align, n);
    r = p ? 0 : ENOMEM;
  }
  int e = errno;
  if (rec) {
    line_start(&c); out_str("posix_memalign "); out_udec(align); out_str(" "); out_udec(n);
    out_str(" = "); out_hex((uintptr_t)p); out_end_line();
  }
  end(&c);
  errno = e;
  if (p) *res = p;
  return r;
}

EXPORT void *valloc(size_t n) {
  struct call c;
  int rec = begin(&c);
  void *p = __libc_valloc(n);
  int e = errno;
  if (rec) { line_start(&c); out_str("valloc "); out_udec(n); out_str(" = "); out_hex((uintptr_t)p); out_end_line(); }
  end(&c);
  errno = e;
  return p;
}

EXPORT void *pvalloc(size_t n) {
  struct call c;
  int rec = begin(&c);
  void *p = __libc_pvalloc(n);
  int e = errno;
  if (rec) { line_start(&c); out_str("pvalloc "); out_udec(n); out_str(" = "); out_hex((uintptr_t)p); out_end_line(); }
  end(&c);
  errno = e;
  return p;
}

EXPORT int mallopt(int param, int value) {
  struct call c;
  int rec = begin(&c);
  int r = __libc_mallopt(param, value);
  int e = errno;
  if (rec) {
    line_start(&c); out_str("mallopt "); out_sdec(param); out_str(" "); out_sdec(value);
    out_str(" = "); out_sdec(r); out_end_line();
  }
  end(&c);
  errno = e;
  return r;
}

/* glibc exports no __libc_malloc_trim: the next definition is looked up once,
 * outside the lock (dlsym may allocate, and that allocation is then recorded
 * as the program's, before this call's line). */
EXPORT int malloc_trim(size_t pad) {
  static int (*next_trim)(size_t);
  init();
  if (!next_trim) next_trim = (int (*)(size_t))dlsym(RTLD_NEXT, "malloc_trim");
  struct call c;
  int rec = begin(&c);
  int r = next_trim ? next_trim(pad) : 0;
  int e = errno;
  if (rec) { line_start(&c); out_str("malloc_trim "); out_udec(pad); out_str(" = "); out_sdec(r); out_end_line(); }
  end(&c);
  errno = e;
  return r;
}
