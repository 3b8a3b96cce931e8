/* Is io_uring splice (file -> pipe -> file, linked) faster than linked read/write through a
 * buffer for copying files on one ring? A throwaway measurement for the uring engine's kernel
 * copy path: it copies N files of S bytes, keeping up to 16 chunks in flight (at most 4 per
 * file), with each variant in turn, interleaved, and prints the median wall time of each.
 * It assumes every transfer completes in full (no short-transfer handling): not a copier.
 * Files are opened synchronously inside the timing (not on the ring), so for small files the
 * figures say more about opening than about the two ways of copying.
 *
 * What it showed on this machine (2 cores, Linux 6.18, shared and loaded), median MiB/s of 7:
 *   /dev/shm 5 x 50 MiB:  rw 64K 1693, splice 64K 2072, 256K 2407, 1M 2468
 *   /dev/shm 50 x 1 MiB:  rw 64K  537, splice 64K 1454, 256K 1942, 1M 2050
 *   /tmp     5 x 50 MiB:  rw 64K 3737, splice 64K 3244, 256K 4106, 1M 5638
 *   /tmp     50 x 1 MiB:  rw 64K 2773, splice 64K 3178, 256K 4106, 1M 4909
 * which is why the uring engine's splice moves 16 chunks (1 MiB) at a time.
 *
 * Build and run:
 *   cc -O2 -o /tmp/uring_splice_probe bench/uring_splice_probe.c -luring
 *   /tmp/uring_splice_probe /dev/shm 5 52428800 7
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 16
#define PER_FILE 4

struct chunk {
  int file;
  int pipe[2];
  char *buffer;
  int pending;
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Copies files [0, n) of `dir`/src-i to `dir`/dst-i with `chunk`-byte chunks. */
static double copy_all(const char *dir, int n, long size, long chunk, int splice_mode) {
  struct io_uring ring;
  struct io_uring_params p = {.flags = IORING_SETUP_COOP_TASKRUN};
  if (io_uring_queue_init_params(128, &ring, &p) < 0) abort();
  struct chunk chunks[SLOTS];
  for (int i = 0; i < SLOTS; ++i) {
    memset(&chunks[i], 0, sizeof chunks[i]);
    if (splice_mode) {
      if (pipe2(chunks[i].pipe, O_CLOEXEC) < 0) abort();
      if (fcntl(chunks[i].pipe[0], F_SETPIPE_SZ, (int)chunk) < 0) perror("F_SETPIPE_SZ");
    } else if (posix_memalign((void **)&chunks[i].buffer, 4096, (size_t)chunk)) {
      abort();
    }
  }
  int *src = calloc((size_t)n, sizeof(int)), *dst = calloc((size_t)n, sizeof(int));
  long *next = calloc((size_t)n, sizeof(long));
  int *held = calloc((size_t)n, sizeof(int));
  double start = now();
  char path[4096];
  for (int i = 0; i < n; ++i) {
    snprintf(path, sizeof path, "%s/probe-src-%d", dir, i);
    src[i] = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/probe-dst-%d", dir, i);
    unlink(path);
    dst[i] = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (src[i] < 0 || dst[i] < 0) abort();
  }
  int free_list[SLOTS], nfree = SLOTS, inflight = 0, cursor = 0;
  for (int i = 0; i < SLOTS; ++i) free_list[i] = i;
  for (;;) {
    for (int tries = 0; nfree > 0 && tries < n; ++tries) {
      int f = cursor++ % n;
      if (next[f] >= size || held[f] >= PER_FILE) continue;
      int c = free_list[--nfree];
      long len = size - next[f] < chunk ? size - next[f] : chunk;
      struct io_uring_sqe *a = io_uring_get_sqe(&ring), *b = io_uring_get_sqe(&ring);
      if (splice_mode) {
        io_uring_prep_splice(a, src[f], next[f], chunks[c].pipe[1], -1, (unsigned)len, 0);
        io_uring_prep_splice(b, chunks[c].pipe[0], -1, dst[f], next[f], (unsigned)len, 0);
      } else {
        io_uring_prep_read(a, src[f], chunks[c].buffer, (unsigned)len, (unsigned long)next[f]);
        io_uring_prep_write(b, dst[f], chunks[c].buffer, (unsigned)len, (unsigned long)next[f]);
      }
      a->flags |= IOSQE_IO_LINK;
      io_uring_sqe_set_data64(a, (unsigned long)c);
      io_uring_sqe_set_data64(b, (unsigned long)c);
      chunks[c].file = f;
      chunks[c].pending = 2;
      next[f] += len;
      ++held[f];
      ++inflight;
      tries = 0;
    }
    if (inflight == 0) break;
    io_uring_submit_and_wait(&ring, 1);
    unsigned head, seen = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      if (cqe->res < 0) {
        fprintf(stderr, "error %s\n", strerror(-cqe->res));
        exit(1);
      }
      struct chunk *ch = &chunks[cqe->user_data];
      if (--ch->pending == 0) {
        --held[ch->file];
        --inflight;
        free_list[nfree++] = (int)cqe->user_data;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  for (int i = 0; i < n; ++i) {
    close(src[i]);
    close(dst[i]);
  }
  double elapsed = now() - start;
  for (int i = 0; i < SLOTS; ++i) {
    if (splice_mode) {
      close(chunks[i].pipe[0]);
      close(chunks[i].pipe[1]);
    }
    free(chunks[i].buffer);
  }
  free(src), free(dst), free(next), free(held);
  io_uring_queue_exit(&ring);
  return elapsed;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s DIR FILES SIZE RUNS\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  int n = atoi(argv[2]), runs = atoi(argv[4]);
  long size = atol(argv[3]);
  char *data = malloc((size_t)size), path[4096];
  for (long i = 0; i < size; ++i) data[i] = (char)(i * 131 + 7);
  for (int i = 0; i < n; ++i) {
    snprintf(path, sizeof path, "%s/probe-src-%d", dir, i);
    FILE *f = fopen(path, "w");
    fwrite(data, 1, (size_t)size, f);
    fclose(f);
  }
  struct variant {
    const char *name;
    long chunk;
    int splice;
  } variants[] = {{"rw 64K", 65536, 0},       {"splice 64K", 65536, 1},
                  {"splice 256K", 262144, 1}, {"splice 1M", 1048576, 1}};
  enum { V = sizeof variants / sizeof variants[0] };
  double times[V][64];
  for (int r = -1; r < runs; ++r)
    for (int v = 0; v < V; ++v) {
      double t = copy_all(dir, n, size, variants[v].chunk, variants[v].splice);
      if (r >= 0) times[v][r] = t;
    }
  for (int v = 0; v < V; ++v) {
    qsort(times[v], (size_t)runs, sizeof(double), cmp);
    double mib = (double)n * (double)size / 1048576.0;
    printf("%-12s median %7.1f MiB/s (%.1f..%.1f)\n", variants[v].name, mib / times[v][runs / 2],
           mib / times[v][runs - 1], mib / times[v][0]);
  }
  for (int i = 0; i < n; ++i) {
    snprintf(path, sizeof path, "%s/probe-src-%d", dir, i);
    unlink(path);
    snprintf(path, sizeof path, "%s/probe-dst-%d", dir, i);
    unlink(path);
  }
  return 0;
}
