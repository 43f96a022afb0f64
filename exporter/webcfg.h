/* webcfg: the web configuration file of --web.config.file, in the exporter-toolkit format
 * (web-config.yml): TLS for libmicrohttpd (GnuTLS), client certificates, extra response
 * headers and HTTP basic authentication against bcrypt hashes.
 *
 * A loaded configuration does not change; reloading builds a new one. Only the cache of
 * successful password checks inside it changes, under its own lock, so one configuration
 * may be used by every connection thread at once. */
#ifndef SLOE_WEBCFG_H
#define SLOE_WEBCFG_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    WEBCFG_MAX_FILE_BYTES = 1024 * 1024, /* the web config file, and each PEM file it names */
    WEBCFG_MAX_USERS = 1000,             /* basic_auth_users entries */
    WEBCFG_MAX_LIST = 100,               /* cipher_suites, curve_preferences, client_allowed_sans */
    WEBCFG_MAX_AUTH_HEADER = 4096,       /* bytes of an Authorization header value */
    WEBCFG_MAX_PASSWORD = 72,            /* bytes bcrypt reads; longer passwords are refused */
    WEBCFG_MAX_BCRYPT_COST = 18,         /* a check at cost 18 takes seconds already */
    WEBCFG_CACHE_MAX = 256,              /* successful checks remembered */
};

/* The client_auth_type policies, named as in Go's crypto/tls. */
enum webcfg_client_auth {
    WEBCFG_CLIENT_AUTH_NONE,            /* NoClientCert (the default) */
    WEBCFG_CLIENT_AUTH_REQUEST,         /* RequestClientCert: asked for, never checked */
    WEBCFG_CLIENT_AUTH_REQUIRE_ANY,     /* RequireAnyClientCert: required, not verified */
    WEBCFG_CLIENT_AUTH_VERIFY_IF_GIVEN, /* VerifyClientCertIfGiven */
    WEBCFG_CLIENT_AUTH_REQUIRE_VERIFY,  /* RequireAndVerifyClientCert */
};

/* One extra response header from http_server_config.headers. */
struct webcfg_header {
    const char *name;
    const char *value;
};

struct webcfg;

/* Reads the web configuration file at path (at most WEBCFG_MAX_FILE_BYTES) and the PEM files
 * it names (relative paths are taken from the file's directory, as exporter-toolkit does).
 * On success returns 0 and stores a new configuration in *out, which the caller frees with
 * webcfg_free. On failure returns -1, leaves *out NULL and writes every problem, one
 * "FILE:LINE:COL: message" line each, into err (truncated to err_size; err may be NULL).
 * Messages name the file and the field and never quote a secret (a key, a hash). */
int webcfg_load(const char *path, struct webcfg **out, char *err, size_t err_size)
    __attribute__((warn_unused_result));

/* As webcfg_load, for text already in memory (len bytes, need not be NUL-terminated). name
 * is used in messages and to resolve relative paths. data is not kept. */
int webcfg_load_buffer(const char *name, const char *data, size_t len, struct webcfg **out,
                       char *err, size_t err_size) __attribute__((warn_unused_result));

/* Wipes the secrets (private key, password hashes, cache) and frees c. NULL is allowed. */
void webcfg_free(struct webcfg *c);

/* Whether the server must speak TLS (tls_server_config has a certificate and key). */
bool webcfg_tls_enabled(const struct webcfg *c);

/* The certificate chain, private key and client CA bundle as NUL-terminated PEM text, for
 * MHD_OPTION_HTTPS_MEM_CERT, _KEY and _TRUST; NULL when not configured. Owned by c. */
const char *webcfg_tls_cert_pem(const struct webcfg *c);
const char *webcfg_tls_key_pem(const struct webcfg *c);
const char *webcfg_tls_ca_pem(const struct webcfg *c);

/* The GnuTLS priority string for MHD_OPTION_HTTPS_PRIORITIES, honouring min_version,
 * max_version, cipher_suites, prefer_server_cipher_suites and curve_preferences (for example
 * "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"); NULL without TLS. It has
 * been checked with gnutls_priority_init. Owned by c. */
const char *webcfg_tls_priorities(const struct webcfg *c);

/* The client certificate policy, and its name in the file ("RequireAndVerifyClientCert"). */
enum webcfg_client_auth webcfg_client_auth(const struct webcfg *c);
const char *webcfg_client_auth_name(enum webcfg_client_auth a);

/* Applies the client certificate policy to a peer's chain (DER certificates, leaf first, as
 * gnutls_certificate_get_peers gives them; n may be 0): checks presence, verification
 * against the client CA (for client use, at the current time) and client_allowed_sans.
 * Returns 0 when the peer may go on, -1 when it must be refused, with the reason in why
 * (may be NULL). libmicrohttpd only asks for a certificate when given a trust list: the
 * server must call this (or webcfg_verify_session) before answering a request. */
int webcfg_verify_peer(const struct webcfg *c, const gnutls_datum_t *chain, unsigned n, char *why,
                       size_t why_size) __attribute__((warn_unused_result));

/* webcfg_verify_peer on the peer certificates of a TLS session (from
 * MHD_CONNECTION_INFO_GNUTLS_SESSION). Returns 0 without TLS. */
int webcfg_verify_session(const struct webcfg *c, gnutls_session_t s, char *why, size_t why_size)
    __attribute__((warn_unused_result));

/* The extra response headers (blank values left out); *n receives their number. Owned by c. */
const struct webcfg_header *webcfg_headers(const struct webcfg *c, size_t *n);

/* http_server_config.http2 (default true). sloe speaks HTTP/1.1 only, so it changes nothing;
 * it is kept for a faithful reading of the file. */
bool webcfg_http2(const struct webcfg *c);

/* rate_limit: returns true and fills the refill interval and burst when a limit is set (an
 * interval above 0); serve.c enforces it. */
bool webcfg_rate_limit(const struct webcfg *c, int64_t *interval_ms, unsigned *burst);

/* Whether requests need basic authentication (basic_auth_users is not empty). */
bool webcfg_auth_required(const struct webcfg *c);

/* Checks an Authorization header value ("Basic base64(user:password)"; NULL when the request
 * had none) against basic_auth_users. Returns true when the request may go on: always when
 * no users are configured, otherwise only for a known user with the right password. An
 * unknown user costs a bcrypt computation too, so timing does not tell users apart.
 * Successes are cached under an HMAC-SHA-256 of user, password and hash (never the password
 * itself), so a repeated scrape does not pay for bcrypt again. Thread-safe. */
bool webcfg_check_basic(struct webcfg *c, const char *authorization);

/* Counts of basic-auth checks so far: those that ran bcrypt and those answered from the
 * cache. Either pointer may be NULL. */
void webcfg_auth_stats(struct webcfg *c, uint64_t *computed, uint64_t *cached);

#endif
