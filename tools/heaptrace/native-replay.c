/* native-replay: replays the calls of a heaptrace v1 file through this
 * machine's glibc and prints how long they took: the speed the simulator is
 * compared with (bench/heap-replay.ts).
 *
 *   native-replay TRACE.ht [MIN_SECONDS]      (plain text: gunzip first)
 *   -> calls=N reps=R ns_per_call_min=X ns_per_call_median=Y
 *
 * Each repetition runs in a forked child, so that it starts from the same
 * empty heap the trace started from (the parent parses into mmapped memory
 * and never calls malloc before forking). Only the calls are timed. The
 * replay runs every call in one thread ("t<tid>" prefixes are dropped),
 * names blocks by the position of the call that returned them (as the
 * simulator does), and skips "write" lines: memset of the written bytes
 * would time the memory system, not the allocator. Repetitions go on until
 * MIN_SECONDS (default 0.5) of replay time, at least 3 and at most 1000.
 * Build: cc -O2 -o native-replay native-replay.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum kind { K_MALLOC, K_CALLOC, K_REALLOC, K_FREE, K_MEMALIGN, K_POSIX_MEMALIGN, K_VALLOC, K_PVALLOC, K_MALLOPT, K_TRIM };

struct op {
  enum kind kind;
  uint64_t a, b;   /* sizes, alignment, mallopt param/value, trim pad */
  int64_t src;     /* slot of the block a free/realloc names, -1 for NULL */
  int64_t dst;     /* slot the result goes to, -1 when not kept */
};

static struct op *ops;
static int64_t nops, nslots;
static uintptr_t *hkeys;
static int64_t *hvals;
static uint64_t hmask;

static void fail(const char *m) { write(2, "native-replay: ", 15); write(2, m, strlen(m)); write(2, "\n", 1); _exit(2); }

static void *map_zeroed(size_t bytes) {
  void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail("out of memory");
  return p;
}

/* address -> slot of the block currently at that address */
static int64_t *slot_of(uintptr_t key, int insert) {
  uint64_t h = (uint64_t)((key >> 4) * 0x9E3779B97F4A7C15ull) & hmask;
  while (hkeys[h] && hkeys[h] != key) h = (h + 1) & hmask;
  if (!hkeys[h]) {
    if (!insert) return NULL;
    hkeys[h] = key;
  }
  return &hvals[h];
}

static const char *skip_word(const char *p, const char *e) { while (p < e && *p != ' ') p++; while (p < e && *p == ' ') p++; return p; }
static uint64_t read_u(const char **pp, const char *e) {
  const char *p = *pp; uint64_t v = 0; int neg = 0;
  if (p < e && *p == '-') { neg = 1; p++; }
  if (p + 1 < e && p[0] == '0' && p[1] == 'x') {
    p += 2;
    for (; p < e; p++) {
      int d = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : -1;
      if (d < 0) break;
      v = v * 16 + (uint64_t)d;
    }
  } else {
    for (; p < e && *p >= '0' && *p <= '9'; p++) v = v * 10 + (uint64_t)(*p - '0');
  }
  while (p < e && *p == ' ') p++;
  *pp = p;
  return neg ? (uint64_t)(-(int64_t)v) : v;
}
static int starts(const char *p, const char *e, const char *w) {
  size_t n = strlen(w);
  return (size_t)(e - p) > n && memcmp(p, w, n) == 0 && p[n] == ' ';
}
/* "... = 0xRESULT": the result after " = " */
static uint64_t result_of(const char *p, const char *e) {
  for (; p + 2 < e; p++)
    if (p[0] == '=' && p[1] == ' ') { const char *q = p + 2; return read_u(&q, e); }
  return 0;
}

static void parse(const char *text, size_t size) {
  int64_t lines = 1;
  for (size_t i = 0; i < size; i++) lines += text[i] == '\n';
  ops = map_zeroed((size_t)lines * sizeof *ops);
  uint64_t cap = 16;
  while (cap < (uint64_t)lines * 2) cap <<= 1;
  hmask = cap - 1;
  hkeys = map_zeroed(cap * sizeof *hkeys);
  hvals = map_zeroed(cap * sizeof *hvals);

  for (const char *line = text; line < text + size;) {
    const char *nl = memchr(line, '\n', (size_t)(text + size - line));
    const char *e = nl ? nl : text + size;
    const char *p = line;
    if (p < e && *p == 't' && p + 1 < e && p[1] >= '0' && p[1] <= '9') p = skip_word(p, e);
    struct op o = { .src = -1, .dst = -1 };
    int keep = 1, returns_block = 1;
    if (starts(p, e, "malloc")) { o.kind = K_MALLOC; p = skip_word(p, e); o.a = read_u(&p, e); }
    else if (starts(p, e, "calloc")) { o.kind = K_CALLOC; p = skip_word(p, e); o.a = read_u(&p, e); o.b = read_u(&p, e); }
    else if (starts(p, e, "realloc")) {
      o.kind = K_REALLOC; p = skip_word(p, e);
      uintptr_t old = (uintptr_t)read_u(&p, e);
      o.a = read_u(&p, e);
      int64_t *s = old ? slot_of(old, 0) : NULL;
      o.src = s ? *s : -1;
    } else if (starts(p, e, "free")) {
      o.kind = K_FREE; p = skip_word(p, e);
      int64_t *s = slot_of((uintptr_t)read_u(&p, e), 0);
      if (!s) keep = 0; else o.src = *s;
      returns_block = 0;
    } else if (starts(p, e, "memalign")) { o.kind = K_MEMALIGN; p = skip_word(p, e); o.b = read_u(&p, e); o.a = read_u(&p, e); }
    else if (starts(p, e, "posix_memalign")) { o.kind = K_POSIX_MEMALIGN; p = skip_word(p, e); o.b = read_u(&p, e); o.a = read_u(&p, e); }
    else if (starts(p, e, "valloc")) { o.kind = K_VALLOC; p = skip_word(p, e); o.a = read_u(&p, e); }
    else if (starts(p, e, "pvalloc")) { o.kind = K_PVALLOC; p = skip_word(p, e); o.a = read_u(&p, e); }
    else if (starts(p, e, "mallopt")) { o.kind = K_MALLOPT; p = skip_word(p, e); o.a = read_u(&p, e); o.b = read_u(&p, e); returns_block = 0; }
    else if (starts(p, e, "malloc_trim")) { o.kind = K_TRIM; p = skip_word(p, e); o.a = read_u(&p, e); returns_block = 0; }
    else keep = 0; /* comments, heap_base, write, mallinfo2, final_brk, resident */
    if (keep) {
      if (returns_block) {
        uintptr_t r = (uintptr_t)result_of(p, e);
        if (r) { o.dst = nslots++; *slot_of(r, 1) = o.dst; }
      }
      ops[nops++] = o;
    }
    line = e + 1;
  }
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* One replay from an empty heap; runs in a forked child. */
static uint64_t replay(void) {
  void **slot = map_zeroed((size_t)(nslots + 1) * sizeof *slot);
  uint64_t t0 = now_ns();
  for (int64_t i = 0; i < nops; i++) {
    const struct op *o = &ops[i];
    void *p = NULL;
    switch (o->kind) {
    case K_MALLOC: p = malloc(o->a); break;
    case K_CALLOC: p = calloc(o->a, o->b); break;
    case K_REALLOC: p = realloc(o->src >= 0 ? slot[o->src] : NULL, o->a); break;
    case K_FREE: free(slot[o->src]); break;
    case K_MEMALIGN: p = memalign(o->b, o->a); break;
    case K_POSIX_MEMALIGN: if (posix_memalign(&p, o->b, o->a) != 0) p = NULL; break;
    case K_VALLOC: p = valloc(o->a); break;
    case K_PVALLOC: p = pvalloc(o->a); break;
    case K_MALLOPT: mallopt((int)(int64_t)o->a, (int)(int64_t)o->b); break;
    case K_TRIM: malloc_trim(o->a); break;
    }
    if (o->dst >= 0) slot[o->dst] = p;
  }
  return now_ns() - t0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) fail("usage: native-replay TRACE.ht [MIN_SECONDS]");
  double min_seconds = argc > 2 ? strtod(argv[2], NULL) : 0.5;
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) fail("cannot open the trace");
  size_t size = (size_t)st.st_size;
  const char *text = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : "";
  if (text == MAP_FAILED) fail("cannot map the trace");
  parse(text, size);
  if (nops == 0) fail("no calls in the trace");

  enum { MAX_REPS = 1000 };
  uint64_t *times = map_zeroed(MAX_REPS * sizeof *times);
  uint64_t total = 0;
  int reps = 0;
  while (reps < MAX_REPS && (reps < 3 || (double)total < min_seconds * 1e9)) {
    int fds[2];
    if (pipe(fds) != 0) fail("pipe failed");
    pid_t child = fork();
    if (child < 0) fail("fork failed");
    if (child == 0) {
      uint64_t t = replay();
      write(fds[1], &t, sizeof t);
      _exit(0);
    }
    close(fds[1]);
    uint64_t t = 0;
    ssize_t n = read(fds[0], &t, sizeof t);
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (n != (ssize_t)sizeof t || !WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("a replay crashed (is the trace consistent?)");
    times[reps++] = t;
    total += t;
  }
  qsort(times, (size_t)reps, sizeof *times, cmp_u64);
  printf("calls=%lld reps=%d ns_per_call_min=%.1f ns_per_call_median=%.1f\n", (long long)nops, reps,
         (double)times[0] / (double)nops, (double)times[reps / 2] / (double)nops);
  return 0;
}
