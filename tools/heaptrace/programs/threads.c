/* threads: a deterministic two-thread heap workload, for a trace with
 * "t<tid>" lines and a second arena.
 *
 * The threads take turns, so the order of calls is the same on every run:
 *   1. main allocates a few blocks of several sizes;
 *   2. the second thread allocates (its first call makes glibc create a new
 *      arena in an mmapped 64 MiB-aligned heap, and its own tcache), frees
 *      some of its blocks, frees two of main's blocks (a free from another
 *      thread: the chunk goes to this thread's tcache or to the main arena's
 *      bins), and exits; main waits for it (pthread_join);
 *   3. main frees blocks of the second arena, allocates and frees more.
 * At exit, glibc frees the thread's tcache (tcache_thread_shutdown) with
 * internal calls that no LD_PRELOAD library sees; the trace cannot show
 * them. Replays assume what happens here: a thread other than the first
 * exits right after its last call (packages/kernel/src/heap/trace/replay.ts).
 * No stdio (it would allocate). Build: cc -O0 -pthread -o threads threads.c
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static void *mains[8];
static void *theirs[16];

static void *second(void *arg) {
  (void)arg;
  static const size_t sizes[16] = { 24, 100, 100, 500, 1000, 1024, 2000, 4096,
                                    24, 64, 64, 200, 5000, 70000, 140000, 33 };
  for (int i = 0; i < 16; i++) theirs[i] = malloc(sizes[i]);
  for (int i = 1; i < 16; i += 3) { free(theirs[i]); theirs[i] = NULL; }
  free(mains[1]); mains[1] = NULL;   /* a main-arena chunk freed by this thread */
  free(mains[6]); mains[6] = NULL;
  theirs[1] = realloc(theirs[0], 300);
  theirs[0] = NULL;
  theirs[4] = calloc(10, 48);
  return NULL;
}

int main(void) {
  static const size_t sizes[8] = { 40, 200, 1000, 3000, 70000, 24, 300, 140000 };
  for (int i = 0; i < 8; i++) mains[i] = malloc(sizes[i]);
  pthread_t t;
  if (pthread_create(&t, NULL, second, NULL) != 0) return 1;
  pthread_join(t, NULL);
  free(theirs[2]); theirs[2] = NULL;  /* the second arena's chunk freed by main */
  free(theirs[12]); theirs[12] = NULL;  /* 5000 bytes: too big for the tcache */
  free(theirs[14]); theirs[14] = NULL;  /* mmapped */
  void *more[6];
  for (int i = 0; i < 6; i++) more[i] = malloc(100 * (size_t)(i + 1));
  for (int i = 0; i < 6; i += 2) free(more[i]);
  free(mains[4]);
  free(mains[7]);
  return 0;
}
