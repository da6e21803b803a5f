// Fault injection for tests, loaded with LD_PRELOAD=libbnrepro-faults.so. It wraps libc's write-side
// file-system calls, counts them per process, and makes the Nth fail with a chosen errno, as a full or
// failing disk would. Because it wraps libc itself, it reaches every file-system call the process makes
// through libc's exported functions: Swift's Foundation, our own Glibc calls, and C libraries.
//
// Counted operations (each call is one operation):
//   open   open/open64/openat/openat64/creat/creat64 with O_WRONLY, O_RDWR, O_CREAT or O_TRUNC,
//          and fopen/fopen64/freopen with a mode that writes ("w", "a" or "+"); read-only opens and
//          opens of devices, pipes and sockets (/dev/null) are not counted
//   write  write/pwrite/pwrite64/writev/pwritev, to regular files only (pipes, terminals and sockets are
//          not file-system writes: the runner's progress pipe is never failed)
//   fsync  fsync/fdatasync, on files and directories
//   rename rename/renameat/renameat2
//   mkdir  mkdir/mkdirat
// Not covered: writes libc makes internally, that is stdio's (fwrite, fprintf, Swift's print: the
// stage log's lines), mmap'ed writes, unlink/link/chmod, and raw syscalls. libpng and Cairo write
// nothing themselves here: PNGWriter and the SVG output encode to memory, and AtomicFile, which is
// covered, writes the file.
//
// Configuration, one environment variable of space-separated key=value words:
//   BNREPRO_FAULT_INJECT="nth=5 errno=ENOSPC process=exec,<key> ops=write,fsync log=/tmp/faults.txt"
//   nth      the 1-based operation to fail (0 or absent: fail none, only count)
//   persist  1: every operation from the nth on fails too, as on a disk that stays full
//   errno    ENOSPC, EIO, EDQUOT, EROFS, EACCES, or a number (default EIO)
//   ops      the operation kinds counted (default all five)
//   process  comma-separated words that must all appear among the process's arguments (argv[1...]);
//            other processes that inherit the variable are left alone (default: every process)
//   log      a file to which each matching process appends "fired <op> #<n> errno <e> <path>" when it
//            fails an operation, and "exit pid <pid> ops <count>" when it exits normally
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

enum { OP_OPEN = 1, OP_WRITE = 2, OP_FSYNC = 4, OP_RENAME = 8, OP_MKDIR = 16, OP_ALL = 31 };

static struct {
    int active;        // this process matches `process`
    long nth;
    int persist;
    int error;
    int ops;
    char log[4096];
    long count;        // operations seen so far (atomic)
} config;

static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_open)(const char *, int, ...);

#define REAL(name) ((__typeof__(&name))real_symbol(#name))
static void *real_symbol(const char *name) {
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) { errno = ENOSYS; }
    return f;
}

static const char *op_name(int op) {
    switch (op) {
    case OP_OPEN: return "open";
    case OP_WRITE: return "write";
    case OP_FSYNC: return "fsync";
    case OP_RENAME: return "rename";
    default: return "mkdir";
    }
}

static int parse_errno(const char *s) {
    static const struct { const char *name; int value; } names[] = {
        {"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS}, {"EACCES", EACCES},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) return names[i].value;
    int n = atoi(s);
    return n > 0 ? n : EIO;
}

static int parse_ops(const char *s) {
    int ops = 0;
    if (strstr(s, "open")) ops |= OP_OPEN;
    if (strstr(s, "write")) ops |= OP_WRITE;
    if (strstr(s, "fsync")) ops |= OP_FSYNC;
    if (strstr(s, "rename")) ops |= OP_RENAME;
    if (strstr(s, "mkdir")) ops |= OP_MKDIR;
    return ops;
}

/// True if every comma-separated word of `words` is one of this process's arguments after argv[0].
static int process_matches(const char *words) {
    char args[65536];
    int fd = REAL(open)("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, args, sizeof args - 1);
    close(fd);
    if (n <= 0) return 0;
    args[n] = 0;
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", words);
    for (char *save = NULL, *word = strtok_r(copy, ",", &save); word; word = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (ssize_t i = (ssize_t)strlen(args) + 1; i < n; i += (ssize_t)strlen(args + i) + 1)
            if (strcmp(args + i, word) == 0) { found = 1; break; }
        if (!found) return 0;
    }
    return 1;
}

static void append_log(const char *line) {
    if (!config.log[0]) return;
    int fd = real_open(config.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    real_write(fd, line, strlen(line));
    close(fd);
}

__attribute__((constructor)) static void fault_injection_init(void) {
    real_write = REAL(write);
    real_open = REAL(open);
    const char *spec = getenv("BNREPRO_FAULT_INJECT");
    if (!spec || !real_write || !real_open) return;
    config.ops = OP_ALL;
    config.error = EIO;
    char copy[8192];
    snprintf(copy, sizeof copy, "%s", spec);
    const char *process = NULL;
    for (char *save = NULL, *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
        char *value = strchr(word, '=');
        if (!value) continue;
        *value++ = 0;
        if (strcmp(word, "nth") == 0) config.nth = atol(value);
        else if (strcmp(word, "persist") == 0) config.persist = atoi(value);
        else if (strcmp(word, "errno") == 0) config.error = parse_errno(value);
        else if (strcmp(word, "ops") == 0) config.ops = parse_ops(value);
        else if (strcmp(word, "log") == 0) snprintf(config.log, sizeof config.log, "%s", value);
        else if (strcmp(word, "process") == 0) process = strstr(spec, "process=") + strlen("process=");
    }
    char words[1024] = "";
    if (process) { snprintf(words, sizeof words, "%s", process); words[strcspn(words, " ")] = 0; }
    config.active = !process || process_matches(words);
}

__attribute__((destructor)) static void fault_injection_exit(void) {
    if (!config.active || !config.log[0]) return;
    char line[128];
    snprintf(line, sizeof line, "exit pid %d ops %ld\n", (int)getpid(), __atomic_load_n(&config.count, __ATOMIC_SEQ_CST));
    append_log(line);
}

/// Counts one operation of kind `op` on `path` (or descriptor `fd` when path is NULL); returns 1 if it
/// must fail, with errno set.
static int inject(int op, const char *path, int fd) {
    if (!config.active || !(config.ops & op)) return 0;
    long n = __atomic_add_fetch(&config.count, 1, __ATOMIC_SEQ_CST);
    if (config.nth <= 0 || n < config.nth || (n > config.nth && !config.persist)) return 0;
    char where[4096] = "?";
    if (path) snprintf(where, sizeof where, "%s", path);
    else {
        char link[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t len = readlink(link, where, sizeof where - 1);
        where[len > 0 ? len : 1] = 0;
    }
    char line[4300];
    snprintf(line, sizeof line, "fired %s #%ld errno %d %s\n", op_name(op), n, config.error, where);
    if (n == config.nth) append_log(line);
    errno = config.error;
    return 1;
}

static int is_regular(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static int opens_for_writing(int flags) { return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0; }

/// Devices, pipes and sockets opened by name (/dev/null, /dev/tty) are not file-system writes.
static int is_special_at(int dir, const char *path) {
    struct stat st;
    return fstatat(dir, path, &st, 0) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}
static int is_special(const char *path) { return is_special_at(AT_FDCWD, path); }
static int mode_writes(const char *mode) { return mode && (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+')); }

// open and friends take a mode only with O_CREAT or O_TMPFILE; reading it otherwise is harmless on
// the ABIs glibc supports, and passing it on unchanged is what libc expects.
#define WRAP_OPEN(name, ...)                                                       \
    int name(__VA_ARGS__, int flags, ...) {                                        \
        va_list ap; va_start(ap, flags); mode_t mode = va_arg(ap, mode_t); va_end(ap);

WRAP_OPEN(open, const char *path)
    if (config.active && opens_for_writing(flags) && !is_special(path) && inject(OP_OPEN, path, -1)) return -1;
    return REAL(open)(path, flags, mode);
}
WRAP_OPEN(open64, const char *path)
    if (config.active && opens_for_writing(flags) && !is_special(path) && inject(OP_OPEN, path, -1)) return -1;
    return REAL(open64)(path, flags, mode);
}
WRAP_OPEN(openat, int dir, const char *path)
    if (config.active && opens_for_writing(flags) && !is_special_at(dir, path) && inject(OP_OPEN, path, -1)) return -1;
    return REAL(openat)(dir, path, flags, mode);
}
WRAP_OPEN(openat64, int dir, const char *path)
    if (config.active && opens_for_writing(flags) && !is_special_at(dir, path) && inject(OP_OPEN, path, -1)) return -1;
    return REAL(openat64)(dir, path, flags, mode);
}

int creat(const char *path, mode_t mode) {
    if (inject(OP_OPEN, path, -1)) return -1;
    return REAL(creat)(path, mode);
}
int creat64(const char *path, mode_t mode) {
    if (inject(OP_OPEN, path, -1)) return -1;
    return REAL(creat64)(path, mode);
}

FILE *fopen(const char *path, const char *mode) {
    if (config.active && mode_writes(mode) && !is_special(path) && inject(OP_OPEN, path, -1)) return NULL;
    return REAL(fopen)(path, mode);
}
FILE *fopen64(const char *path, const char *mode) {
    if (config.active && mode_writes(mode) && !is_special(path) && inject(OP_OPEN, path, -1)) return NULL;
    return REAL(fopen64)(path, mode);
}
FILE *freopen(const char *path, const char *mode, FILE *stream) {
    if (config.active && path && mode_writes(mode) && !is_special(path) && inject(OP_OPEN, path, -1)) return NULL;
    return REAL(freopen)(path, mode, stream);
}

ssize_t write(int fd, const void *buf, size_t count) {
    if (config.active && is_regular(fd) && inject(OP_WRITE, NULL, fd)) return -1;
    return real_write(fd, buf, count);
}
ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    if (config.active && is_regular(fd) && inject(OP_WRITE, NULL, fd)) return -1;
    return REAL(pwrite)(fd, buf, count, offset);
}
ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
    if (config.active && is_regular(fd) && inject(OP_WRITE, NULL, fd)) return -1;
    return REAL(pwrite64)(fd, buf, count, offset);
}
ssize_t writev(int fd, const struct iovec *iov, int count) {
    if (config.active && is_regular(fd) && inject(OP_WRITE, NULL, fd)) return -1;
    return REAL(writev)(fd, iov, count);
}
ssize_t pwritev(int fd, const struct iovec *iov, int count, off_t offset) {
    if (config.active && is_regular(fd) && inject(OP_WRITE, NULL, fd)) return -1;
    return REAL(pwritev)(fd, iov, count, offset);
}
int fsync(int fd) {
    if (inject(OP_FSYNC, NULL, fd)) return -1;
    return REAL(fsync)(fd);
}
int fdatasync(int fd) {
    if (inject(OP_FSYNC, NULL, fd)) return -1;
    return REAL(fdatasync)(fd);
}

int rename(const char *from, const char *to) {
    if (inject(OP_RENAME, to, -1)) return -1;
    return REAL(rename)(from, to);
}
int renameat(int fromdir, const char *from, int todir, const char *to) {
    if (inject(OP_RENAME, to, -1)) return -1;
    return REAL(renameat)(fromdir, from, todir, to);
}
int renameat2(int fromdir, const char *from, int todir, const char *to, unsigned int flags) {
    if (inject(OP_RENAME, to, -1)) return -1;
    return REAL(renameat2)(fromdir, from, todir, to, flags);
}

int mkdir(const char *path, mode_t mode) {
    if (inject(OP_MKDIR, path, -1)) return -1;
    return REAL(mkdir)(path, mode);
}
int mkdirat(int dir, const char *path, mode_t mode) {
    if (inject(OP_MKDIR, path, -1)) return -1;
    return REAL(mkdirat)(dir, path, mode);
}
