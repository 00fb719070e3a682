/* LD_PRELOAD shim for tests/integration/durable.rs: logs, in one global order, every write to
 * and fsync of an SQLite "-wal" file, every HTTP response a socket sends and the test's marks.
 * Lines go to $SHIM_LOG (O_APPEND, one write(2) each):
 *   W <seq> <markers>          a write to a -wal file returned; <markers>: the 4 digits after
 *                              each "QZ" in the data (the test's plates), comma-separated
 *   S <seq> <path>             fsync/fdatasync of a -wal file called
 *   E <seq> <start seq> <ret>  ... returned
 *   R <seq> <status>           a socket write starting "HTTP/1.1 " is about to be made
 *   K <seq> <text>             a write starting "MARK " (the test's marks, to /dev/null)
 * <seq> comes from one atomic counter: taken after a write completed, before an fsync started,
 * after it returned and before a response is sent, so "S > W" means the fsync began after the
 * data was written and "E < R" that it had returned before the answer was sent. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int log_fd = -1;
static atomic_ulong counter;

__attribute__((constructor)) static void shim_init(void) {
  const char *p = getenv("SHIM_LOG");
  if (p) log_fd = (int)syscall(SYS_openat, AT_FDCWD, p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static unsigned long next_seq(void) { return atomic_fetch_add(&counter, 1) + 1; }

static void emit(const char *fmt, ...) {
  if (log_fd < 0) return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof line - 2) n = sizeof line - 2;
  line[n++] = '\n';
  syscall(SYS_write, log_fd, line, (size_t)n);
}

/* 1: a -wal file, 2: a socket, 0: anything else. */
static int kind(int fd, char *path, size_t cap) {
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  if (S_ISSOCK(st.st_mode)) return 2;
  if (!S_ISREG(st.st_mode)) return 0;
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, cap - 1);
  if (n <= 0) return 0;
  path[n] = 0;
  return (n > 4 && strcmp(path + n - 4, "-wal") == 0) ? 1 : 0;
}

static void log_wal_write(const void *buf, size_t n) {
  char markers[700];
  size_t m = 0;
  const char *b = buf;
  for (size_t i = 0; i + 6 <= n && m + 6 < sizeof markers; i++) {
    if (b[i] == 'Q' && b[i + 1] == 'Z' && b[i + 2] >= '0' && b[i + 2] <= '9' && b[i + 3] >= '0' &&
        b[i + 3] <= '9' && b[i + 4] >= '0' && b[i + 4] <= '9' && b[i + 5] >= '0' && b[i + 5] <= '9') {
      if (m) markers[m++] = ',';
      memcpy(markers + m, b + i + 2, 4);
      m += 4;
    }
  }
  markers[m] = 0;
  emit("W %lu %s", next_seq(), m ? markers : "-");
}

static void before_send(const void *buf, size_t n) {
  if (n >= 12 && memcmp(buf, "HTTP/1.1 ", 9) == 0) {
    const char *b = buf;
    emit("R %lu %.3s", next_seq(), b + 9);
  }
}

static void marks(const void *buf, size_t n) {
  if (n > 5 && memcmp(buf, "MARK ", 5) == 0) {
    const char *b = buf;
    size_t len = n - 5;
    while (len && (b[5 + len - 1] == '\n')) len--;
    emit("K %lu %.*s", next_seq(), (int)len, b + 5);
  }
}

#define REAL(name) \
  static __typeof__(&name) real_##name; \
  if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write);
  char path[512];
  int k = kind(fd, path, sizeof path);
  if (k == 2) before_send(buf, n);
  marks(buf, n);
  ssize_t r = real_write(fd, buf, n);
  if (k == 1 && r > 0) log_wal_write(buf, (size_t)r);
  return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite);
  char path[512];
  int k = kind(fd, path, sizeof path);
  ssize_t r = real_pwrite(fd, buf, n, off);
  if (k == 1 && r > 0) log_wal_write(buf, (size_t)r);
  return r;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
  REAL(pwrite64);
  char path[512];
  int k = kind(fd, path, sizeof path);
  ssize_t r = real_pwrite64(fd, buf, n, off);
  if (k == 1 && r > 0) log_wal_write(buf, (size_t)r);
  return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  REAL(writev);
  char path[512];
  int k = kind(fd, path, sizeof path);
  if (k == 2 && cnt > 0) before_send(iov[0].iov_base, iov[0].iov_len);
  ssize_t r = real_writev(fd, iov, cnt);
  if (k == 1 && r > 0)
    for (int i = 0; i < cnt; i++) log_wal_write(iov[i].iov_base, iov[i].iov_len);
  return r;
}

ssize_t send(int fd, const void *buf, size_t n, int flags) {
  REAL(send);
  before_send(buf, n);
  return real_send(fd, buf, n, flags);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a, socklen_t l) {
  REAL(sendto);
  before_send(buf, n);
  return real_sendto(fd, buf, n, flags, a, l);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
  REAL(sendmsg);
  if (msg->msg_iovlen > 0) before_send(msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len);
  return real_sendmsg(fd, msg, flags);
}

static int synced(int fd, int (*real)(int)) {
  char path[512];
  if (kind(fd, path, sizeof path) != 1) return real(fd);
  unsigned long start = next_seq();
  emit("S %lu %s", start, path);
  int r = real(fd);
  emit("E %lu %lu %d", next_seq(), start, r);
  return r;
}

int fsync(int fd) {
  REAL(fsync);
  return synced(fd, real_fsync);
}

int fdatasync(int fd) {
  REAL(fdatasync);
  return synced(fd, real_fdatasync);
}
