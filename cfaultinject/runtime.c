/* SPDX-License-Identifier: MIT */
/*
 * runtime.c: the shim's hand-written core.  See runtime.h for the life of
 * one intercepted call.
 *
 * Rules this file keeps, because it runs inside somebody else's program:
 *  - Real functions are called only through cfi_real (resolved in one
 *    place, gen/wrappers.c): calling write() here would re-enter our own
 *    wrapper.
 *  - A per-thread guard makes every libc call the shim itself makes while
 *    handling a call pass straight through.
 *  - errno is the client's: the wrappers capture it right after the real
 *    call and restore it after our bookkeeping; we never clear it.
 *  - No malloc, no stdio, no locks on the call path.  Shared state is
 *    either written once at load (the configuration) or touched with
 *    atomics (counters).  The fd table tolerates races: a torn or stale
 *    entry only costs one extra readlink.
 */
#include "runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cfi-calls.h"
#include "cfi-real.h"
#include "config.h"
#include "interposer.h"
#include "splitmix64.h"
#include "tracewriter.h"

enum {
    STATE_UNINIT = 0,
    STATE_INIT = 1,     /* constructor running: pass everything through */
    STATE_ACTIVE = 2,   /* trace, fault or crash */
    STATE_OFF = 3,      /* no CFAULTINJECT, or mode=passthrough */
};

static int cfi_state;
static struct cfi_config cfg;
static __thread int cfi_guard;
static int cfi_frozen;

/*
 * Process and thread ids, asked of the kernel once: every record carries
 * them, and on a virtual machine two extra system calls per record were a
 * third of the tracing cost.  A forked child starts over (atfork handler).
 */
static uint32_t cached_pid;
static __thread uint32_t cached_tid;

static uint32_t
my_pid(void)
{
    uint32_t p = __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
    if (p == 0) {
        p = (uint32_t)getpid();
        __atomic_store_n(&cached_pid, p, __ATOMIC_RELAXED);
    }
    return p;
}

static uint32_t
my_tid(void)
{
    if (cached_tid == 0) {
        cached_tid = (uint32_t)gettid();
    }
    return cached_tid;
}

static void
forget_ids_in_child(void)
{
    __atomic_store_n(&cached_pid, 0, __ATOMIC_RELAXED);
    cached_tid = 0;
}

/*
 * What we last saw behind each descriptor.  When fstat() of the fd still
 * gives the same file, records need no path: the reader knows it from the
 * OPEN record.  Otherwise (an fd opened read-only, dup'ed, inherited) the
 * record carries the path read from /proc/self/fd.
 */
#define FD_TABLE_SIZE 65536
/* Pieces of a vectored write kept in a record; the rest is flagged. */
#define CFI_DATA_IOV_MAX 256
struct fd_slot {
    uint64_t dev;
    uint64_t ino;
};
static struct fd_slot fd_table[FD_TABLE_SIZE];

/* ---- small helpers without stdio ------------------------------------- */

static size_t
fmt_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0, i = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) {
        out[i++] = tmp[--n];
    }
    out[i] = '\0';
    return i;
}

/* Append s to buf[*pos] within cap, always NUL-terminated. */
static void
buf_put(char *buf, size_t cap, size_t *pos, const char *s)
{
    while (*s != '\0' && *pos + 1 < cap) {
        buf[(*pos)++] = *s++;
    }
    buf[*pos] = '\0';
}

static void
say(const char *a, const char *b, const char *c)
{
    char msg[1024];
    size_t pos = 0;
    buf_put(msg, sizeof msg, &pos, "cfaultinject: ");
    buf_put(msg, sizeof msg, &pos, a);
    buf_put(msg, sizeof msg, &pos, b != NULL ? b : "");
    buf_put(msg, sizeof msg, &pos, c != NULL ? c : "");
    buf_put(msg, sizeof msg, &pos, "\n");
    if (cfi_real.write != NULL) {
        (void)!cfi_real.write(2, msg, pos);
    }
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- paths ----------------------------------------------------------- */

/* readlink /proc/self/fd/N into out; returns length or -1. */
static ssize_t
fd_path(int fd, char *out, size_t cap)
{
    char link[40] = "/proc/self/fd/";
    fmt_u64(link + 14, (uint64_t)fd);
    ssize_t n = readlink(link, out, cap - 1);
    if (n < 0) {
        out[0] = '\0';
        return -1;
    }
    out[n] = '\0';
    return n;
}

/*
 * Lexical clean-up of an absolute path in place: "//" and "/./" fold,
 * ".." pops a component.  ostree writes "openat(dfd, ".", O_TMPFILE)", so
 * "." matters; ".." is rare and a lexical answer is what the reader needs
 * to name the same entry again.
 */
static void
normalise(char *p)
{
    char *out = p;
    const char *in = p;
    while (*in != '\0') {
        while (*in == '/') {
            in++;
        }
        if (*in == '\0') {
            break;
        }
        const char *end = in;
        while (*end != '\0' && *end != '/') {
            end++;
        }
        size_t len = (size_t)(end - in);
        if (len == 1 && in[0] == '.') {
            /* skip */
        } else if (len == 2 && in[0] == '.' && in[1] == '.') {
            while (out > p && *--out != '/') {
            }
        } else {
            *out++ = '/';
            memmove(out, in, len);
            out += len;
        }
        in = end;
    }
    if (out == p) {
        *out++ = '/';
    }
    *out = '\0';
}

static void
resolve_at(int dirfd, const char *path, char *out, size_t cap)
{
    size_t n = 0;
    if (path == NULL) {
        out[0] = '\0';
        return;
    }
    if (path[0] == '/') {
        out[0] = '\0';
    } else if (dirfd == AT_FDCWD) {
        if (getcwd(out, cap) == NULL) {
            out[0] = '\0';
        }
    } else if (fd_path(dirfd, out, cap) < 0) {
        out[0] = '\0';
    }
    n = strnlen(out, cap);
    if (path[0] != '\0' && path[0] != '/' && n + 1 < cap) {
        out[n++] = '/';
        out[n] = '\0';
    }
    buf_put(out, cap, &n, path);
    if (out[0] == '/') {
        normalise(out);
    }
}

/* "/proc/self/fd/N" -> N, else -1. */
static int
proc_self_fd(const char *path)
{
    static const char prefix[] = "/proc/self/fd/";
    if (path == NULL || strncmp(path, prefix, sizeof prefix - 1) != 0) {
        return -1;
    }
    const char *p = path + sizeof prefix - 1;
    int v = 0;
    if (*p == '\0') {
        return -1;
    }
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > 1000000) {
            return -1;
        }
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* ---- fd identity ------------------------------------------------------ */

/* fstat fd; fill identity and kind; on a changed file, the path too. */
static int
probe_fd(struct cfi_call *c, int fd, int want_path)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        return -1;
    }
    c->dev = (uint64_t)st.st_dev;
    c->ino = (uint64_t)st.st_ino;
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        c->fd_kind = 1;
    } else if (S_ISDIR(st.st_mode)) {
        c->fd_kind = 2;
        c->rflags |= CFI_RF_DIR;
    } else {
        c->fd_kind = 3;
        return 0;
    }
    if (fd >= 0 && fd < FD_TABLE_SIZE) {
        struct fd_slot *s = &fd_table[fd];
        if (s->dev == c->dev && s->ino == c->ino && s->ino != 0) {
            return 0;
        }
        s->dev = c->dev;
        s->ino = c->ino;
    }
    if (want_path && fd_path(fd, c->rpath, sizeof c->rpath) >= 0) {
        c->rflags |= CFI_RF_PATH_FROM_FD;
    }
    return 0;
}

/*
 * Was fd opened for writing under the shim (or written through since)?
 * Only then is its close a state change worth a record.
 */
static int
fd_is_tracked(int fd)
{
    struct stat st;
    if (fd < 0 || fd >= FD_TABLE_SIZE || fd_table[fd].ino == 0
        || fstat(fd, &st) < 0) {
        return 0;
    }
    return fd_table[fd].dev == (uint64_t)st.st_dev
           && fd_table[fd].ino == (uint64_t)st.st_ino;
}

void
cfi_fd_forget(int fd)
{
    if (fd >= 0 && fd < FD_TABLE_SIZE) {
        fd_table[fd].dev = 0;
        fd_table[fd].ino = 0;
    }
}

int
cfi_is_tracked_open(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))
           || (flags & O_TMPFILE) == O_TMPFILE;
}

/* ---- initialisation --------------------------------------------------- */

static char config_file_buf[65536];

static const char *
load_config_text(const char *env)
{
    if (env[0] != '@') {
        return env;
    }
    int fd = cfi_real.open(env + 1, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        say("CFAULTINJECT: cannot open config file '", env + 1, "'");
        _exit(CFI_EXIT_CONFIG);
    }
    size_t used = 0;
    for (;;) {
        ssize_t n = read(fd, config_file_buf + used,
                         sizeof config_file_buf - 1 - used);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        used += (size_t)n;
        if (used == sizeof config_file_buf - 1) {
            say("CFAULTINJECT: config file larger than 64 KiB: '", env + 1,
                "'");
            _exit(CFI_EXIT_CONFIG);
        }
    }
    cfi_real.close(fd);
    config_file_buf[used] = '\0';
    return config_file_buf;
}

__attribute__((constructor(101))) static void
cfi_init(void)
{
    if (__atomic_load_n(&cfi_state, __ATOMIC_ACQUIRE) != STATE_UNINIT) {
        return;
    }
    __atomic_store_n(&cfi_state, STATE_INIT, __ATOMIC_RELEASE);
    cfi_resolve_all();
    pthread_atfork(NULL, NULL, forget_ids_in_child);

    const char *env = getenv("CFAULTINJECT");
    if (env == NULL || env[0] == '\0') {
        __atomic_store_n(&cfi_state, STATE_OFF, __ATOMIC_RELEASE);
        return;
    }
    char err[512];
    if (cfi_config_parse(load_config_text(env), &cfg, err, sizeof err) < 0) {
        say("CFAULTINJECT: ", err, "");
        _exit(CFI_EXIT_CONFIG);
    }
    if (cfg.mode == CFI_MODE_PASSTHROUGH) {
        __atomic_store_n(&cfi_state, STATE_OFF, __ATOMIC_RELEASE);
        return;
    }
    if (cfg.trace_path[0] != '\0') {
        int rc = cfi_tw_open(cfg.trace_path, cfg.data_mode);
        if (rc < 0) {
            say("cannot open trace '", cfg.trace_path, "': ");
            say("  ", strerror(-rc), "");
            _exit(CFI_EXIT_CONFIG);
        }
    }
    /* Still STATE_INIT: what the probes call passes straight through. */
    cfi_interposers_probe();
    cfi_interposers_record();
    __atomic_store_n(&cfi_state, STATE_ACTIVE, __ATOMIC_RELEASE);
}

/* ---- the crash ------------------------------------------------------- */

/*
 * One line to the controller: "CFI-CRASH pid=..." when the client stops
 * here, "CFI-MARK label=L pid=..." when a mark rule announces a call.
 */
static void
notify_controller(const struct cfi_call *c, int after, const char *label)
{
    char msg[PATH_MAX + 256];
    char num[24];
    size_t pos = 0;
    if (label != NULL) {
        buf_put(msg, sizeof msg, &pos, "CFI-MARK label=");
        buf_put(msg, sizeof msg, &pos, label);
        buf_put(msg, sizeof msg, &pos, " pid=");
    } else {
        buf_put(msg, sizeof msg, &pos, "CFI-CRASH pid=");
    }
    fmt_u64(num, (uint64_t)getpid());
    buf_put(msg, sizeof msg, &pos, num);
    buf_put(msg, sizeof msg, &pos, " seq=");
    fmt_u64(num, c->seq);
    buf_put(msg, sizeof msg, &pos, num);
    buf_put(msg, sizeof msg, &pos, " call=");
    buf_put(msg, sizeof msg, &pos, cfi_call_name(c->id));
    buf_put(msg, sizeof msg, &pos, after ? " timing=after path=" : " timing=before path=");
    buf_put(msg, sizeof msg, &pos, c->rpath[0] != '\0' ? c->rpath : "-");
    buf_put(msg, sizeof msg, &pos, "\n");

    if (cfg.notify_fd >= 0) {
        (void)!cfi_real.write(cfg.notify_fd, msg, pos);
    }
    if (cfg.notify_unix[0] != '\0') {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s >= 0) {
            struct sockaddr_un sa;
            memset(&sa, 0, sizeof sa);
            sa.sun_family = AF_UNIX;
            memcpy(sa.sun_path, cfg.notify_unix, strlen(cfg.notify_unix));
            if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
                (void)!cfi_real.write(s, msg, pos);
            }
            cfi_real.close(s);
        }
    }
}

__attribute__((noreturn)) static void
stop_client(const struct cfi_rule *r)
{
    if (r->kill == CFI_KILL_WAIT) {
        /* Every thread that enters the shim from now on parks too. */
        __atomic_store_n(&cfi_frozen, 1, __ATOMIC_SEQ_CST);
        for (;;) {
            pause();
        }
    }
    kill(getpid(), SIGKILL);
    for (;;) {
        pause();
    }
}

static void park_forever(void) __attribute__((noreturn));
static void
park_forever(void)
{
    for (;;) {
        pause();
    }
}

/* ---- recording -------------------------------------------------------- */

static void
emit(struct cfi_call *c, int64_t result, int err)
{
    if (cfi_tw_fd() < 0) {
        return;
    }
    struct cfi_rec rec;
    struct iovec data[CFI_DATA_IOV_MAX];
    int ndata = 0;
    size_t data_len = 0;
    void *readback = NULL;
    size_t readback_len = 0;

    memset(&rec, 0, sizeof rec);
    rec.call = c->id;
    rec.op = c->op;
    rec.seq = c->seq;
    rec.time_ns = c->t0;
    rec.pid = my_pid();
    rec.tid = my_tid();
    rec.result = result;
    rec.err = err;
    rec.fd = c->fd;
    rec.fd2 = c->fd2;
    rec.flags = c->rflags;
    if (c->op != CFI_OP_FREEZE && c->op != CFI_OP_THAW) {
        /* FIFREEZE is libc's own syncfs (custom.c), whatever is preloaded. */
        rec.flags |= cfi_next_rflags(c->id);
    }
    rec.arg = c->arg;
    rec.arg2 = c->arg2;
    rec.off = c->off_kind == CFI_OFF_NONE ? -1 : c->off;
    rec.off2 = c->off2;
    rec.len = c->len;
    rec.dev = c->dev;
    rec.ino = c->ino;
    rec.dev2 = c->dev2;
    rec.ino2 = c->ino2;

    if (c->op == CFI_OP_OPEN) {
        rec.fd = (int32_t)result;
        if (result >= 0) {
            struct cfi_call tmp;
            tmp.fd_kind = 0;
            tmp.rflags = 0;
            tmp.rpath[0] = '\0';
            if (probe_fd(&tmp, (int)result, 0) == 0) {
                rec.dev = tmp.dev;
                rec.ino = tmp.ino;
                rec.flags |= tmp.rflags & CFI_RF_DIR;
            }
        }
        if ((c->arg & O_TMPFILE) == O_TMPFILE) {
            rec.flags |= CFI_RF_TMPFILE;
        }
    }

    if ((c->op == CFI_OP_WRITE || c->op == CFI_OP_COPY) && result > 0) {
        if (c->off_kind == CFI_OFF_CUR) {
            off_t pos = lseek(c->fd, 0, SEEK_CUR);
            rec.off = pos >= 0 ? (int64_t)pos - result : -1;
        }
        size_t want = (size_t)result;
        if (c->op == CFI_OP_WRITE && c->buf != NULL) {
            data[0].iov_base = (void *)c->buf;
            data[0].iov_len = want;
            ndata = 1;
            data_len = want;
        } else if (c->op == CFI_OP_WRITE && c->iov != NULL) {
            for (int i = 0; i < c->iovcnt && want > 0 && ndata < CFI_DATA_IOV_MAX; i++) {
                size_t take = c->iov[i].iov_len < want ? c->iov[i].iov_len : want;
                data[ndata].iov_base = c->iov[i].iov_base;
                data[ndata++].iov_len = take;
                data_len += take;
                want -= take;
            }
            if (want > 0) {
                rec.flags |= CFI_RF_DATA_TRUNC;
            }
        } else if (c->op == CFI_OP_COPY && cfi_tw_data_mode() == CFI_DATA_FULL) {
            /*
             * The kernel copied the bytes without showing them to us: read
             * them again from the source (the destination is often
             * write-only), or else from where they landed.
             */
            int64_t src_off = c->off2;
            if (src_off < 0) {
                off_t pos = lseek(c->fd2, 0, SEEK_CUR);
                src_off = pos >= 0 ? (int64_t)pos - result : -1;
            }
            rec.off2 = src_off;
            readback_len = want;
            readback = mmap(NULL, readback_len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (readback != MAP_FAILED
                && ((src_off >= 0
                     && pread(c->fd2, readback, want, src_off) == (ssize_t)want)
                    || (rec.off >= 0
                        && pread(c->fd, readback, want, rec.off) == (ssize_t)want))) {
                data[0].iov_base = readback;
                data[0].iov_len = want;
                ndata = 1;
                data_len = want;
            } else {
                rec.flags |= CFI_RF_DATA_TRUNC;
            }
        }
    } else if (c->op == CFI_OP_SETXATTR && c->buf != NULL) {
        data[0].iov_base = (void *)c->buf;
        data[0].iov_len = (size_t)c->len;
        ndata = 1;
        data_len = (size_t)c->len;
    } else if (c->op == CFI_OP_UTIMES && c->times != NULL) {
        data[0].iov_base = (void *)c->times;
        data[0].iov_len = 2 * sizeof(struct timespec);
        ndata = 1;
        data_len = data[0].iov_len;
    }

    const char *p1 = c->op == CFI_OP_SYMLINK ? c->target : c->rpath;
    const char *p2 = c->op == CFI_OP_SETXATTR ? c->xname : c->rpath2;
    size_t l1 = p1 != NULL ? strnlen(p1, PATH_MAX) : 0;
    size_t l2 = p2 != NULL ? strnlen(p2, PATH_MAX) : 0;
    (void)cfi_tw_append(&rec, p1, l1, p2, l2, data, ndata, data_len);

    if (readback != NULL && readback != MAP_FAILED) {
        munmap(readback, readback_len);
    }
}

/* ---- rules ------------------------------------------------------------ */

static int
rule_selects(const struct cfi_rule *r, const struct cfi_call *c)
{
    if (!r->any_call) {
        int by_call = (r->calls[c->id / 64] >> (c->id % 64)) & 1;
        int by_op = (r->ops >> c->op) & 1;
        if (!by_call && !by_op) {
            return 0;
        }
    }
    if (r->glob[0] != '\0') {
        if (!cfi_glob_match(r->glob, c->rpath)
            && !cfi_glob_match(r->glob, c->rpath2)) {
            return 0;
        }
    }
    return 1;
}

static int
rule_fires(struct cfi_rule *r, int idx, const struct cfi_call *c)
{
    uint64_t n = __atomic_add_fetch(&r->matches, 1, __ATOMIC_SEQ_CST);
    if (r->nth != 0 && n != r->nth) {
        return 0;
    }
    if (r->has_seq && c->seq != r->seq) {
        return 0;
    }
    if (r->has_prob) {
        uint64_t s = cfg.seed ^ ((uint64_t)idx << 48) ^ n;
        uint64_t x = cfi_splitmix64(&s);
        if (r->prob != UINT64_MAX && x >= r->prob) {
            return 0;
        }
    }
    return 1;
}

/* ---- the call path ----------------------------------------------------- */

int
cfi_enter(struct cfi_call *c, unsigned id, unsigned op)
{
    int st = __atomic_load_n(&cfi_state, __ATOMIC_ACQUIRE);
    if (st == STATE_UNINIT) {
        /* Called from another library's constructor before ours ran. */
        cfi_init();
        st = __atomic_load_n(&cfi_state, __ATOMIC_ACQUIRE);
    }
    if (st != STATE_ACTIVE || cfi_guard) {
        return 0;
    }
    if (__atomic_load_n(&cfi_frozen, __ATOMIC_ACQUIRE)) {
        park_forever();
    }
    cfi_guard = 1;
    c->id = (uint16_t)id;
    c->op = (uint16_t)op;
    c->fd = -1;
    c->fd2 = -1;
    c->dirfd = AT_FDCWD;
    c->dirfd2 = AT_FDCWD;
    c->path = NULL;
    c->path2 = NULL;
    c->target = NULL;
    c->arg = 0;
    c->arg2 = 0;
    c->off = -1;
    c->off2 = -1;
    c->off_kind = CFI_OFF_NONE;
    c->len = 0;
    c->buf = NULL;
    c->iov = NULL;
    c->iovcnt = 0;
    c->xname = NULL;
    c->has_reduce = 0;
    c->removedir_flags = 0;
    c->times = NULL;
    c->active = 0;
    c->rule = -1;
    c->after_action = 0;
    c->mark_after = 0;
    c->inj_errno = 0;
    c->reduced_len = 0;
    c->rflags = 0;
    c->seq = 0;
    c->t0 = 0;
    c->dev = c->ino = c->dev2 = c->ino2 = 0;
    c->fd_kind = 0;
    c->rpath[0] = '\0';
    c->rpath2[0] = '\0';
    return 1;
}

int
cfi_pre(struct cfi_call *c)
{
    if (c->fd >= 0) {
        if (c->fd == cfi_tw_fd() || c->fd == cfg.notify_fd) {
            return CFI_ACT_RUN;
        }
        if (c->op == CFI_OP_CLOSE && !fd_is_tracked(c->fd)) {
            /* Closing a descriptor nothing was written through. */
            cfi_fd_forget(c->fd);
            return CFI_ACT_RUN;
        }
        if (probe_fd(c, c->fd, 1) < 0 || c->fd_kind == 3) {
            /* A bad fd (the call will fail by itself), a pipe, a socket. */
            if (c->op == CFI_OP_CLOSE) {
                cfi_fd_forget(c->fd);
            }
            return CFI_ACT_RUN;
        }
    }
    if (c->op == CFI_OP_CLOSE) {
        /*
         * Forget the number before the close frees it, never after: once
         * it is free another thread's open may get it and fill the slot,
         * and a forget after the close would clear that.  The new
         * holder's next call would then come with the path read from
         * /proc, which for an O_TMPFILE names nothing ("#123 (deleted)"),
         * and the replay would lose that call (an object's first bytes).
         */
        cfi_fd_forget(c->fd);
    }
    if (c->fd2 >= 0) {
        struct stat st;
        if (fstat(c->fd2, &st) == 0) {
            c->dev2 = (uint64_t)st.st_dev;
            c->ino2 = (uint64_t)st.st_ino;
        }
    }
    if (c->path != NULL) {
        int pfd = c->op == CFI_OP_LINK ? proc_self_fd(c->path) : -1;
        if (c->op == CFI_OP_LINK && c->path[0] == '\0'
            && (c->arg & AT_EMPTY_PATH)) {
            pfd = c->dirfd;
        }
        if (pfd >= 0) {
            struct stat st;
            c->fd2 = pfd;
            c->rflags |= CFI_RF_FROM_FD;
            if (fstat(pfd, &st) == 0) {
                c->dev2 = (uint64_t)st.st_dev;
                c->ino2 = (uint64_t)st.st_ino;
            }
            size_t n = 0;
            c->rpath[0] = '\0';
            buf_put(c->rpath, sizeof c->rpath, &n, "/proc/self/fd/");
            fmt_u64(c->rpath + n, (uint64_t)pfd);
        } else {
            resolve_at(c->dirfd, c->path, c->rpath, sizeof c->rpath);
        }
    }
    if (c->path2 != NULL) {
        resolve_at(c->dirfd2, c->path2, c->rpath2, sizeof c->rpath2);
    }
    if (c->removedir_flags & AT_REMOVEDIR) {
        c->op = CFI_OP_RMDIR;
    }

    c->active = 1;
    c->seq = cfi_tw_next_seq();
    c->t0 = now_ns();

    for (int i = 0; i < cfg.n_rules; i++) {
        struct cfi_rule *r = &cfg.rules[i];
        if (!rule_selects(r, c) || !rule_fires(r, i, c)) {
            continue;
        }
        if (r->action == CFI_RULE_MARK) {
            /* A mark changes nothing and wins nothing: the rules after it
               still look at this call. */
            if (r->timing == CFI_TIMING_AFTER) {
                c->mark_after = i + 1;
            } else {
                notify_controller(c, 0, r->label);
            }
            continue;
        }
        c->rule = i;
        if (r->action == CFI_RULE_CRASH) {
            if (r->timing == CFI_TIMING_AFTER) {
                c->after_action = CFI_RULE_CRASH;
                c->rflags |= CFI_RF_CRASH | CFI_RF_AFTER;
                return CFI_ACT_RUN;
            }
            c->rflags |= CFI_RF_CRASH | CFI_RF_NOT_EXECUTED;
            emit(c, 0, 0);
            notify_controller(c, 0, NULL);
            stop_client(r);
        }
        /* A fault. */
        c->rflags |= CFI_RF_INJECTED;
        c->inj_errno = r->err != 0 ? r->err : EIO;
        if (r->is_short && c->has_reduce && c->len > 1) {
            c->reduced_len = c->len / 2;
            c->rflags |= CFI_RF_SHORT;
            if (r->timing == CFI_TIMING_AFTER) {
                c->after_action = CFI_RULE_FAULT;
                c->rflags |= CFI_RF_AFTER;
            }
            return CFI_ACT_SHORT;
        }
        if (r->timing == CFI_TIMING_AFTER) {
            c->after_action = CFI_RULE_FAULT;
            c->rflags |= CFI_RF_AFTER;
            return CFI_ACT_RUN;
        }
        c->rflags |= CFI_RF_NOT_EXECUTED;
        return CFI_ACT_FAIL;
    }
    return CFI_ACT_RUN;
}

int64_t
cfi_post(struct cfi_call *c, int64_t result, int *err)
{
    if (!c->active) {
        /* A close forgot its number in cfi_pre, before the call. */
        cfi_guard = 0;
        return result;
    }
    /*
     * An after-fault reports failure for a call that did (part of) its
     * work, like a write that reached the page cache before EIO.  The
     * record keeps what really happened (the bytes written) in result and
     * data, and the reported errno in err: readers see CFI_RF_AFTER.
     */
    int64_t recorded = result;
    int rec_err = result < 0 ? *err : 0;
    if (c->after_action == CFI_RULE_FAULT) {
        rec_err = c->inj_errno;
    }
    emit(c, recorded, rec_err);
    if (c->after_action == CFI_RULE_FAULT) {
        result = -1;
        *err = c->inj_errno;
    }
    if (c->mark_after > 0) {
        notify_controller(c, 1, cfg.rules[c->mark_after - 1].label);
    }
    if (c->after_action == CFI_RULE_CRASH) {
        notify_controller(c, 1, NULL);
        stop_client(&cfg.rules[c->rule]);
    }
    cfi_guard = 0;
    return result;
}
