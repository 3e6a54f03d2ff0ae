/*
 * util.h: small helpers every layer of the harness uses.  Knows nothing of
 * the layers above it.
 */
#ifndef PP_UTIL_H
#define PP_UTIL_H

#include <gio/gio.h>
#include <json-glib/json-glib.h>

/* mkdir -p, with an error naming the syscall and the path. */
gboolean pp_mkdir_p(const char *path, GError **error);

/*
 * A results directory: created when missing; refused when it holds
 * anything (results are never overwritten).
 */
gboolean pp_out_dir_prepare(const char *out, GError **error);

/* The version an ostree binary reports ("2022.7"), or "unknown". */
char *pp_ostree_version(const char *ostree);

/*
 * Run argv and wait for it.  FALSE when it could not be started or was
 * killed by a signal (the error says which); else its exit status.
 */
gboolean pp_spawn_wait(const char *const *argv, GSubprocessFlags flags,
                       int *out_status, GError **error);

/*
 * A directory of the source tree the program needs at run time (reports/,
 * images/): $ENV_VAR when set, else NAME beside the binary's directory
 * (build/../NAME).
 */
char *pp_data_dir(const char *env_var, const char *name, GError **error);

/*
 * Parse a JSON file whose root must be an object.  Returns the parser
 * (which owns *out) or NULL with an error naming the path.
 */
JsonParser *pp_json_load_object(const char *path, JsonObject **out,
                                 GError **error);

/*
 * A campaign file (DIR/campaign.json) of `kind` and `format`, for
 * --resume: a missing file says that DIR is no campaign of `command`; an
 * unreadable or foreign one says why it cannot be resumed.  Returns the
 * parser (which owns *out) or NULL.
 */
JsonParser *pp_campaign_file_load(const char *path, const char *dir,
                                  const char *command, const char *kind,
                                  gint64 format, JsonObject **out,
                                  GError **error);

/* Members of the small JSON files the harness keeps (campaign.json):
 * a string member, or NULL for a null one when nullable (errors name the
 * file); a string or null written. */
gboolean pp_json_get_string(JsonObject *o, const char *name,
                            gboolean nullable, const char *path, char **out,
                            GError **error);
void pp_json_add_string_or_null(JsonBuilder *b, const char *name,
                                const char *value);

/* --resume: append "\n  WHAT: GIVEN given, the campaign has HAS" to out
 * when an option was given (not NULL) and differs from the campaign's. */
void pp_campaign_disagree(GString *out, const char *what, const char *given,
                          const char *has);

/* splitmix64: the seeded generator of every draw that must be the same
 * on every machine (GRand's sequence is not promised across versions). */
guint64 pp_splitmix64(guint64 *state);

/* "90s", "15m", "2h", "1h30m", or plain seconds, into *out_s (> 0);
 * FALSE when malformed or zero. */
gboolean pp_parse_duration(const char *s, gint64 *out_s);

/* A descriptor closed when it goes out of scope (errno kept): pp_autofd
   int fd = open(...); -1 is left alone. */
void pp_close_fd_p(int *fd);
#define pp_autofd __attribute__((cleanup(pp_close_fd_p)))

#endif /* PP_UTIL_H */
