/* frag: the fragmentation experiment of the article behind mmsim, on glibc.
 *
 *   frag MODE N SIZE
 *     MODE 1 frees every other block (holes all over the heap),
 *     MODE 2 frees the newest half, newest first (LIFO, the heap's end).
 *   Both leave the same N/2 blocks live, then call malloc_trim(0).
 *
 * The pointer table is calloc'd, as in the article, so it is part of the
 * heap. stdout gets mallinfo2 at four moments (start, allocated, freed,
 * trimmed), formatted by hand and written with write(2): stdio would
 * allocate a buffer and add a call to the trace.
 * Build: cc -O0 -o frag frag.c   (-O0 keeps every malloc/free)
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char line[512];
static size_t used;

static void put(const char *s) { size_t n = strlen(s); memcpy(line + used, s, n); used += n; }
static void put_u(unsigned long v) {
  char t[24]; int i = 23; t[i] = 0;
  do { t[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  put(t + i);
}
static void show(const char *tag, struct mallinfo2 m) {
  used = 0;
  put(tag);
  put(" arena="); put_u(m.arena); put(" ordblks="); put_u(m.ordblks);
  put(" smblks="); put_u(m.smblks); put(" hblks="); put_u(m.hblks);
  put(" hblkhd="); put_u(m.hblkhd); put(" uordblks="); put_u(m.uordblks);
  put(" fordblks="); put_u(m.fordblks); put(" fsmblks="); put_u(m.fsmblks);
  put(" keepcost="); put_u(m.keepcost); put("\n");
  write(1, line, used);
}

int main(int argc, char **argv) {
  if (argc != 4) { write(2, "usage: frag MODE N SIZE\n", 24); return 2; }
  int mode = atoi(argv[1]);
  int n = atoi(argv[2]);
  size_t size = strtoul(argv[3], NULL, 0);
  if ((mode != 1 && mode != 2) || n <= 0) { write(2, "frag: MODE is 1 or 2, N > 0\n", 28); return 2; }

  void **block = calloc((size_t)n, sizeof *block);
  struct mallinfo2 start = mallinfo2();
  for (int i = 0; i < n; i++) block[i] = malloc(size);
  struct mallinfo2 allocated = mallinfo2();
  if (mode == 1)
    for (int i = 0; i < n; i += 2) free(block[i]);
  else
    for (int i = n - 1; i >= n / 2; i--) free(block[i]);
  struct mallinfo2 freed = mallinfo2();
  int trimmed_any = malloc_trim(0);
  struct mallinfo2 trimmed = mallinfo2();

  used = 0;
  put("mode="); put_u((unsigned long)mode); put(" n="); put_u((unsigned long)n);
  put(" size="); put_u(size); put(" malloc_trim="); put_u((unsigned long)trimmed_any); put("\n");
  write(1, line, used);
  show("start", start);
  show("allocated", allocated);
  show("freed", freed);
  show("trimmed", trimmed);
  return 0;
}
