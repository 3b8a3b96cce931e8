/* Does io_uring copy many small files faster when each file is ONE linked chain of
 * direct-descriptor operations (open, open, copy, close, close: one submission and, when all
 * goes well, one completion per file) than the way the uring engine works today (open both
 * plain descriptors, wait, copy, wait, close, wait), and than 2 plain blocking threads?
 * A throwaway measurement. It copies N files of S bytes from a source directory it creates
 * into a fresh destination directory (both under DIR, removed at exit), with each variant in
 * turn, interleaved round by round (the order rotates each round, after one warm-up round),
 * and prints the median of the rounds' wall times as MiB/s with min..max, the process's
 * voluntary and involuntary context switches per round (RUSAGE_SELF: io-wq workers are
 * threads of the process, so they are counted), CPU time per round, the part of it io-wq
 * workers ran (their schedstat), and how many workers ran and were alive at the end of a round
 * (io-wq belongs to the submitting thread, not to a ring: idle workers outlive a variant's
 * ring for a few seconds and serve the next variant). Every completion is checked and every
 * destination is compared with its source after every round (outside the timing): a failure
 * of any operation, a short transfer (not handled: counted as a failure) or a wrong copy makes
 * it exit 1.
 *
 *   today     mimics src/engines/uring.cpp: 16 files in flight; openat source and openat
 *             destination (plain descriptors) on the ring, reap both; then a linked
 *             splice-in/splice-out through the slot's 1 MiB pipe (files of 32 KiB and more,
 *             1 MiB per pair) or a linked read/write through the slot's buffer (smaller
 *             files); reap; close both on the ring; reap.
 *   today+direct  today's steps, but on direct descriptors (openat_direct into 2 fixed slots
 *             per file in flight, fixed read/write/splice, close_direct): which part of any
 *             difference direct descriptors make, and which the one chain.
 *   today+lclose  today's steps with plain descriptors, but the two closes linked after the
 *             last copy pair: copy -> close -> close, one completion when all goes well.
 *   chain     16 files in flight; a sparse registered file table, 2 fixed slots per file in
 *             flight; per file one linked chain openat_direct(src) -> openat_direct(dst) ->
 *             splice-in (SPLICE_F_FD_IN_FIXED) -> splice-out (IOSQE_FIXED_FILE) [or
 *             read -> write, fixed, for files under 32 KiB] -> close_direct -> close_direct,
 *             IOSQE_CQE_SKIP_SUCCESS on all but the last.
 *   chain+async  chain with IOSQE_ASYNC on openat(dst) and on the splices.
 *   chain+defer  chain on a ring with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN.
 *   chain+wq2    chain with io_uring_register_iowq_max_workers {2, 2} (restored afterwards).
 *   threads2  2 threads take files from an atomic counter: open, open(O_CREAT), read/write
 *             64 KiB at a time, close, close.
 * Pipes and buffers are set up outside the timing; rings and the file table inside it, as the
 * engine's are, and the threads are started inside it. syncfs(DIR) runs before every timed
 * copy.
 *
 * What it showed on this machine (2 cores, Linux 6.18, liburing 2.3; quiet: both cores >= 90%
 * idle for 3 s before each case), median MiB/s of 9 rounds, two invocations (a / b):
 *
 *                 /dev/shm         /dev/shm        /dev/shm          /tmp (ext4)
 *                 200 x 64 KiB     1000 x 4 KiB    50 x 1 MiB        200 x 64 KiB
 *   today         1340 / 1414      462 / 312       2871 / 2440        747 /  626
 *   today+direct  1309 / 1332      317 / 246       2603 / 2346        778 /  656
 *   today+lclose  1350 / 1372      360 / 326       2835 / 2478        768 /  587
 *   chain         1377 / 1527      257 / 224       2746 / 2743        733 /  728
 *   chain+async   1374 / 1571      269 / 197       2844 / 2648        729 /  676
 *   chain+defer   1260 / 1396      269 / 205       2963 / 2479        742 /  570
 *   chain+wq2     1377 / 1482      268 / 212       2196 / 2544        772 /  633
 *   threads2      1670 / 1255      261 / 213       2710 / 2301        855 /  675
 *
 * The spread inside a variant is wide (min..max often +-25% around the median) and /tmp moves
 * by 2x between invocations, so only ratios inside one invocation mean anything. chain / today
 * over four invocations (these two and two more right after): 64 KiB tmpfs 1.03 1.08 1.03
 * 0.99; 4 KiB tmpfs 0.56 0.72 0.68 0.66; 1 MiB tmpfs 0.96 1.12 1.09 1.02; 64 KiB ext4 0.98
 * 1.16 0.92 0.64. chain / threads2: 0.82 1.22 0.83 0.81; 0.98 1.05 1.05 0.92; 1.01 1.19
 * 1.21 1.26; 0.86 1.08 0.83 0.61. today+direct / today at 4 KiB: 0.68 0.79 0.64 0.73.
 * chain+async sends the kernel the same requests as chain (below), so the gap between those
 * two (up to 16% on tmpfs, once 60% on ext4) is this machine's noise. Voluntary context
 * switches per round, 4 KiB: today 64-125, today+direct 146-260, chain 330-533, threads2 1-2;
 * 64 KiB and 1 MiB: every io_uring variant 57-221, threads2 1-3. io-wq workers ran 70-90% of
 * the process's CPU time in every io_uring variant at 64 KiB and more, 50-65% at 4 KiB.
 *
 * So the one chain of direct descriptors per file is not faster than the engine's steps:
 * within noise for 64 KiB and 1 MiB files, and 28-44% slower for 4 KiB files. The cost is
 * the direct descriptors, not the linking: today+direct loses as much at 4 KiB, linking the
 * closes alone (today+lclose) gains nothing. Traced with the io_uring and lock tracepoints:
 *   - openat(src) completes inline; openat(dst, O_CREAT) goes to io-wq (the kernel forces
 *     O_CREAT and O_TRUNC opens, and every splice, to io-wq without IOSQE_ASYNC, which is why
 *     chain+async changes nothing); the rest of the chain then runs in that same worker, one
 *     step after another, and the worker posts the file's completion.
 *   - A direct descriptor used from io-wq takes the ring's lock (ctx->uring_lock): installing
 *     it (io_fixed_fd_install), looking it up before the step runs (io_wq_submit_work; no
 *     contention there with plain descriptors), closing it (io_close).
 *     lock:contention_begin counted 3 contentions for 6 runs of 1000 x 4 KiB with plain
 *     descriptors (today), about 4000 with today+direct and 4250 with chain, the workers
 *     against the submitting thread running completions (io_handle_tw_list).
 *   - No operation fails with EINVAL except openat_direct with O_CLOEXEC (a direct
 *     descriptor has no close-on-exec; drop the flag). SPLICE_F_FD_IN_FIXED, IOSQE_FIXED_FILE
 *     on the splice's output, fixed read/write, close_direct, IOSQE_CQE_SKIP_SUCCESS with
 *     IOSQE_IO_LINK, DEFER_TASKRUN and iowq_max_workers all work.
 *   - A chain that breaks posts exactly one completion, the failed step's; the cancelled rest,
 *     even the last step that did not ask to skip, post none (checked by making openat_direct
 *     fail with O_CLOEXEC in chain, and read fail with EBADF in today+lclose). Its closes are
 *     among the cancelled, so the caller must close what the chain had opened.
 *   - Outside 4 KiB, DEFER_TASKRUN did not help (chain+defer 0.87-1.09 of today) and io-wq
 *     limited to 2 workers did not hurt (chain+wq2 mostly 1.00-1.06 of today, once 0.76):
 *     2 busy workers are enough on 2 cores; the other io_uring variants had 4-11 running.
 *
 * Build and run:
 *   cc -O2 -Wall -Wextra -o /tmp/uring_link_probe bench/uring_link_probe.c -luring -lpthread
 *   /tmp/uring_link_probe /dev/shm 200 65536 9
 * A fifth argument runs one variant only (for tracing it).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 16
#define SPLICE_FROM 32768L
#define PIPE_SIZE 1048576L
#define BUFFER 65536L
#define MAX_ROUNDS 64

enum step { open_src, open_dst, copy_in, copy_out, close_src, close_dst };
static const char *step_names[] = {"openat(src)", "openat(dst)", "splice-in/read",
                                   "splice-out/write", "close(src)", "close(dst)"};

static int nfiles;
static long size;
static char base[4096], srcdir[4200], dstdir[4200];
static char **src_paths, **dst_paths;
static int pipes[SLOTS][2];
static char *buffers[SLOTS];
static char *expected;
static int base_made, src_made;

/* Every failure is counted; the first few are described. */
static long failures;
static void failure(const char *variant, int file, int step, int res, long wanted) {
  if (failures++ < 5)
    fprintf(stderr, "%s: file %d, %s: %d (%s), wanted %ld\n", variant, file, step_names[step], res,
            res < 0 ? strerror(-res) : "short", wanted);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The contents of file i: a pattern shifted by the file's index, so a mix-up shows. */
static void fill(char *data, int file) {
  for (long i = 0; i < size; ++i) data[i] = (char)(i * 131 + 7 + file * 17);
}

static void remove_dst(void) {
  for (int i = 0; i < nfiles; ++i) unlink(dst_paths[i]);
  rmdir(dstdir);
}

static void cleanup(void) {
  if (dst_paths) remove_dst();
  if (src_made)
    for (int i = 0; i < nfiles; ++i) unlink(src_paths[i]);
  if (src_made) rmdir(srcdir);
  if (base_made) rmdir(base);
}

/* cleanup() calls only unlink and rmdir, which a signal handler may call. */
static void on_signal(int signal) {
  cleanup();
  _exit(128 + signal);
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static struct io_uring_sqe *sqe(struct io_uring *ring) {
  struct io_uring_sqe *s = io_uring_get_sqe(ring);
  if (s == NULL) {
    fprintf(stderr, "submission queue full\n");
    exit(1);
  }
  return s;
}

static void make_ring(struct io_uring *ring, unsigned entries, unsigned flags) {
  struct io_uring_params p = {.flags = flags};
  int rc = io_uring_queue_init_params(entries, ring, &p);
  if (rc < 0) {
    fprintf(stderr, "io_uring_queue_init_params(%#x): %s\n", flags, strerror(-rc));
    exit(1);
  }
}

static long pieces(void) { return size >= SPLICE_FROM ? (size + PIPE_SIZE - 1) / PIPE_SIZE : 1; }

/* ---- today: the engine's flow ---- */

struct tslot {
  int file, phase, pending, failed, src, dst;
  long offset;
  unsigned length;
};
enum { phase_open, phase_copy, phase_copy_close, phase_close };

/* With `direct`, src and dst are slots of the registered file table, not descriptors. With
 * `linked_close`, the closes are linked after the file's last copy pair (IOSQE_CQE_SKIP_SUCCESS
 * on all but the last close), so a file takes 2 round trips instead of 3. */
static int direct, linked_close;

static void today_copy(struct io_uring *ring, struct tslot *t, int c) {
  long left = size - t->offset, cap = size >= SPLICE_FROM ? PIPE_SIZE : BUFFER;
  t->length = (unsigned)(left < cap ? left : cap);
  struct io_uring_sqe *a = sqe(ring), *b = sqe(ring);
  if (size >= SPLICE_FROM) {
    io_uring_prep_splice(a, t->src, t->offset, pipes[c][1], -1, t->length,
                         direct ? SPLICE_F_FD_IN_FIXED : 0);
    io_uring_prep_splice(b, pipes[c][0], -1, t->dst, t->offset, t->length, 0);
    if (direct) b->flags |= IOSQE_FIXED_FILE;
  } else {
    io_uring_prep_read(a, t->src, buffers[c], t->length, (__u64)t->offset);
    io_uring_prep_write(b, t->dst, buffers[c], t->length, (__u64)t->offset);
    if (direct) a->flags |= IOSQE_FIXED_FILE, b->flags |= IOSQE_FIXED_FILE;
  }
  a->flags |= IOSQE_IO_LINK;
  io_uring_sqe_set_data64(a, (__u64)c << 8 | copy_in);
  io_uring_sqe_set_data64(b, (__u64)c << 8 | copy_out);
  t->phase = phase_copy;
  t->pending = 2;
  if (linked_close && t->offset + t->length == size) {
    struct io_uring_sqe *cs = sqe(ring), *cd = sqe(ring);
    io_uring_prep_close(cs, t->src);
    io_uring_prep_close(cd, t->dst);
    io_uring_sqe_set_data64(cs, (__u64)c << 8 | close_src);
    io_uring_sqe_set_data64(cd, (__u64)c << 8 | close_dst);
    a->flags |= IOSQE_CQE_SKIP_SUCCESS;
    b->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    cs->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
    /* One completion comes: the last close's, or the failed step's (the kernel then skips
     * the cancelled rest, as the failed step was asked to skip its own). */
    t->phase = phase_copy_close;
    t->pending = 1;
  }
}

static void today_close(struct io_uring *ring, struct tslot *t, int c) {
  t->phase = phase_close;
  t->pending = 0;
  int fds[2] = {t->src, t->dst};
  for (int k = 0; k < 2; ++k)
    if (fds[k] >= 0) {
      struct io_uring_sqe *s = sqe(ring);
      if (direct)
        io_uring_prep_close_direct(s, (unsigned)fds[k]);
      else
        io_uring_prep_close(s, fds[k]);
      io_uring_sqe_set_data64(s, (__u64)c << 8 | (k == 0 ? close_src : close_dst));
      ++t->pending;
    }
}

/* Starts the next file in slot c, or returns 0 when none is left. */
static int today_start(struct io_uring *ring, struct tslot *t, int c, int *next) {
  if (*next >= nfiles) return 0;
  *t = (struct tslot){.file = (*next)++, .phase = phase_open, .pending = 2, .src = -1, .dst = -1};
  struct io_uring_sqe *a = sqe(ring), *b = sqe(ring);
  if (direct) {
    io_uring_prep_openat_direct(a, AT_FDCWD, src_paths[t->file], O_RDONLY, 0, (unsigned)(2 * c));
    io_uring_prep_openat_direct(b, AT_FDCWD, dst_paths[t->file], O_WRONLY | O_CREAT | O_TRUNC,
                                0644, (unsigned)(2 * c + 1));
  } else {
    io_uring_prep_openat(a, AT_FDCWD, src_paths[t->file], O_RDONLY | O_CLOEXEC, 0);
    io_uring_prep_openat(b, AT_FDCWD, dst_paths[t->file],
                         O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  io_uring_sqe_set_data64(a, (__u64)c << 8 | open_src);
  io_uring_sqe_set_data64(b, (__u64)c << 8 | open_dst);
  return 1;
}

/* A sparse file table: two direct descriptors per file in flight. */
static void register_table(struct io_uring *ring) {
  int rc = io_uring_register_files_sparse(ring, 2 * SLOTS);
  if (rc < 0) {
    fprintf(stderr, "io_uring_register_files_sparse: %s\n", strerror(-rc));
    exit(1);
  }
}

static void run_today(int with_direct, int with_linked_close) {
  const char *name = with_direct ? "today+direct" : with_linked_close ? "today+lclose" : "today";
  struct io_uring ring;
  make_ring(&ring, 128, IORING_SETUP_COOP_TASKRUN);
  direct = with_direct;
  linked_close = with_linked_close;
  if (direct) register_table(&ring);
  struct tslot slots[SLOTS];
  int next = 0, active = 0;
  for (int c = 0; c < SLOTS; ++c) active += today_start(&ring, &slots[c], c, &next);
  while (active > 0) {
    if (io_uring_submit_and_wait(&ring, 1) < 0) die("io_uring_submit_and_wait");
    unsigned head, seen = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      int c = (int)(cqe->user_data >> 8), step = (int)(cqe->user_data & 0xff), res = cqe->res;
      struct tslot *t = &slots[c];
      long wanted = step == copy_in || step == copy_out ? (long)t->length : 0;
      if (res < 0 || ((step == copy_in || step == copy_out) && res != wanted)) {
        failure(name, t->file, step, res, wanted);
        t->failed = 1;
      } else if (step == open_src) {
        t->src = direct ? 2 * c : res;
      } else if (step == open_dst) {
        t->dst = direct ? 2 * c + 1 : res;
      }
      if (--t->pending > 0) continue;
      if (t->phase == phase_copy_close) {
        if (!t->failed && step != close_dst) {
          failure(name, t->file, step, res, wanted);  // a success that should have been skipped
          t->failed = 1;
        }
        /* What a failed chain left open: the closes after the failed step were cancelled. */
        if (t->failed && step >= close_src) t->src = -1;
        if (!t->failed || step == close_dst) t->src = t->dst = -1;
        today_close(&ring, t, c);
        if (t->pending == 0) active -= 1 - today_start(&ring, t, c, &next);
      } else if (t->phase == phase_open && !t->failed) {
        today_copy(&ring, t, c);
      } else if (t->phase == phase_copy && !t->failed &&
                 (t->offset += t->length) < size) {
        today_copy(&ring, t, c);
      } else if (t->phase != phase_close) {
        today_close(&ring, t, c);
        if (t->pending == 0) active -= 1 - today_start(&ring, t, c, &next);
      } else {
        active -= 1 - today_start(&ring, t, c, &next);
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
}

/* ---- chain: one linked chain of direct-descriptor operations per file ---- */

struct chain_config {
  const char *name;
  unsigned setup;
  int async;
  int wq2;
};

/* Queues file f's whole chain in slot c; every completion names the file and the step. */
static void chain_file(struct io_uring *ring, int c, int f, int async) {
  unsigned a = (unsigned)(2 * c), b = a + 1;
  struct io_uring_sqe *s[4 + 2 * 64];
  int k = 0;
  s[k] = sqe(ring);
  io_uring_prep_openat_direct(s[k], AT_FDCWD, src_paths[f], O_RDONLY, 0, a);
  io_uring_sqe_set_data64(s[k++], (__u64)f << 8 | open_src);
  s[k] = sqe(ring);
  io_uring_prep_openat_direct(s[k], AT_FDCWD, dst_paths[f], O_WRONLY | O_CREAT | O_TRUNC, 0644,
                              b);
  if (async) s[k]->flags |= IOSQE_ASYNC;
  io_uring_sqe_set_data64(s[k++], (__u64)f << 8 | open_dst);
  if (size >= SPLICE_FROM) {
    for (long at = 0; at < size; at += PIPE_SIZE) {
      unsigned length = (unsigned)(size - at < PIPE_SIZE ? size - at : PIPE_SIZE);
      s[k] = sqe(ring);
      io_uring_prep_splice(s[k], (int)a, at, pipes[c][1], -1, length, SPLICE_F_FD_IN_FIXED);
      if (async) s[k]->flags |= IOSQE_ASYNC;
      io_uring_sqe_set_data64(s[k++], (__u64)f << 8 | copy_in);
      s[k] = sqe(ring);
      io_uring_prep_splice(s[k], pipes[c][0], -1, (int)b, at, length, 0);
      s[k]->flags |= IOSQE_FIXED_FILE | (async ? IOSQE_ASYNC : 0);
      io_uring_sqe_set_data64(s[k++], (__u64)f << 8 | copy_out);
    }
  } else {
    s[k] = sqe(ring);
    io_uring_prep_read(s[k], (int)a, buffers[c], (unsigned)size, 0);
    s[k]->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s[k++], (__u64)f << 8 | copy_in);
    s[k] = sqe(ring);
    io_uring_prep_write(s[k], (int)b, buffers[c], (unsigned)size, 0);
    s[k]->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(s[k++], (__u64)f << 8 | copy_out);
  }
  s[k] = sqe(ring);
  io_uring_prep_close_direct(s[k], a);
  io_uring_sqe_set_data64(s[k++], (__u64)f << 8 | close_src);
  s[k] = sqe(ring);
  io_uring_prep_close_direct(s[k], b);
  io_uring_sqe_set_data64(s[k++], (__u64)f << 8 | close_dst);
  for (int i = 0; i < k - 1; ++i) s[i]->flags |= IOSQE_IO_LINK | IOSQE_CQE_SKIP_SUCCESS;
}

static void run_chain(const struct chain_config *cfg) {
  struct io_uring ring;
  make_ring(&ring, (unsigned)(SLOTS * (4 + 2 * pieces())), cfg->setup);
  register_table(&ring);
  int rc;
  unsigned old[2] = {0, 0};
  if (cfg->wq2) {
    unsigned limits[2] = {2, 2};
    if ((rc = io_uring_register_iowq_max_workers(&ring, limits)) < 0) {
      fprintf(stderr, "io_uring_register_iowq_max_workers: %s\n", strerror(-rc));
      exit(1);
    }
    old[0] = limits[0], old[1] = limits[1];
  }
  /* The slot each file runs in, and whether its completion has come. */
  int *slot_of = malloc(sizeof(int) * (size_t)nfiles);
  char *done = calloc((size_t)nfiles, 1);
  int next = 0, active = 0;
  for (int c = 0; c < SLOTS && next < nfiles; ++c, ++active) {
    slot_of[next] = c;
    chain_file(&ring, c, next++, cfg->async);
  }
  while (active > 0) {
    if (io_uring_submit_and_wait(&ring, 1) < 0) die("io_uring_submit_and_wait");
    unsigned head, seen = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      int f = (int)(cqe->user_data >> 8), step = (int)(cqe->user_data & 0xff);
      if (step != close_dst || cqe->res < 0) failure(cfg->name, f, step, cqe->res, 0);
      /* A broken chain posts the failed step's completion only (the rest is skipped, as
       * IOSQE_CQE_SKIP_SUCCESS asked); any completion ends the file. */
      if (done[f]) {
        failure(cfg->name, f, step, -EEXIST, 0);  // a second completion for one file
        continue;
      }
      done[f] = 1;
      int c = slot_of[f];
      if (next < nfiles) {
        slot_of[next] = c;
        chain_file(&ring, c, next++, cfg->async);
      } else {
        --active;
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
  if (cfg->wq2 && (rc = io_uring_register_iowq_max_workers(&ring, old)) < 0) {
    fprintf(stderr, "restoring io-wq limits: %s\n", strerror(-rc));
    exit(1);
  }
  free(slot_of);
  free(done);
  io_uring_queue_exit(&ring);
}

/* ---- threads2: blocking copies on 2 threads ---- */

static atomic_int thread_next;
static atomic_long thread_failures;

static void *copier(void *arg) {
  char *buffer = arg;
  for (int f; (f = atomic_fetch_add(&thread_next, 1)) < nfiles;) {
    int in = open(src_paths[f], O_RDONLY | O_CLOEXEC);
    int out = open(dst_paths[f], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    long copied = 0;
    for (ssize_t got; in >= 0 && out >= 0 && (got = read(in, buffer, BUFFER)) > 0;) {
      if (write(out, buffer, (size_t)got) != got) break;
      copied += got;
    }
    if (in < 0 || out < 0 || copied != size) atomic_fetch_add(&thread_failures, 1);
    if (in >= 0) close(in);
    if (out >= 0) close(out);
  }
  return NULL;
}

static void run_threads2(void) {
  static char *buffers2[2];
  if (!buffers2[0] && (!(buffers2[0] = malloc(BUFFER)) || !(buffers2[1] = malloc(BUFFER))))
    die("malloc");
  atomic_store(&thread_next, 0);
  pthread_t t[2];
  for (int i = 0; i < 2; ++i)
    if (pthread_create(&t[i], NULL, copier, buffers2[i])) die("pthread_create");
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  long bad = atomic_exchange(&thread_failures, 0);
  if (bad > 0) {
    fprintf(stderr, "threads2: %ld files failed\n", bad);
    failures += bad;
  }
}

/* ---- the rounds ---- */

/* The CPU time each io-wq worker of this process has run (schedstat), by thread id. */
#define MAX_TASKS 256
struct tasks {
  int count;
  int tid[MAX_TASKS];
  long long runtime[MAX_TASKS];
};

static void snapshot_workers(struct tasks *t) {
  DIR *dir = opendir("/proc/self/task");
  char path[300], name[64];
  t->count = 0;
  for (struct dirent *e; dir != NULL && t->count < MAX_TASKS && (e = readdir(dir)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    int worker = f && fgets(name, sizeof name, f) && strncmp(name, "iou-wrk", 7) == 0;
    if (f) fclose(f);
    snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
    if (worker && (f = fopen(path, "r")) != NULL) {
      if (fscanf(f, "%lld", &t->runtime[t->count]) == 1) t->tid[t->count++] = atoi(e->d_name);
      fclose(f);
    }
  }
  if (dir) closedir(dir);
}

/* Checks every destination's size (stat) and contents, and that every pipe is empty. */
static void verify(const char *variant) {
  char *data = malloc((size_t)size + 1);
  for (int i = 0; i < nfiles; ++i) {
    struct stat st;
    if (stat(dst_paths[i], &st) != 0 || st.st_size != size) {
      if (failures++ < 5) fprintf(stderr, "%s: %s has the wrong size\n", variant, dst_paths[i]);
      continue;
    }
    fill(expected, i);
    int fd = open(dst_paths[i], O_RDONLY);
    ssize_t got = fd >= 0 ? read(fd, data, (size_t)size + 1) : -1;
    if (fd >= 0) close(fd);
    if ((got != size || memcmp(data, expected, (size_t)size) != 0) && failures++ < 5)
      fprintf(stderr, "%s: %s differs from its source\n", variant, dst_paths[i]);
  }
  for (int c = 0; c < SLOTS; ++c) {
    int held = 0;
    if (ioctl(pipes[c][0], FIONREAD, &held) == 0 && held > 0) {
      if (failures++ < 5) fprintf(stderr, "%s: pipe %d holds %d bytes\n", variant, c, held);
      while (held > 0 && read(pipes[c][0], data, (size_t)(held < size ? held : size)) > 0)
        ioctl(pipes[c][0], FIONREAD, &held);
    }
  }
  free(data);
}

enum { v_today, v_direct, v_lclose, v_chain, v_async, v_defer, v_wq2, v_threads2, V };
static const struct chain_config chains[V] = {
    [v_chain] = {"chain", IORING_SETUP_COOP_TASKRUN, 0, 0},
    [v_async] = {"chain+async", IORING_SETUP_COOP_TASKRUN, 1, 0},
    [v_defer] = {"chain+defer", IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, 0, 0},
    [v_wq2] = {"chain+wq2", IORING_SETUP_COOP_TASKRUN, 0, 1},
};
static const char *names[V] = {"today",       "today+direct", "today+lclose", "chain",
                               "chain+async", "chain+defer",  "chain+wq2",    "threads2"};

struct sample {
  double seconds, cpu, worker_cpu;
  long voluntary, involuntary;
  int workers, busy_workers;
};

static double cpu_of(const struct rusage *u) {
  return (double)u->ru_utime.tv_sec + (double)u->ru_utime.tv_usec / 1e6 +
         (double)u->ru_stime.tv_sec + (double)u->ru_stime.tv_usec / 1e6;
}

static struct sample run(int v) {
  if (mkdir(dstdir, 0755) != 0) die(dstdir);
  int dfd = open(base, O_RDONLY | O_DIRECTORY);
  if (dfd < 0 || syncfs(dfd) != 0) die("syncfs");
  close(dfd);
  static struct tasks workers_before, workers_after;
  snapshot_workers(&workers_before);
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  double start = now();
  if (v == v_today || v == v_direct || v == v_lclose)
    run_today(v == v_direct, v == v_lclose);
  else if (v == v_threads2)
    run_threads2();
  else
    run_chain(&chains[v]);
  double elapsed = now() - start;
  getrusage(RUSAGE_SELF, &after);
  snapshot_workers(&workers_after);
  struct sample s = {elapsed, cpu_of(&after) - cpu_of(&before), 0, after.ru_nvcsw - before.ru_nvcsw,
                     after.ru_nivcsw - before.ru_nivcsw, workers_after.count, 0};
  /* A worker that ended during the round is not seen: its time is missing here. */
  for (int i = 0; i < workers_after.count; ++i) {
    long long ran = workers_after.runtime[i];
    for (int j = 0; j < workers_before.count; ++j)
      if (workers_before.tid[j] == workers_after.tid[i]) ran -= workers_before.runtime[j];
    s.worker_cpu += (double)ran / 1e9;
    if (ran > 0) ++s.busy_workers;
  }
  verify(names[v]);
  remove_dst();
  return s;
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s DIR FILES SIZE ROUNDS [VARIANT]\n", argv[0]);
    return 2;
  }
  nfiles = atoi(argv[2]);
  size = atol(argv[3]);
  int rounds = atoi(argv[4]);
  if (nfiles < 1 || size < 1 || size > 64 * PIPE_SIZE || rounds < 1 || rounds > MAX_ROUNDS) {
    fprintf(stderr, "FILES >= 1, 1 <= SIZE <= 64 MiB, 1 <= ROUNDS <= %d\n", MAX_ROUNDS);
    return 2;
  }
  atexit(cleanup);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  snprintf(base, sizeof base, "%s/uring-link-probe-%d", argv[1], (int)getpid());
  if (mkdir(base, 0755) != 0) die(base);
  base_made = 1;
  snprintf(srcdir, sizeof srcdir, "%s/src", base);
  snprintf(dstdir, sizeof dstdir, "%s/dst", base);
  if (mkdir(srcdir, 0755) != 0) die(srcdir);
  src_made = 1;
  src_paths = calloc((size_t)nfiles, sizeof(char *));
  dst_paths = calloc((size_t)nfiles, sizeof(char *));
  expected = malloc((size_t)size);
  for (int i = 0; i < nfiles; ++i) {
    if (asprintf(&src_paths[i], "%s/f%d", srcdir, i) < 0) die("asprintf");
    if (asprintf(&dst_paths[i], "%s/f%d", dstdir, i) < 0) die("asprintf");
    fill(expected, i);
    int fd = open(src_paths[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, expected, (size_t)size) != size || close(fd) != 0) die(src_paths[i]);
  }
  for (int c = 0; c < SLOTS; ++c) {
    if (pipe2(pipes[c], O_CLOEXEC) != 0) die("pipe2");
    if (fcntl(pipes[c][0], F_SETPIPE_SZ, (int)PIPE_SIZE) < PIPE_SIZE) die("F_SETPIPE_SZ");
    if (posix_memalign((void **)&buffers[c], 4096, BUFFER)) die("posix_memalign");
  }
  static struct sample samples[V][MAX_ROUNDS];
  int only = -1;
  for (int v = 0; argc > 5 && v < V; ++v)
    if (strcmp(argv[5], names[v]) == 0) only = v;
  if (argc > 5 && only < 0) {
    fprintf(stderr, "no variant %s\n", argv[5]);
    return 2;
  }
  for (int r = -1; r < rounds; ++r)
    for (int i = 0; i < V; ++i) {
      int v = (i + (r < 0 ? 0 : r)) % V;
      if (only >= 0 && v != only) continue;
      struct sample s = run(v);
      if (r >= 0) samples[v][r] = s;
    }
  double mib = (double)nfiles * (double)size / 1048576.0;
  printf("%s: %d x %ld bytes, %d rounds: median MiB/s (min..max); per round: files/s at the\n"
         "median, voluntary/involuntary context switches (median), CPU ms of the process and of\n"
         "its io-wq workers (medians), io-wq workers that ran / were alive at the end (max)\n",
         argv[1], nfiles, size, rounds);
  for (int v = 0; v < V; ++v) {
    if (only >= 0 && v != only) continue;
    double t[MAX_ROUNDS], cpu[MAX_ROUNDS], wcpu[MAX_ROUNDS];
    long vol[MAX_ROUNDS], invol[MAX_ROUNDS];
    int workers = 0, busy = 0;
    for (int r = 0; r < rounds; ++r) {
      t[r] = samples[v][r].seconds;
      cpu[r] = samples[v][r].cpu;
      wcpu[r] = samples[v][r].worker_cpu;
      if (samples[v][r].busy_workers > busy) busy = samples[v][r].busy_workers;
      vol[r] = samples[v][r].voluntary;
      invol[r] = samples[v][r].involuntary;
      if (samples[v][r].workers > workers) workers = samples[v][r].workers;
    }
    qsort(t, (size_t)rounds, sizeof(double), cmp);
    qsort(cpu, (size_t)rounds, sizeof(double), cmp);
    qsort(wcpu, (size_t)rounds, sizeof(double), cmp);
    qsort(vol, (size_t)rounds, sizeof(long), cmp_long);
    qsort(invol, (size_t)rounds, sizeof(long), cmp_long);
    printf("%-12s %7.1f (%7.1f..%7.1f) %7.0f files/s  csw %4ld/%4ld  cpu %5.1f ms (io-wq %5.1f)"
           "  wrk %d/%d\n",
           names[v], mib / t[rounds / 2], mib / t[rounds - 1], mib / t[0],
           nfiles / t[rounds / 2], vol[rounds / 2], invol[rounds / 2], cpu[rounds / 2] * 1e3,
           wcpu[rounds / 2] * 1e3, busy, workers);
  }
  if (failures > 0) {
    fprintf(stderr, "%ld failures: the figures above are not a correct copy's\n", failures);
    return 1;
  }
  return 0;
}
