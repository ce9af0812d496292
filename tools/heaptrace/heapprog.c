/* heapprog: runs a heap program against this machine's glibc and kernel and
 * prints what happened as heaptrace v1 on stdout, ending with the pages the
 * kernel made resident:
 *
 *   resident heap_pages=N mmap_pages=M
 *
 * heap_pages: resident pages (mincore) of the brk heap [heap_base, brk) at
 * exit; mmap_pages: resident pages of the mmapped chunks still live at exit.
 *
 * Program lines (handles h0..h65535, sizes decimal; a line starting with '#'
 * is a comment, copied to the trace):
 *   malloc H SIZE            calloc H NMEMB SIZE        realloc H SIZE
 *   free H                   memalign H ALIGN SIZE      write H OFFSET LEN
 *   mallopt PARAM VALUE      malloc_trim PAD
 * and, beyond the reference format (tools/heaptrace/README.md):
 *   posix_memalign H ALIGN SIZE    aligned_alloc H ALIGN SIZE
 *   valloc H SIZE                  pvalloc H SIZE
 * "realloc H SIZE" reallocates H's block (NULL if H holds none) and keeps the
 * result in H; "free H" of an empty handle does nothing and prints nothing.
 * "write H OFFSET LEN" stores LEN bytes at OFFSET in H's block, as a program
 * filling it would (printed as "write 0xPTR OFFSET LEN").
 *
 * The program is read into an mmapped buffer and the output goes through a
 * static buffer with write(2): no stdio, so every heap call is the program's.
 * Build with -O0, so that the compiler keeps every malloc/free pair.
 *   cc -O0 -o heapprog heapprog.c && ./heapprog prog.txt > prog.ht
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HANDLES 65536

static void *handle_ptr[HANDLES];
static size_t page_size;

/* ---- output ---- */
static char obuf[1 << 16];
static size_t oused;

static void emit_flush(void) {
  size_t off = 0;
  while (off < oused) {
    ssize_t n = write(1, obuf + off, oused - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += (size_t)n;
  }
  oused = 0;
}
static void emit(const char *s) {
  size_t n = strlen(s);
  if (oused + n > sizeof obuf) emit_flush();
  memcpy(obuf + oused, s, n);
  oused += n;
}
static void emit_u(unsigned long v) {
  char t[24];
  int i = 23;
  t[i] = 0;
  do { t[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  emit(t + i);
}
static void emit_s(long v) {
  if (v < 0) { emit("-"); emit_u(0UL - (unsigned long)v); }
  else emit_u((unsigned long)v);
}
static void emit_x(uintptr_t v) {
  char t[24];
  int i = 23;
  t[i] = 0;
  do { t[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
  emit("0x");
  emit(t + i);
}
static void die(const char *msg) {
  emit_flush();
  write(2, "heapprog: ", 10);
  write(2, msg, strlen(msg));
  write(2, "\n", 1);
  _exit(2);
}

/* ---- parsing one line: words separated by spaces ---- */
struct cursor { const char *p, *end; };

static void skip_spaces(struct cursor *c) { while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++; }
static int word_is(struct cursor *c, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return 0;
  if (c->p + n < c->end && c->p[n] != ' ' && c->p[n] != '\t') return 0;
  c->p += n;
  return 1;
}
static unsigned long read_unsigned(struct cursor *c) {
  skip_spaces(c);
  if (c->p >= c->end || *c->p < '0' || *c->p > '9') die("expected a number");
  unsigned long v = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') v = v * 10 + (unsigned long)(*c->p++ - '0');
  return v;
}
static long read_signed(struct cursor *c) {
  skip_spaces(c);
  if (c->p < c->end && *c->p == '-') { c->p++; return -(long)read_unsigned(c); }
  return (long)read_unsigned(c);
}
static unsigned read_handle(struct cursor *c) {
  skip_spaces(c);
  if (c->p < c->end && *c->p == 'h') c->p++;
  unsigned long h = read_unsigned(c);
  if (h >= HANDLES) die("handle out of range");
  return (unsigned)h;
}

/* ---- residency ---- */
static unsigned long resident_pages(uintptr_t start, size_t len) {
  if (len == 0) return 0;
  uintptr_t first = start & ~(uintptr_t)(page_size - 1);
  size_t pages = (start + len - first + page_size - 1) / page_size;
  unsigned char *vec = mmap(NULL, pages, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (vec == MAP_FAILED) die("mmap for mincore failed");
  unsigned long n = 0;
  if (mincore((void *)first, pages * page_size, vec) != 0) die("mincore failed");
  for (size_t i = 0; i < pages; i++) n += vec[i] & 1;
  munmap(vec, pages);
  return n;
}

/* ---- one line of the program ---- */
static void alloc_line(const char *name, unsigned h, size_t a, int two, size_t b, void *p) {
  handle_ptr[h] = p;
  emit(name); emit(" "); emit_u(a);
  if (two) { emit(" "); emit_u(b); }
  emit(" = "); emit_x((uintptr_t)p); emit("\n");
}

static void run_line(struct cursor *c) {
  skip_spaces(c);
  if (c->p >= c->end) return;
  if (*c->p == '#') { /* the program's comments become the trace's */
    size_t n = (size_t)(c->end - c->p);
    if (oused + n + 1 > sizeof obuf) emit_flush();
    if (n + 1 > sizeof obuf) n = sizeof obuf - 1;
    memcpy(obuf + oused, c->p, n);
    oused += n;
    emit("\n");
    return;
  }
  if (word_is(c, "malloc")) {
    unsigned h = read_handle(c); size_t n = read_unsigned(c);
    alloc_line("malloc", h, n, 0, 0, malloc(n));
  } else if (word_is(c, "calloc")) {
    unsigned h = read_handle(c); size_t m = read_unsigned(c), n = read_unsigned(c);
    alloc_line("calloc", h, m, 1, n, calloc(m, n));
  } else if (word_is(c, "realloc")) {
    unsigned h = read_handle(c); size_t n = read_unsigned(c);
    uintptr_t old = (uintptr_t)handle_ptr[h];
    void *p = realloc(handle_ptr[h], n);
    emit("realloc "); emit_x(old); emit(" "); emit_u(n); emit(" = "); emit_x((uintptr_t)p); emit("\n");
    /* realloc(p, 0) freed p; a failed realloc left it alone. */
    if (p || n == 0) handle_ptr[h] = p;
  } else if (word_is(c, "free")) {
    unsigned h = read_handle(c);
    if (handle_ptr[h]) {
      emit("free "); emit_x((uintptr_t)handle_ptr[h]); emit("\n");
      free(handle_ptr[h]);
      handle_ptr[h] = NULL;
    }
  } else if (word_is(c, "memalign")) {
    unsigned h = read_handle(c); size_t a = read_unsigned(c), n = read_unsigned(c);
    alloc_line("memalign", h, a, 1, n, memalign(a, n));
  } else if (word_is(c, "aligned_alloc")) {
    /* glibc 2.36: aligned_alloc is __libc_memalign, so the line says memalign */
    unsigned h = read_handle(c); size_t a = read_unsigned(c), n = read_unsigned(c);
    alloc_line("memalign", h, a, 1, n, aligned_alloc(a, n));
  } else if (word_is(c, "posix_memalign")) {
    unsigned h = read_handle(c); size_t a = read_unsigned(c), n = read_unsigned(c);
    void *p = NULL;
    if (posix_memalign(&p, a, n) != 0) p = NULL;
    alloc_line("posix_memalign", h, a, 1, n, p);
  } else if (word_is(c, "valloc")) {
    unsigned h = read_handle(c); size_t n = read_unsigned(c);
    alloc_line("valloc", h, n, 0, 0, valloc(n));
  } else if (word_is(c, "pvalloc")) {
    unsigned h = read_handle(c); size_t n = read_unsigned(c);
    alloc_line("pvalloc", h, n, 0, 0, pvalloc(n));
  } else if (word_is(c, "write")) {
    unsigned h = read_handle(c); size_t off = read_unsigned(c), len = read_unsigned(c);
    if (handle_ptr[h] && len > 0) {
      memset((char *)handle_ptr[h] + off, 0xa5, len);
      emit("write "); emit_x((uintptr_t)handle_ptr[h]); emit(" "); emit_u(off); emit(" "); emit_u(len); emit("\n");
    }
  } else if (word_is(c, "mallopt")) {
    long param = read_signed(c), value = read_signed(c);
    int r = mallopt((int)param, (int)value);
    emit("mallopt "); emit_s(param); emit(" "); emit_s(value); emit(" = "); emit_s(r); emit("\n");
  } else if (word_is(c, "malloc_trim")) {
    size_t pad = read_unsigned(c);
    int r = malloc_trim(pad);
    emit("malloc_trim "); emit_u(pad); emit(" = "); emit_s(r); emit("\n");
  } else {
    die("unknown operation");
  }
}

int main(int argc, char **argv) {
  if (argc != 2) die("usage: heapprog PROGRAM");
  page_size = (size_t)sysconf(_SC_PAGESIZE);
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) die("cannot open the program");
  size_t size = (size_t)st.st_size;
  const char *text = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : "";
  if (text == MAP_FAILED) die("cannot map the program");
  close(fd);

  uintptr_t heap_base = (uintptr_t)sbrk(0);
  emit("# heaptrace v1 glibc="); emit(gnu_get_libc_version()); emit(" from mmsim heapprog\n");
  emit("heap_base "); emit_x(heap_base); emit("\n");

  for (const char *line = text; line < text + size;) {
    const char *nl = memchr(line, '\n', (size_t)(text + size - line));
    const char *end = nl ? nl : text + size;
    struct cursor c = { line, end };
    run_line(&c);
    line = end + 1;
  }

  uintptr_t brk_now = (uintptr_t)sbrk(0);
  unsigned long heap_pages = resident_pages(heap_base, brk_now - heap_base), mmap_pages = 0;
  for (unsigned h = 0; h < HANDLES; h++) {
    if (!handle_ptr[h]) continue;
    size_t size_field = ((size_t *)handle_ptr[h])[-1];
    if (size_field & 2) /* IS_MMAPPED: the chunk starts 16 bytes before the pointer */
      mmap_pages += resident_pages((uintptr_t)handle_ptr[h] - 16, size_field & ~(size_t)7);
  }
  struct mallinfo2 mi = mallinfo2();
  emit("mallinfo2 arena="); emit_u(mi.arena); emit(" ordblks="); emit_u(mi.ordblks);
  emit(" smblks="); emit_u(mi.smblks); emit(" hblks="); emit_u(mi.hblks);
  emit(" hblkhd="); emit_u(mi.hblkhd); emit(" usmblks="); emit_u(mi.usmblks);
  emit(" fsmblks="); emit_u(mi.fsmblks); emit(" uordblks="); emit_u(mi.uordblks);
  emit(" fordblks="); emit_u(mi.fordblks); emit(" keepcost="); emit_u(mi.keepcost);
  emit("\nfinal_brk "); emit_x(brk_now);
  emit("\nresident heap_pages="); emit_u(heap_pages); emit(" mmap_pages="); emit_u(mmap_pages); emit("\n");
  emit_flush();
  return 0;
}
