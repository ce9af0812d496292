/* threads: a deterministic two-thread heap workload, for a trace with
 * "t<tid>" lines and a second arena.
 *
 * The threads take turns (a semaphore hands over), so the order of calls is
 * the same on every run:
 *   1. main allocates a few blocks of several sizes;
 *   2. the second thread allocates (its first call makes glibc create a new
 *      arena in an mmapped 64 MiB-aligned heap and its own tcache), frees
 *      some of its blocks, and frees two of main's blocks (a free from
 *      another thread: the chunk goes to this thread's tcache or to the main
 *      arena's bins);
 *   3. main frees one of the thread's blocks, allocates and frees more.
 * The second thread never exits: glibc frees a thread's tcache at thread
 * exit with internal calls that no LD_PRELOAD library sees, which would make
 * the trace disagree with the heap. Exiting the process ends it.
 * No stdio (it would allocate). Build: cc -O0 -pthread -o threads threads.c
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <unistd.h>

static sem_t thread_turn, main_turn;
static void *mains[8];
static void *theirs[16];

static void *second(void *arg) {
  (void)arg;
  sem_wait(&thread_turn);
  static const size_t sizes[16] = { 24, 100, 100, 500, 1000, 1024, 2000, 4096,
                                    24, 64, 64, 200, 5000, 70000, 140000, 33 };
  for (int i = 0; i < 16; i++) theirs[i] = malloc(sizes[i]);
  for (int i = 1; i < 16; i += 3) { free(theirs[i]); theirs[i] = NULL; }
  free(mains[1]); mains[1] = NULL;   /* a main-arena chunk freed by this thread */
  free(mains[6]); mains[6] = NULL;
  theirs[1] = realloc(theirs[0], 300);
  theirs[0] = NULL;
  theirs[4] = calloc(10, 48);
  sem_post(&main_turn);
  for (;;) pause();
  return NULL;
}

int main(void) {
  static const size_t sizes[8] = { 40, 200, 1000, 3000, 70000, 24, 300, 140000 };
  sem_init(&thread_turn, 0, 0);
  sem_init(&main_turn, 0, 0);
  for (int i = 0; i < 8; i++) mains[i] = malloc(sizes[i]);
  pthread_t t;
  if (pthread_create(&t, NULL, second, NULL) != 0) return 1;
  sem_post(&thread_turn);
  sem_wait(&main_turn);
  free(theirs[2]); theirs[2] = NULL;  /* the second arena's chunk freed by main */
  free(theirs[13]); theirs[13] = NULL;
  void *more[6];
  for (int i = 0; i < 6; i++) more[i] = malloc(100 * (size_t)(i + 1));
  for (int i = 0; i < 6; i += 2) free(more[i]);
  free(mains[4]);
  free(mains[7]);
  return 0;
}
