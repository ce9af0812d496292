/* selfreport: makes a fixed set of heap calls and writes, itself, the
 * heaptrace v1 lines a recorder must produce for them (to fd 3, or stderr
 * when fd 3 is not open). test/oracles/heaptrace-recorder.spec.ts runs it under
 * tools/heaptrace/recorder.c and requires the recorder's lines to be these:
 * the program's own view of its calls is the ground truth.
 *
 * It covers every recorded entry point, posix_memalign's EINVAL and a
 * failing malloc, functions that allocate inside glibc (strdup: a malloc;
 * reallocarray: a realloc), calls from a second thread ("t<tid>" lines),
 * and a forked child whose calls must not appear. "selfreport exit" ends with
 * _exit(0) instead of returning from main, so that the recorder's _exit path
 * writes mallinfo2 too. Before its last line it writes its own
 * "mallinfo2 ..." and "final_brk ..." and the recorder's must be equal.
 * No stdio. Build: cc -O0 -pthread -o selfreport selfreport.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int out = 3;
static char buf[256];
static size_t used;

static void put(const char *s) { size_t n = strlen(s); memcpy(buf + used, s, n); used += n; }
static void put_u(unsigned long v) {
  char t[24]; int i = 23; t[i] = 0;
  do { t[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  put(t + i);
}
static void put_s(long v) { if (v < 0) { put("-"); put_u(0UL - (unsigned long)v); } else put_u((unsigned long)v); }
static void put_a(uintptr_t v) {
  char t[24]; int i = 23; t[i] = 0;
  do { t[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
  put("0x"); put(t + i);
}
static void put_x(const void *p) { put_a((uintptr_t)p); }
static void done(void) { put("\n"); write(out, buf, used); used = 0; }

static void *r_malloc(size_t n) { void *p = malloc(n); put("malloc "); put_u(n); put(" = "); put_x(p); done(); return p; }
static void r_free(void *p) { put("free "); put_x(p); done(); free(p); }

/* The thread waits until main has written its line about pthread_create:
 * both write through the one static line buffer. */
static volatile int main_reported;

static void *second_thread(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&main_reported, __ATOMIC_ACQUIRE)) sched_yield();
  pid_t tid = (pid_t)syscall(SYS_gettid);
  void *a = malloc(4000);
  put("t"); put_u((unsigned long)tid); put(" malloc 4000 = "); put_x(a); done();
  put("t"); put_u((unsigned long)tid); put(" free "); put_x(a); done();
  free(a);
  return NULL;
}

int main(int argc, char **argv) {
  if (fcntl(3, F_GETFD) < 0) out = 2;
  put("heap_base "); put_x(sbrk(0)); done();

  void *a = r_malloc(100);
  void *b = r_malloc(0);
  void *c = calloc(4, 100);
  put("calloc 4 100 = "); put_x(c); done();
  uintptr_t old = (uintptr_t)a;
  a = realloc(a, 2000);
  put("realloc "); put_a(old); put(" 2000 = "); put_x(a); done();
  old = (uintptr_t)a;
  a = realloc(a, 50);
  put("realloc "); put_a(old); put(" 50 = "); put_x(a); done();
  void *volatile null_block = NULL;         /* so the compiler cannot turn realloc(NULL) into malloc */
  void *d = realloc(null_block, 300);
  put("realloc 0x0 300 = "); put_x(d); done();
  old = (uintptr_t)d;
  d = realloc(d, 0);
  put("realloc "); put_a(old); put(" 0 = "); put_x(d); done();
  void *e = memalign(64, 1000);
  put("memalign 64 1000 = "); put_x(e); done();
  void *f = aligned_alloc(256, 512);
  put("memalign 256 512 = "); put_x(f); done();  /* aligned_alloc is memalign in 2.36 */
  void *g = NULL;
  int rc = posix_memalign(&g, 128, 700);
  put("posix_memalign 128 700 = "); put_x(rc == 0 ? g : NULL); done();
  void *bad = (void *)1;
  rc = posix_memalign(&bad, 24, 100);
  put("posix_memalign 24 100 = 0x0"); done();
  if (rc != EINVAL || bad != (void *)1) { write(2, "posix_memalign(24) did not fail\n", 32); return 1; }
  void *h = valloc(5000);
  put("valloc 5000 = "); put_x(h); done();
  void *i = pvalloc(5000);
  put("pvalloc 5000 = "); put_x(i); done();
  void *big = r_malloc(200000);              /* mmapped */
  errno = 0;
  void *none = malloc((size_t)1 << 50);      /* no address space holds it */
  int saved = errno;
  put("malloc 1125899906842624 = "); put_x(none); done();
  if (none || saved != ENOMEM) { write(2, "errno not kept\n", 15); return 1; }
  char *s = strdup("a string that strdup copies");
  put("malloc 28 = "); put_x(s); done();     /* strdup calls malloc(strlen + 1) */
  old = (uintptr_t)s;
  s = reallocarray(s, 10, 30);
  put("realloc "); put_a(old); put(" 300 = "); put_x(s); done();
  int r = mallopt(M_MMAP_THRESHOLD, 65536);
  put("mallopt -3 65536 = "); put_s(r); done();
  r = mallopt(M_MXFAST, 500);                 /* refused: above 160 */
  put("mallopt 1 500 = "); put_s(r); done();

  pthread_t t;
  if (pthread_create(&t, NULL, second_thread, NULL) != 0) return 1;
  /* pthread_create calloc'd the thread's DTV through the recorder; its size
   * is ld.so's business, so the test accepts one calloc line it does not
   * know in advance, in this place. */
  put("? calloc from pthread_create"); done();
  __atomic_store_n(&main_reported, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  /* The thread's exit freed its tcache with calls no LD_PRELOAD library
   * sees (tcache_thread_shutdown uses __libc_free directly). */

  pid_t child = fork();
  if (child == 0) {
    void *x = malloc(777);                  /* not in any trace */
    free(x);
    _exit(0);
  }
  waitpid(child, NULL, 0);

  r_free(b);
  r_free(c);
  r_free(e);
  r_free(big);
  r = malloc_trim(0);
  put("malloc_trim 0 = "); put_s(r); done();
  r_free(f);

  struct mallinfo2 m = mallinfo2();
  put("mallinfo2 arena="); put_u(m.arena); put(" ordblks="); put_u(m.ordblks);
  put(" smblks="); put_u(m.smblks); put(" hblks="); put_u(m.hblks);
  put(" hblkhd="); put_u(m.hblkhd); put(" usmblks="); put_u(m.usmblks);
  put(" fsmblks="); put_u(m.fsmblks); put(" uordblks="); put_u(m.uordblks);
  put(" fordblks="); put_u(m.fordblks); put(" keepcost="); put_u(m.keepcost); done();
  put("final_brk "); put_x(sbrk(0)); done();
  (void)g; (void)h; (void)i; (void)a; (void)s;
  if (argc > 1 && strcmp(argv[1], "exit") == 0) _exit(0);
  return 0;
}
