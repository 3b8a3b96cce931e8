/* Which io_uring operations does this kernel complete inline, and which does it hand to a
 * kernel worker (io-wq)? Each operation is submitted alone, from a new thread with its own
 * ring; io_uring creates that thread's workers on demand, named "iou-wrk-<thread id>", so a
 * worker of that name after the completion means the operation was handed to io-wq. (Looking
 * for the completion right after submitting is not enough: on two cores a worker can finish
 * before the submitter looks.)
 *
 * Build and run (docs/results.md, Tuning log, shows the answers for tmpfs and ext4):
 *   cc -O2 -o /tmp/uring_inline_probe bench/uring_inline_probe.c -luring -lpthread
 *   /tmp/uring_inline_probe /dev/shm && /tmp/uring_inline_probe /tmp
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum op { op_open, op_create, op_read, op_write, op_close };

static char buffer[65536];

struct request {
  const char *what;
  enum op op;
  int fd;
  const char *path;
};

/* Whether a task of this process is called "iou-wrk-<tid>". */
static int has_worker_of(pid_t tid) {
  char wanted[32], path[300], name[64];
  snprintf(wanted, sizeof wanted, "iou-wrk-%d", (int)tid);
  DIR *tasks = opendir("/proc/self/task");
  int found = 0;
  for (struct dirent *e; tasks != NULL && !found && (e = readdir(tasks)) != NULL;) {
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(name, sizeof name, f) != NULL) {
      name[strcspn(name, "\n")] = '\0';
      found = strncmp(name, wanted, 15) == 0; /* comm holds 15 characters */
    }
    fclose(f);
  }
  if (tasks != NULL) closedir(tasks);
  return found;
}

static void *probe_thread(void *arg) {
  const struct request *r = arg;
  struct io_uring ring;
  if (io_uring_queue_init(8, &ring, 0) < 0) return NULL;
  struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
  switch (r->op) {
    case op_open: io_uring_prep_openat(sqe, AT_FDCWD, r->path, O_RDONLY, 0); break;
    case op_create:
      io_uring_prep_openat(sqe, AT_FDCWD, r->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
      break;
    case op_read: io_uring_prep_read(sqe, r->fd, buffer, sizeof buffer, 0); break;
    case op_write: io_uring_prep_write(sqe, r->fd, buffer, sizeof buffer, 0); break;
    case op_close: io_uring_prep_close(sqe, r->fd); break;
  }
  io_uring_submit(&ring);
  struct io_uring_cqe *cqe;
  io_uring_wait_cqe(&ring, &cqe);
  const int punted = has_worker_of(gettid());
  printf("%-26s result %-6d %s\n", r->what, cqe->res, punted ? "io-wq worker" : "inline");
  if (cqe->res >= 0 && (r->op == op_open || r->op == op_create)) close(cqe->res);
  io_uring_cqe_seen(&ring, cqe);
  io_uring_queue_exit(&ring);
  return NULL;
}

static void probe(const char *what, enum op op, int fd, const char *path) {
  struct request r = {what, op, fd, path};
  pthread_t thread;
  if (pthread_create(&thread, NULL, probe_thread, &r) == 0) pthread_join(thread, NULL);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  char source[4096], destination[4096];
  snprintf(source, sizeof source, "%s/uring_inline_probe.src", argv[1]);
  snprintf(destination, sizeof destination, "%s/uring_inline_probe.dst", argv[1]);
  unlink(source);
  unlink(destination);
  memset(buffer, 1, sizeof buffer);
  int fd = open(source, O_WRONLY | O_CREAT, 0644);
  if (fd < 0 || write(fd, buffer, sizeof buffer) != (ssize_t)sizeof buffer) {
    perror(source);
    return 1;
  }
  close(fd);
  probe("openat, existing file", op_open, -1, source);
  probe("openat O_CREAT|O_EXCL", op_create, -1, destination);
  const int src = open(source, O_RDONLY), dst = open(destination, O_WRONLY);
  probe("read 64 KiB, cached", op_read, src, NULL);
  probe("write 64 KiB, extending", op_write, dst, NULL);
  probe("write 64 KiB, overwriting", op_write, dst, NULL);
  probe("close", op_close, src, NULL);
  close(dst);
  unlink(source);
  unlink(destination);
  return 0;
}
