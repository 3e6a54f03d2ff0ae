/* SPDX-License-Identifier: MIT */
/*
 * httpd.h: the TreeHub stand-in, a small static HTTP/1.1 file server.
 *
 * Room server/: the update server and what it serves (this HTTP stand-in
 * for TreeHub, the fixture repos).  Includes common/ and cfaultinject/
 * only.
 *
 * It serves GET and HEAD of regular files below one root directory on
 * 127.0.0.1 only (never on a routable address: it exists so that ostree's
 * real HTTP fetcher runs against loopback, see the research notes, section
 * 4, pitfall 9).  Every response carries Content-Length and
 * "Connection: close"; there is no keep-alive, no Range and no directory
 * listing, none of which ostree needs.
 *
 * It runs in a thread of its own with its own GMainContext (connections are
 * handled in a small thread pool), so the thread that started it may block
 * in a subprocess, e.g. an `ostree pull` from it.
 *
 * Faults.  A server can be told to misbehave the way a real update server
 * or a flaky link does: cap the bandwidth, and on some responses drop the
 * connection after N body bytes, stall for a while mid-body, or answer 5xx
 * instead of the file.  Every decision is a pure function of (seed, request
 * path, how many times that path was requested before), never of arrival
 * order, so a run with the same seed misbehaves the same way although
 * ostree fetches in parallel, and a retried request is a new draw, as it
 * would be on a real flaky link.
 */
#ifndef PP_HTTPD_H
#define PP_HTTPD_H

#include <gio/gio.h>

typedef struct PpHttpd PpHttpd;

typedef enum {
    PP_HTTPD_FAULT_NONE = 0,
    PP_HTTPD_FAULT_DROP = 1,    /* close the connection after N body bytes */
    PP_HTTPD_FAULT_STALL = 2,   /* pause stall_ms after N body bytes */
    PP_HTTPD_FAULT_5XX = 3,     /* answer 500 or 503 with an empty body */
} PpHttpdFault;

typedef struct {
    guint64 bandwidth;          /* bytes/s, shared by all connections; 0 = no cap */
    const char *log_path;       /* append one JSON line per request; NULL = none */
    guint64 fault_seed;         /* seed of every fault decision */
    double p_drop;              /* probability per GET of each fault, 0..1; */
    double p_stall;             /*   at most one fault fires per request */
    double p_5xx;
    guint stall_ms;             /* length of a stall (0 = 2000 ms) */
} PpHttpdOptions;

/* One served request, as logged. */
typedef struct {
    char *method;               /* "GET", "HEAD", or what the client sent */
    char *path;                 /* request target as sent (before decoding) */
    guint status;               /* HTTP status sent; 0 = no response (bad request line) */
    guint64 bytes;              /* body bytes sent */
    guint64 length;             /* Content-Length announced (0 if none) */
    PpHttpdFault fault;         /* fault injected into this response */
    gint64 start_us;            /* g_get_real_time() at accept */
    gint64 duration_us;
} PpHttpdRequest;

void pp_httpd_request_free(PpHttpdRequest *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHttpdRequest, pp_httpd_request_free)

/*
 * Start serving root on 127.0.0.1:port (port 0: a free port, see
 * pp_httpd_get_port()).  Returns once the socket is listening.  A port in
 * use fails with G_IO_ERROR_ADDRESS_IN_USE, "bind 127.0.0.1:PORT: Address
 * already in use".
 */
PpHttpd *pp_httpd_start(const char *root, guint16 port, GError **error);
/* The same with options; opts may be NULL. */
PpHttpd *pp_httpd_start_full(const char *root, guint16 port,
                             const PpHttpdOptions *opts, GError **error);

/*
 * Stop accepting, cut the connections in flight, wait for their threads,
 * stop the server thread and free everything.  NULL is a no-op.
 */
void pp_httpd_stop(PpHttpd *httpd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHttpd, pp_httpd_stop)

guint16 pp_httpd_get_port(PpHttpd *httpd);
/* "http://127.0.0.1:PORT" (no trailing slash), owned by httpd. */
const char *pp_httpd_get_url(PpHttpd *httpd);
const char *pp_httpd_get_root(PpHttpd *httpd);

/* Requests answered (any status), body bytes sent, faults injected. */
guint64 pp_httpd_get_n_requests(PpHttpd *httpd);
guint64 pp_httpd_get_bytes_sent(PpHttpd *httpd);
guint64 pp_httpd_get_n_faults(PpHttpd *httpd);

/* A copy of the log so far, oldest first (element: PpHttpdRequest*). */
GPtrArray *pp_httpd_dup_log(PpHttpd *httpd);

/* "drop", "stall", "5xx" or "none". */
const char *pp_httpd_fault_to_string(PpHttpdFault fault);

#endif /* PP_HTTPD_H */
