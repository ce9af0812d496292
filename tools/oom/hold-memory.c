/*
 * hold-memory: a test process for the OOM fixtures. It writes its oom_score_adj, then holds
 * chosen amounts of memory of each kind the kernel's badness counts:
 *   anon   private anonymous pages, each written once          (RssAnon)
 *   file   a file it writes in DIR, maps read-only and reads    (RssFile, page cache)
 *   shmem  a /dev/shm file mapped shared and written            (RssShmem)
 * prints "ready <pid>" and then reads commands on stdin until EOF:
 *   anon KB    map and write KB more anonymous memory (to drive a cgroup into OOM)
 *
 * usage: hold-memory ANON_KB FILE_KB SHMEM_KB OOM_SCORE_ADJ [DIR]
 * Our own code, for tools/oom/record-fixtures.ts.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void touch_anon(long kb)
{
	size_t len = (size_t)kb * 1024;
	if (len == 0)
		return;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap anon");
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
}

static void map_file(const char *path, long kb, int shared_write)
{
	size_t len = (size_t)kb * 1024;
	if (len == 0)
		return;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	if (!shared_write) {
		/* fill the file through write(): the pages land in the page cache */
		static char buf[1 << 16];
		memset(buf, 7, sizeof buf);
		for (size_t done = 0; done < len;) {
			size_t n = len - done < sizeof buf ? len - done : sizeof buf;
			if (write(fd, buf, n) != (ssize_t)n)
				die("write");
			done += n;
		}
	} else if (ftruncate(fd, (off_t)len) != 0) {
		die("ftruncate");
	}
	char *p = mmap(NULL, len, shared_write ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap file");
	unlink(path); /* the mapping keeps it */
	close(fd);
	volatile char sum = 0;
	for (size_t off = 0; off < len; off += 4096) {
		if (shared_write)
			p[off] = 1;
		else
			sum += p[off];
	}
	(void)sum;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s ANON_KB FILE_KB SHMEM_KB OOM_SCORE_ADJ [DIR]\n", argv[0]);
		return 2;
	}
	long anon = atol(argv[1]), file = atol(argv[2]), shmem = atol(argv[3]);
	const char *dir = argc > 5 ? argv[5] : "/tmp";
	FILE *f = fopen("/proc/self/oom_score_adj", "w");
	if (!f || fprintf(f, "%s\n", argv[4]) < 0 || fclose(f) != 0)
		die("oom_score_adj");
	char path[4096];
	touch_anon(anon);
	snprintf(path, sizeof path, "%s/hold-memory-file-%d", dir, (int)getpid());
	map_file(path, file, 0);
	snprintf(path, sizeof path, "/dev/shm/hold-memory-shm-%d", (int)getpid());
	map_file(path, shmem, 1);
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	char line[256];
	while (fgets(line, sizeof line, stdin)) {
		long kb;
		if (sscanf(line, "anon %ld", &kb) == 1) {
			touch_anon(kb);
			printf("grew %ld\n", kb);
			fflush(stdout);
		}
	}
	return 0;
}
