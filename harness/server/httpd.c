/* SPDX-License-Identifier: MIT */
/*
 * httpd.c: see httpd.h.
 *
 * Threads.  The listening socket is bound in the caller's thread, so that a
 * bind failure is an ordinary GError of pp_httpd_start().  Accepting runs in
 * a server thread that iterates a private GMainContext; each accepted
 * connection is handled, with plain blocking I/O, in a thread of the
 * GThreadedSocketService pool.
 *
 * Lifetime.  Pool jobs can outlive pp_httpd_stop(): a connection accepted
 * just before the stop may be queued and run later.  So the PpHttpd is an
 * atomically refcounted box: one reference is the caller's, one belongs to
 * the "run" signal handler and is dropped when the service is finalized,
 * which GIO does only after its last job has returned.  A job that starts
 * after the stop sees `stopping` and returns at once.
 */
#include "server/httpd.h"
#include "common/error.h"
#include "common/json.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#define PP_HTTPD_MAX_THREADS 16         /* ostree fetches <= 8 in parallel */
#define PP_HTTPD_IO_TIMEOUT_S 30        /* a silent client is given up */
#define PP_HTTPD_MAX_HEAD 16384         /* request line + headers, bytes */
#define PP_HTTPD_CHUNK 65536            /* body bytes per write, no cap */

struct PpHttpd {
    char *root;                 /* as given */
    int root_fd;                /* O_PATH of root; every open is beneath it */
    guint16 port;
    char *url;
    PpHttpdOptions opts;        /* log_path points into log_path below */
    char *log_path;

    GMainContext *ctx;          /* the server thread's context */
    GMainLoop *loop;
    GThread *thread;
    GSocketService *service;

    GMutex lock;                /* guards everything below */
    GCond cond;                 /* n_active changes; stop wakes sleepers */
    gboolean stopping;
    GHashTable *active;         /* GSocketConnection* being served */
    guint n_active;
    GPtrArray *log;             /* PpHttpdRequest* */
    GOutputStream *log_out;     /* JSON lines, NULL = none */
    GHashTable *attempts;       /* request target -> times requested */
    guint64 n_requests;
    guint64 bytes_sent;
    guint64 n_faults;
    gint64 bw_next_us;          /* monotonic time the link is free again */
};

void
pp_httpd_request_free(PpHttpdRequest *r)
{
    if (r == NULL) {
        return;
    }
    g_free(r->method);
    g_free(r->path);
    g_free(r);
}

const char *
pp_httpd_fault_to_string(PpHttpdFault fault)
{
    switch (fault) {
    case PP_HTTPD_FAULT_DROP:
        return "drop";
    case PP_HTTPD_FAULT_STALL:
        return "stall";
    case PP_HTTPD_FAULT_5XX:
        return "5xx";
    case PP_HTTPD_FAULT_NONE:
    default:
        return "none";
    }
}

static const char *
reason_phrase(guint status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

/* The last reference: by then no pool job and no server thread is left. */
static void
httpd_clear(gpointer data)
{
    PpHttpd *h = data;
    if (h->root_fd >= 0) {
        close(h->root_fd);
    }
    g_free(h->root);
    g_free(h->url);
    g_free(h->log_path);
    g_clear_pointer(&h->loop, g_main_loop_unref);
    g_clear_pointer(&h->ctx, g_main_context_unref);
    g_clear_pointer(&h->active, g_hash_table_unref);
    g_clear_pointer(&h->log, g_ptr_array_unref);
    g_clear_pointer(&h->attempts, g_hash_table_unref);
    if (h->log_out != NULL) {
        g_output_stream_close(h->log_out, NULL, NULL);
        g_clear_object(&h->log_out);
    }
    g_mutex_clear(&h->lock);
    g_cond_clear(&h->cond);
}

static void
httpd_release(gpointer data, GClosure *closure)
{
    g_atomic_rc_box_release_full(data, httpd_clear);
}

/*
 * Sleep until the monotonic time end_us, or until the server stops.
 * Called with h->lock held.  Returns FALSE when stopping.
 */
static gboolean
sleep_until_locked(PpHttpd *h, gint64 end_us)
{
    while (!h->stopping) {
        if (!g_cond_wait_until(&h->cond, &h->lock, end_us)) {
            return TRUE;        /* timed out: end_us reached */
        }
    }
    return FALSE;
}

/*
 * Bandwidth cap: reserve the next n bytes of the shared link (a virtual
 * clock advanced by n / bandwidth per chunk), then sleep until the
 * reservation starts.  FALSE when stopping.
 */
static gboolean
throttle(PpHttpd *h, gsize n)
{
    if (h->opts.bandwidth == 0) {
        return TRUE;
    }
    g_mutex_lock(&h->lock);
    gint64 now = g_get_monotonic_time();
    gint64 start = MAX(now, h->bw_next_us);
    h->bw_next_us = start + (gint64)((guint64)n * G_USEC_PER_SEC
                                     / h->opts.bandwidth);
    gboolean ok = start <= now || sleep_until_locked(h, start);
    g_mutex_unlock(&h->lock);
    return ok;
}

/*
 * The fault for this request, drawn from (seed, target, attempt number of
 * this target): independent of the order in which parallel requests
 * arrive.  *out_at is the body offset where a drop or a stall happens,
 * *out_status the status a 5xx fault sends.
 */
static PpHttpdFault
decide_fault(PpHttpd *h, const char *target, guint64 size,
             guint64 *out_at, guint *out_status)
{
    const PpHttpdOptions *o = &h->opts;
    *out_at = 0;
    *out_status = 200;
    if (o->p_drop <= 0 && o->p_stall <= 0 && o->p_5xx <= 0) {
        return PP_HTTPD_FAULT_NONE;
    }
    g_mutex_lock(&h->lock);
    guint attempt = GPOINTER_TO_UINT(g_hash_table_lookup(h->attempts, target)) + 1;
    g_hash_table_replace(h->attempts, g_strdup(target), GUINT_TO_POINTER(attempt));
    g_mutex_unlock(&h->lock);

    guint32 seed[4] = {
        (guint32)o->fault_seed, (guint32)(o->fault_seed >> 32),
        g_str_hash(target), attempt,
    };
    g_autoptr(GRand) rand = g_rand_new_with_seed_array(seed, G_N_ELEMENTS(seed));
    double u = g_rand_double(rand);
    double at = g_rand_double(rand);
    gboolean use_503 = g_rand_boolean(rand);
    *out_at = (guint64)(at * (double)size);

    if (u < o->p_drop) {
        return PP_HTTPD_FAULT_DROP;
    }
    if (u < o->p_drop + o->p_stall) {
        return PP_HTTPD_FAULT_STALL;
    }
    if (u < o->p_drop + o->p_stall + o->p_5xx) {
        *out_status = use_503 ? 503 : 500;
        return PP_HTTPD_FAULT_5XX;
    }
    return PP_HTTPD_FAULT_NONE;
}

/* Append r to the in-memory log and, if configured, the JSON-lines file. */
static void
log_request(PpHttpd *h, PpHttpdRequest *r)
{
    g_autofree char *line = NULL;
    if (h->log_out != NULL) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(r->start_us / G_USEC_PER_SEC);
        g_autofree char *iso = g_date_time_format_iso8601(t);
        json_builder_begin_object(b);
        pp_json_add_string(b, "time", iso);
        pp_json_add_string(b, "method", r->method != NULL ? r->method : "");
        pp_json_add_string(b, "path", r->path != NULL ? r->path : "");
        pp_json_add_int(b, "status", r->status);
        pp_json_add_int(b, "bytes", (gint64)r->bytes);
        pp_json_add_int(b, "length", (gint64)r->length);
        pp_json_add_string(b, "fault", pp_httpd_fault_to_string(r->fault));
        pp_json_add_int(b, "duration_us", r->duration_us);
        json_builder_end_object(b);
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        g_autofree char *text = json_generator_to_data(gen, NULL);
        line = g_strconcat(text, "\n", NULL);
    }

    g_mutex_lock(&h->lock);
    h->n_requests++;
    h->bytes_sent += r->bytes;
    if (r->fault != PP_HTTPD_FAULT_NONE) {
        h->n_faults++;
    }
    if (line != NULL) {
        g_autoptr(GError) local_error = NULL;
        if (!g_output_stream_write_all(h->log_out, line, strlen(line), NULL,
                                       NULL, &local_error)) {
            /* A log that cannot be written must not take the server down
             * mid-update; say so once and stop logging to the file. */
            g_printerr("plugpull: httpd: write %s: %s (file log disabled)\n",
                       h->log_path, local_error->message);
            g_clear_object(&h->log_out);
        }
    }
    g_ptr_array_add(h->log, r);
    g_mutex_unlock(&h->lock);
}

static gboolean
send_head(GOutputStream *out, guint status, guint64 length, GError **error)
{
    g_autofree char *head = g_strdup_printf(
        "HTTP/1.1 %u %s\r\n"
        "Server: plugpull-httpd\r\n"
        "Content-Type: %s\r\n"
        "Content-Length: %" G_GUINT64_FORMAT "\r\n"
        "Connection: close\r\n"
        "\r\n",
        status, reason_phrase(status),
        status == 200 ? "application/octet-stream" : "text/plain",
        length);
    return g_output_stream_write_all(out, head, strlen(head), NULL, NULL, error);
}

/* A status with a one-line text body (none for HEAD). */
static void
send_status(GOutputStream *out, PpHttpdRequest *r, guint status)
{
    g_autofree char *body = g_strdup_printf("%u %s\n", status, reason_phrase(status));
    gboolean head_only = g_strcmp0(r->method, "HEAD") == 0;
    r->status = status;
    r->length = strlen(body);
    if (!send_head(out, status, r->length, NULL) || head_only) {
        return;
    }
    if (g_output_stream_write_all(out, body, strlen(body), NULL, NULL, NULL)) {
        r->bytes = strlen(body);
    }
}

/*
 * Map a request target to a path relative to the root: strip the query,
 * percent-decode, refuse "..", "%2F" and NUL.  Returns NULL with *status
 * set to the error status to send.
 */
static char *
target_to_relpath(const char *target, guint *status)
{
    if (target[0] != '/') {
        *status = 400;
        return NULL;
    }
    g_autofree char *raw = g_strndup(target, strcspn(target, "?#"));
    /* "/" as illegal: an encoded slash must not form a path separator. */
    g_autofree char *decoded = g_uri_unescape_string(raw, "/");
    if (decoded == NULL) {
        *status = 400;
        return NULL;
    }
    g_auto(GStrv) parts = g_strsplit(decoded, "/", -1);
    g_autoptr(GString) rel = g_string_new(NULL);
    for (char **p = parts; *p != NULL; p++) {
        if (**p == '\0' || strcmp(*p, ".") == 0) {
            continue;
        }
        if (strcmp(*p, "..") == 0) {
            *status = 403;
            return NULL;
        }
        if (rel->len > 0) {
            g_string_append_c(rel, '/');
        }
        g_string_append(rel, *p);
    }
    if (rel->len == 0) {
        g_string_append_c(rel, '.');
    }
    return g_string_free(g_steal_pointer(&rel), FALSE);
}

/*
 * Open relpath beneath the root.  openat2(RESOLVE_BENEATH) also refuses a
 * symlink inside the root that points out of it; kernels before 5.6 fall
 * back to openat, where the ".." check above is the only guard.
 */
static int
open_beneath(PpHttpd *h, const char *relpath)
{
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, h->root_fd, relpath, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) {
        fd = openat(h->root_fd, relpath, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    }
    return fd;
}

static guint
status_for_errno(int errsv)
{
    switch (errsv) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        return 404;
    case EACCES:
    case EPERM:
    case EXDEV:             /* RESOLVE_BENEATH: escapes the root */
    case ELOOP:
        return 403;
    default:
        return 500;
    }
}

/*
 * Send the body of fd, size bytes, honouring the bandwidth cap and a drop
 * or stall at byte `at`.  Counts what was sent in r->bytes.
 */
static void
send_body(PpHttpd *h, GOutputStream *out, int fd, guint64 size,
          PpHttpdFault fault, guint64 at, PpHttpdRequest *r)
{
    gsize chunk = PP_HTTPD_CHUNK;
    if (h->opts.bandwidth > 0) {
        /* ~20 chunks a second keeps the pacing smooth at any cap. */
        chunk = (gsize)CLAMP(h->opts.bandwidth / 20, 512, PP_HTTPD_CHUNK);
    }
    g_autofree guint8 *buf = g_malloc(chunk);
    gboolean stalled = FALSE;
    guint64 off = 0;
    while (off < size) {
        gsize want = (gsize)MIN((guint64)chunk, size - off);
        if ((fault == PP_HTTPD_FAULT_DROP || fault == PP_HTTPD_FAULT_STALL)
            && off < at) {
            want = (gsize)MIN((guint64)want, at - off);
        }
        if (fault == PP_HTTPD_FAULT_DROP && off == at) {
            return;             /* the caller closes: a truncated body */
        }
        if (fault == PP_HTTPD_FAULT_STALL && off == at && !stalled) {
            guint ms = h->opts.stall_ms != 0 ? h->opts.stall_ms : 2000;
            g_mutex_lock(&h->lock);
            gboolean ok = sleep_until_locked(h, g_get_monotonic_time()
                                                + (gint64)ms * 1000);
            g_mutex_unlock(&h->lock);
            if (!ok) {
                return;
            }
            stalled = TRUE;
        }
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n <= 0) {
            return;             /* file shrank or EIO: cut the body short */
        }
        if (!throttle(h, (gsize)n)) {
            return;
        }
        gsize written = 0;
        gboolean ok = g_output_stream_write_all(out, buf, (gsize)n, &written,
                                                NULL, NULL);
        off += written;
        r->bytes = off;
        if (!ok) {
            return;             /* the client went away */
        }
    }
}

static void
handle_connection(PpHttpd *h, GSocketConnection *conn, PpHttpdRequest *r)
{
    GSocket *sock = g_socket_connection_get_socket(conn);
    g_socket_set_timeout(sock, PP_HTTPD_IO_TIMEOUT_S);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_autoptr(GDataInputStream) din = g_data_input_stream_new(
        g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    g_data_input_stream_set_newline_type(din, G_DATA_STREAM_NEWLINE_TYPE_ANY);
    g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(din), FALSE);

    gsize len = 0;
    g_autofree char *line = g_data_input_stream_read_line(din, &len, NULL, NULL);
    if (line == NULL) {
        return;                 /* connected and said nothing */
    }
    gsize head_bytes = len;
    g_auto(GStrv) words = g_strsplit(line, " ", -1);
    if (g_strv_length(words) != 3 || !g_str_has_prefix(words[2], "HTTP/1.")) {
        r->method = g_strdup(words[0] != NULL ? words[0] : "");
        r->path = g_strdup(words[0] != NULL && words[1] != NULL ? words[1] : "");
        send_status(out, r, 400);
        return;
    }
    r->method = g_strdup(words[0]);
    r->path = g_strdup(words[1]);

    /* Headers: nothing in them changes the answer; read them so the
     * client is not reset while still sending. */
    for (;;) {
        g_autofree char *h_line = g_data_input_stream_read_line(din, &len, NULL, NULL);
        if (h_line == NULL) {
            return;
        }
        head_bytes += len;
        if (head_bytes > PP_HTTPD_MAX_HEAD) {
            send_status(out, r, 431);
            return;
        }
        if (len == 0) {
            break;
        }
    }

    gboolean head_only = strcmp(r->method, "HEAD") == 0;
    if (!head_only && strcmp(r->method, "GET") != 0) {
        send_status(out, r, 405);
        return;
    }
    guint status = 0;
    g_autofree char *rel = target_to_relpath(r->path, &status);
    if (rel == NULL) {
        send_status(out, r, status);
        return;
    }
    int fd = open_beneath(h, rel);
    if (fd < 0) {
        send_status(out, r, status_for_errno(errno));
        return;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        send_status(out, r, 404);
        return;
    }
    guint64 size = (guint64)st.st_size;

    guint64 at = 0;
    guint fault_status = 200;
    if (!head_only) {
        r->fault = decide_fault(h, r->path, size, &at, &fault_status);
    }
    if (r->fault == PP_HTTPD_FAULT_5XX) {
        close(fd);
        send_status(out, r, fault_status);
        return;
    }
    r->status = 200;
    r->length = size;
    if (send_head(out, 200, size, NULL) && !head_only) {
        send_body(h, out, fd, size, r->fault, at, r);
    }
    close(fd);
}

static gboolean
on_run(GThreadedSocketService *service, GSocketConnection *conn,
       GObject *source_object, gpointer user_data)
{
    PpHttpd *h = user_data;

    g_mutex_lock(&h->lock);
    if (h->stopping) {
        g_mutex_unlock(&h->lock);
        return TRUE;
    }
    g_hash_table_add(h->active, conn);
    h->n_active++;
    g_mutex_unlock(&h->lock);

    PpHttpdRequest *r = g_new0(PpHttpdRequest, 1);
    r->start_us = g_get_real_time();
    handle_connection(h, conn, r);
    /* Leave the set before closing: pp_httpd_stop() shuts down the sockets
     * in it, and must never touch a closed (maybe reused) descriptor.
     * Close before logging: once logged, a test may assume the client saw
     * the end of the response. */
    g_mutex_lock(&h->lock);
    g_hash_table_remove(h->active, conn);
    g_mutex_unlock(&h->lock);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    r->duration_us = g_get_real_time() - r->start_us;
    if (r->method != NULL) {
        log_request(h, r);      /* takes r */
    } else {
        pp_httpd_request_free(r);
    }

    g_mutex_lock(&h->lock);
    h->n_active--;
    g_cond_broadcast(&h->cond);
    g_mutex_unlock(&h->lock);
    return TRUE;
}

static gpointer
server_thread(gpointer data)
{
    PpHttpd *h = data;
    g_main_context_push_thread_default(h->ctx);
    g_main_loop_run(h->loop);
    /* Let the cancelled accept finish in this context. */
    while (g_main_context_iteration(h->ctx, FALSE)) {
    }
    g_main_context_pop_thread_default(h->ctx);
    return NULL;
}

static gboolean
stop_in_server_thread(gpointer data)
{
    PpHttpd *h = data;
    g_socket_service_stop(h->service);
    g_socket_listener_close(G_SOCKET_LISTENER(h->service));
    g_main_loop_quit(h->loop);
    return G_SOURCE_REMOVE;
}

/* socket + bind + listen on 127.0.0.1:port, errors naming the syscall. */
static GSocket *
listen_loopback(guint16 port, guint16 *out_port, GError **error)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        pp_throw_errno_prefix(error, "socket(AF_INET, SOCK_STREAM)");
        return NULL;
    }
    /* Lets a fixed port be reused while old connections sit in
     * TIME_WAIT; it does not allow two listeners on one port. */
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {
        .sin_family = AF_INET,
        .sin_port = htons(port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int errsv = errno;
        close(fd);
        errno = errsv;
        pp_throw_errno_prefix(error, "bind(127.0.0.1:%u)", port);
        return NULL;
    }
    if (listen(fd, 64) < 0) {
        int errsv = errno;
        close(fd);
        errno = errsv;
        pp_throw_errno_prefix(error, "listen(127.0.0.1:%u)", port);
        return NULL;
    }
    socklen_t salen = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) < 0) {
        int errsv = errno;
        close(fd);
        errno = errsv;
        pp_throw_errno_prefix(error, "getsockname(127.0.0.1:%u)", port);
        return NULL;
    }
    *out_port = ntohs(sa.sin_port);
    GSocket *s = g_socket_new_from_fd(fd, error);
    if (s == NULL) {
        close(fd);
        g_prefix_error(error, "g_socket_new_from_fd: ");
    }
    return s;
}

PpHttpd *
pp_httpd_start(const char *root, guint16 port, GError **error)
{
    return pp_httpd_start_full(root, port, NULL, error);
}

PpHttpd *
pp_httpd_start_full(const char *root, guint16 port,
                    const PpHttpdOptions *opts, GError **error)
{
    if (opts != NULL) {
        double p = opts->p_drop + opts->p_stall + opts->p_5xx;
        if (opts->p_drop < 0 || opts->p_stall < 0 || opts->p_5xx < 0 || p > 1.0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        "httpd: fault probabilities must be >= 0 and sum to "
                        "<= 1 (drop %g + stall %g + 5xx %g)",
                        opts->p_drop, opts->p_stall, opts->p_5xx);
            return NULL;
        }
    }
    int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
        pp_throw_errno_prefix(error, "open(%s)", root);
        return NULL;
    }
    g_autoptr(GOutputStream) log_out = NULL;
    if (opts != NULL && opts->log_path != NULL) {
        g_autoptr(GFile) f = g_file_new_for_path(opts->log_path);
        log_out = G_OUTPUT_STREAM(g_file_append_to(f, G_FILE_CREATE_NONE, NULL, error));
        if (log_out == NULL) {
            close(root_fd);
            g_prefix_error(error, "open log %s: ", opts->log_path);
            return NULL;
        }
    }
    guint16 bound = 0;
    g_autoptr(GSocket) sock = listen_loopback(port, &bound, error);
    if (sock == NULL) {
        close(root_fd);
        return NULL;
    }

    PpHttpd *h = g_atomic_rc_box_new0(PpHttpd);
    g_mutex_init(&h->lock);
    g_cond_init(&h->cond);
    h->root = g_strdup(root);
    h->root_fd = root_fd;
    h->port = bound;
    h->url = g_strdup_printf("http://127.0.0.1:%u", bound);
    if (opts != NULL) {
        h->opts = *opts;
        h->log_path = g_strdup(opts->log_path);
        h->opts.log_path = h->log_path;
    }
    h->log_out = g_steal_pointer(&log_out);
    h->active = g_hash_table_new(g_direct_hash, g_direct_equal);
    h->log = g_ptr_array_new_with_free_func((GDestroyNotify)pp_httpd_request_free);
    h->attempts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    h->ctx = g_main_context_new();
    h->loop = g_main_loop_new(h->ctx, FALSE);

    h->service = g_threaded_socket_service_new(PP_HTTPD_MAX_THREADS);
    g_signal_connect_data(h->service, "run", G_CALLBACK(on_run),
                          g_atomic_rc_box_acquire(h), httpd_release, 0);
    /* The service starts accepting as soon as it has a socket, in the
     * thread-default context of that moment: make it the server's. */
    g_main_context_push_thread_default(h->ctx);
    gboolean ok = g_socket_listener_add_socket(G_SOCKET_LISTENER(h->service),
                                               sock, NULL, error);
    g_main_context_pop_thread_default(h->ctx);
    if (!ok) {
        g_prefix_error(error, "listen 127.0.0.1:%u: ", bound);
        g_socket_listener_close(G_SOCKET_LISTENER(h->service));
        g_clear_object(&h->service);
        g_atomic_rc_box_release_full(h, httpd_clear);
        return NULL;
    }
    h->thread = g_thread_new("pp-httpd", server_thread, h);
    return h;
}

void
pp_httpd_stop(PpHttpd *h)
{
    if (h == NULL) {
        return;
    }
    g_mutex_lock(&h->lock);
    h->stopping = TRUE;
    /* Wake connections blocked in a read, a write or a stall. */
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, h->active);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_socket_shutdown(g_socket_connection_get_socket(key), TRUE, TRUE, NULL);
    }
    g_cond_broadcast(&h->cond);
    g_mutex_unlock(&h->lock);

    g_main_context_invoke(h->ctx, stop_in_server_thread, h);
    g_thread_join(h->thread);
    h->thread = NULL;

    g_mutex_lock(&h->lock);
    while (h->n_active > 0) {
        g_cond_wait(&h->cond, &h->lock);
    }
    g_mutex_unlock(&h->lock);

    /* Jobs still queued hold the service; the last one drops the
     * handler's reference on h. */
    g_clear_object(&h->service);
    g_atomic_rc_box_release_full(h, httpd_clear);
}

guint16
pp_httpd_get_port(PpHttpd *h)
{
    return h->port;
}

const char *
pp_httpd_get_url(PpHttpd *h)
{
    return h->url;
}

const char *
pp_httpd_get_root(PpHttpd *h)
{
    return h->root;
}

guint64
pp_httpd_get_n_requests(PpHttpd *h)
{
    g_mutex_lock(&h->lock);
    guint64 v = h->n_requests;
    g_mutex_unlock(&h->lock);
    return v;
}

guint64
pp_httpd_get_bytes_sent(PpHttpd *h)
{
    g_mutex_lock(&h->lock);
    guint64 v = h->bytes_sent;
    g_mutex_unlock(&h->lock);
    return v;
}

guint64
pp_httpd_get_n_faults(PpHttpd *h)
{
    g_mutex_lock(&h->lock);
    guint64 v = h->n_faults;
    g_mutex_unlock(&h->lock);
    return v;
}

GPtrArray *
pp_httpd_dup_log(PpHttpd *h)
{
    GPtrArray *copy = g_ptr_array_new_with_free_func(
        (GDestroyNotify)pp_httpd_request_free);
    g_mutex_lock(&h->lock);
    for (guint i = 0; i < h->log->len; i++) {
        const PpHttpdRequest *r = h->log->pdata[i];
        PpHttpdRequest *c = g_memdup2(r, sizeof *r);
        c->method = g_strdup(r->method);
        c->path = g_strdup(r->path);
        g_ptr_array_add(copy, c);
    }
    g_mutex_unlock(&h->lock);
    return copy;
}
