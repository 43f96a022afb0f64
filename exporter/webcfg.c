#include "webcfg.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "arena.h"
#include "diag.h"
#include "duration.h"
#include "ydoc.h"

enum {
    WEBCFG_MAX_KEYS = 100, /* entries of any mapping but basic_auth_users */
    WEBCFG_MAX_HEADER_VALUE = 4096,
    WEBCFG_MAX_CHAIN = 16,      /* certificates a client may present */
    WEBCFG_BCRYPT_LEN = 60,     /* "$2b$10$" + 22 salt + 31 hash characters */
    WEBCFG_BCRYPT_SETTING = 29, /* the "$2b$10$" + salt part */
};

struct webcfg_user {
    const char *name; /* in the arena */
    char *hash;       /* malloc'd; wiped on free */
};

struct webcfg_cache_entry {
    uint8_t key[32]; /* HMAC-SHA-256 of user, password and hash */
    uint64_t used;   /* tick of the last use; 0 marks a free slot */
};

struct webcfg {
    struct arena arena; /* names, paths, header values, the priority string */
    bool tls;
    char *cert_pem; /* malloc'd, NUL-terminated */
    char *key_pem;  /* malloc'd, NUL-terminated; secret, wiped on free */
    size_t key_len;
    char *ca_pem; /* malloc'd, NUL-terminated; NULL without client CA */
    const char *priorities;
    enum webcfg_client_auth client_auth;
    const char **sans;
    size_t n_sans;
    gnutls_x509_trust_list_t trust; /* built from ca_pem; NULL without */
    struct webcfg_header *headers;
    size_t n_headers;
    bool http2;
    int64_t rate_interval_ms;
    unsigned rate_burst;
    struct webcfg_user *users;
    size_t n_users;
    char dummy_hash[WEBCFG_BCRYPT_LEN + 1]; /* checked against for unknown users */
    uint8_t mac_key[32];                    /* random, keys the cache HMAC */
    pthread_mutex_t crypt_lock;             /* serialises bcrypt; guards cd */
    struct crypt_data *cd;                  /* NULL without users */
    pthread_mutex_t cache_lock;             /* guards cache, tick and the counters */
    struct webcfg_cache_entry cache[WEBCFG_CACHE_MAX];
    uint64_t tick, computed, cached;
};

/* The state of one load: the document being read and the problems found. */
struct webcfg_loader {
    struct ydoc yd;
    struct diag_list diags;
    const char *dir; /* directory of the file with a trailing '/', or "" */
    struct webcfg *c;
};

static const char *const webcfg_top_keys[] = {"tls_server_config", "http_server_config",
                                              "basic_auth_users", "rate_limit", NULL};
static const char *const webcfg_tls_keys[] = {"cert",
                                              "key",
                                              "client_ca",
                                              "cert_file",
                                              "key_file",
                                              "client_auth_type",
                                              "client_ca_file",
                                              "client_allowed_sans",
                                              "min_version",
                                              "max_version",
                                              "cipher_suites",
                                              "prefer_server_cipher_suites",
                                              "curve_preferences",
                                              NULL};
static const char *const webcfg_http_keys[] = {"http2", "headers", NULL};
static const char *const webcfg_rate_keys[] = {"interval", "burst", NULL};

/* The headers exporter-toolkit lets one set, and the values it accepts (NULL: any). */
static const struct {
    const char *name;
    const char *values[3];
} webcfg_header_rules[] = {
    {"Content-Security-Policy", {NULL}},
    {"X-Frame-Options", {"deny", "sameorigin", NULL}},
    {"X-Content-Type-Options", {"nosniff", NULL}},
    {"X-XSS-Protection", {NULL}},
    {"Strict-Transport-Security", {NULL}},
};
static const char *const webcfg_header_names[] = {"Content-Security-Policy",   "X-Frame-Options",
                                                  "X-Content-Type-Options",    "X-XSS-Protection",
                                                  "Strict-Transport-Security", NULL};

static const struct {
    const char *name;
    enum webcfg_client_auth auth;
} webcfg_auth_names[] = {
    {"NoClientCert", WEBCFG_CLIENT_AUTH_NONE},
    {"RequestClientCert", WEBCFG_CLIENT_AUTH_REQUEST},
    {"RequireAnyClientCert", WEBCFG_CLIENT_AUTH_REQUIRE_ANY},
    {"RequireClientCert", WEBCFG_CLIENT_AUTH_REQUIRE_ANY}, /* exporter-toolkit's old name */
    {"VerifyClientCertIfGiven", WEBCFG_CLIENT_AUTH_VERIFY_IF_GIVEN},
    {"RequireAndVerifyClientCert", WEBCFG_CLIENT_AUTH_REQUIRE_VERIFY},
};
static const char *const webcfg_auth_list[] = {"NoClientCert",
                                               "RequestClientCert",
                                               "RequireAnyClientCert",
                                               "RequireClientCert",
                                               "VerifyClientCertIfGiven",
                                               "RequireAndVerifyClientCert",
                                               NULL};

static const char *const webcfg_version_names[] = {"TLS10", "TLS11", "TLS12", "TLS13", NULL};

/* Go's curve names and the GnuTLS groups they are. */
static const struct {
    const char *name;
    const char *group;
} webcfg_curves[] = {
    {"CurveP256", "GROUP-SECP256R1"},
    {"CurveP384", "GROUP-SECP384R1"},
    {"CurveP521", "GROUP-SECP521R1"},
    {"X25519", "GROUP-X25519"},
};
static const char *const webcfg_curve_names[] = {"CurveP256", "CurveP384", "CurveP521", "X25519",
                                                 NULL};

/* The cipher suites Go's tls.CipherSuites() names, as GnuTLS key exchange, cipher and MAC.
 * The TLS 1.3 suites (kx NULL) cannot be configured in Go either and are accepted as no-ops. */
static const struct webcfg_suite {
    const char *name;
    const char *kx, *cipher, *mac;
} webcfg_suites[] = {
    {"TLS_AES_128_GCM_SHA256", NULL, "AES-128-GCM", "AEAD"},
    {"TLS_AES_256_GCM_SHA384", NULL, "AES-256-GCM", "AEAD"},
    {"TLS_CHACHA20_POLY1305_SHA256", NULL, "CHACHA20-POLY1305", "AEAD"},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "AES-128-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "AES-256-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "AES-128-GCM", "AEAD"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"},
};
enum { WEBCFG_N_SUITES = sizeof(webcfg_suites) / sizeof(webcfg_suites[0]) };

/* ---- Small helpers ---- */

static void *webcfg_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (p == NULL)
        abort();
    return p;
}

/* Compares n bytes in time that depends on n only. */
static bool webcfg_ct_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *pa = a, *pb = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(pa[i] ^ pb[i]);
    return diff == 0;
}

/* A YAML null (absent value): an empty or ~ or null plain scalar. */
static bool webcfg_null(const yaml_node_t *n)
{
    if (n == NULL)
        return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)n->data.scalar.value;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* The value of key in mapping n, NULL when absent or null. */
static yaml_node_t *webcfg_get(struct webcfg_loader *l, yaml_node_t *n, const char *key)
{
    yaml_node_t *v = ydoc_get(&l->yd, n, key);
    return webcfg_null(v) ? NULL : v;
}

/* Checks a mapping's keys against allowed, with a cap on its size first (the duplicate
 * check is quadratic). Returns 0 when n is a mapping that may be read. */
static int webcfg_map(struct webcfg_loader *l, yaml_node_t *n, const char *what,
                      const char *const *allowed, int cap)
{
    int len = ydoc_map_len(n);
    if (len > cap) {
        ydoc_error(&l->yd, n, "%s has %d entries; the limit is %d", what, len, cap);
        return -1;
    }
    return ydoc_map(&l->yd, n, what, allowed);
}

/* Reads a string field; "" counts as absent. Returns 0 with *out set (NULL when absent). */
static int webcfg_string(struct webcfg_loader *l, yaml_node_t *map, const char *key,
                         const char *what, const char **out, yaml_node_t **node)
{
    *out = NULL;
    yaml_node_t *v = webcfg_get(l, map, key);
    if (node != NULL)
        *node = v;
    if (v == NULL)
        return 0;
    const char *s;
    if (ydoc_str(&l->yd, v, what, &s) != 0)
        return -1;
    *out = s[0] ? s : NULL;
    return 0;
}

/* Finds s in a NULL-terminated list; returns its index or -1 after reporting the problem
 * with the closest name as a suggestion. */
static int webcfg_choose(struct webcfg_loader *l, yaml_node_t *n, const char *what, const char *s,
                         const char *const *names)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    const char *hint = ydoc_suggest(s, names);
    if (hint != NULL)
        ydoc_error(&l->yd, n, "%s: unknown value \"%.60s\" (did you mean \"%s\"?)", what, s, hint);
    else
        ydoc_error(&l->yd, n, "%s: unknown value \"%.60s\"", what, s);
    return -1;
}

/* Reads a regular file of at most cap bytes into a malloc'd NUL-terminated buffer. Returns
 * 0, or -1 with a reason in why. FIFOs and devices are refused without blocking on them. */
static int webcfg_read_file(const char *path, size_t cap, char **data, size_t *len, char *why,
                            size_t why_size)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "not a regular file");
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > cap) {
        snprintf(why, why_size, "the file is %lld bytes; the limit is %zu", (long long)st.st_size,
                 cap);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size + 1, n = 0;
    char *buf = webcfg_xcalloc(1, size + 1);
    for (;;) {
        ssize_t got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(why, why_size, "%s", strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == size) { /* grew while we read it */
            snprintf(why, why_size, "the file changed while it was read");
            explicit_bzero(buf, size);
            free(buf);
            close(fd);
            return -1;
        }
    }
    close(fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* ---- tls_server_config ---- */

/* Reads one PEM source: inline text under key_inline or a file under key_file (both is an
 * error). The secret flag keeps the text out of every message. Returns the node to report
 * later problems at, with *pem malloc'd (NULL when neither is given). *field names the key
 * used. Returns NULL with *failed set on an error already reported. */
static yaml_node_t *webcfg_pem(struct webcfg_loader *l, yaml_node_t *tls, const char *key_inline,
                               const char *key_file, char **pem, size_t *len, const char **field,
                               bool *failed)
{
    struct ydoc *d = &l->yd;
    *pem = NULL;
    *len = 0;
    *field = key_file;
    yaml_node_t *vi = webcfg_get(l, tls, key_inline);
    yaml_node_t *vf = webcfg_get(l, tls, key_file);
    if (vi != NULL && vf != NULL) {
        ydoc_error(d, vf, "tls_server_config: give %s or %s, not both", key_file, key_inline);
        *failed = true;
        return NULL;
    }
    if (vi != NULL) {
        *field = key_inline;
        const char *s = ydoc_scalar(vi);
        if (s == NULL || strlen(s) != vi->data.scalar.length) {
            ydoc_error(d, vi, "tls_server_config.%s must be a string holding PEM text", key_inline);
            *failed = true;
            return NULL;
        }
        *len = vi->data.scalar.length;
        *pem = webcfg_xcalloc(1, *len + 1);
        memcpy(*pem, s, *len);
        return vi;
    }
    if (vf == NULL)
        return NULL;
    char what[64];
    snprintf(what, sizeof(what), "tls_server_config.%s", key_file);
    const char *path;
    if (ydoc_str(d, vf, what, &path) != 0) {
        *failed = true;
        return NULL;
    }
    if (path[0] == '\0')
        return NULL;
    const char *full = path[0] == '/' ? path : arena_printf(&l->c->arena, "%s%s", l->dir, path);
    char why[160];
    if (webcfg_read_file(full, WEBCFG_MAX_FILE_BYTES, pem, len, why, sizeof(why)) != 0) {
        ydoc_error(d, vf, "%s: cannot read \"%.200s\": %s", what, full, why);
        *failed = true;
        return NULL;
    }
    return vf;
}

/* Checks that cert holds certificates and key a private key that belongs to the first. */
static void webcfg_check_pair(struct webcfg_loader *l, yaml_node_t *cn, const char *cfield,
                              yaml_node_t *kn, const char *kfield)
{
    struct ydoc *d = &l->yd;
    struct webcfg *c = l->c;
    gnutls_datum_t cd = {(unsigned char *)c->cert_pem, (unsigned)strlen(c->cert_pem)};
    gnutls_datum_t kd = {(unsigned char *)c->key_pem, (unsigned)c->key_len};
    gnutls_x509_crt_t *crts = NULL;
    unsigned n = 0;
    int rc = gnutls_x509_crt_list_import2(&crts, &n, &cd, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || n == 0) {
        ydoc_error(d, cn, "tls_server_config.%s: no PEM certificate could be read (%s)", cfield,
                   rc < 0 ? gnutls_strerror(rc) : "none found");
        return;
    }
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);

    gnutls_x509_privkey_t pk;
    if (gnutls_x509_privkey_init(&pk) < 0)
        abort();
    rc = gnutls_x509_privkey_import2(pk, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_x509_privkey_deinit(pk);
    if (rc == GNUTLS_E_DECRYPTION_FAILED) {
        ydoc_error(d, kn,
                   "tls_server_config.%s: the private key is encrypted; sloe needs it "
                   "unencrypted (as exporter-toolkit does)",
                   kfield);
        return;
    }
    if (rc < 0) {
        ydoc_error(d, kn, "tls_server_config.%s: no PEM private key could be read (%s)", kfield,
                   gnutls_strerror(rc));
        return;
    }

    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        abort();
    rc = gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(cred);
    if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
        ydoc_error(d, kn,
                   "tls_server_config.%s: the private key does not belong to the certificate "
                   "in %s",
                   kfield, cfield);
    else if (rc < 0)
        ydoc_error(d, kn, "tls_server_config: the certificate and key cannot be used (%s)",
                   gnutls_strerror(rc));
}

static void webcfg_check_ca(struct webcfg_loader *l, yaml_node_t *n, const char *field)
{
    struct webcfg *c = l->c;
    gnutls_datum_t d = {(unsigned char *)c->ca_pem, (unsigned)strlen(c->ca_pem)};
    if (gnutls_x509_trust_list_init(&c->trust, 0) < 0)
        abort();
    int rc = gnutls_x509_trust_list_add_trust_mem(c->trust, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
    if (rc <= 0)
        ydoc_error(&l->yd, n, "tls_server_config.%s: no PEM CA certificate could be read (%s)",
                   field, rc < 0 ? gnutls_strerror(rc) : "none found");
}

/* Reads a list of strings (at most WEBCFG_MAX_LIST); returns its length or -1. */
static int webcfg_list(struct webcfg_loader *l, yaml_node_t *n, const char *what,
                       const char **items, yaml_node_t **nodes)
{
    int len = ydoc_seq_len(&l->yd, n, what);
    if (len < 0)
        return -1;
    if (len > WEBCFG_MAX_LIST) {
        ydoc_error(&l->yd, n, "%s has %d entries; the limit is %d", what, len, WEBCFG_MAX_LIST);
        return -1;
    }
    for (int i = 0; i < len; i++) {
        nodes[i] = ydoc_item(&l->yd, n, i);
        if (nodes[i] == NULL || ydoc_str(&l->yd, nodes[i], what, &items[i]) != 0)
            return -1;
    }
    return len;
}

/* Appends "+name" to a ':'-separated list when it is not there yet. */
static void webcfg_add_unique(const char **list, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], name) == 0)
            return;
    list[(*n)++] = name;
}

/* Turns cipher_suites into GnuTLS key exchange, cipher and MAC lists. GnuTLS allows every
 * combination of these, so a list it cannot express exactly is refused rather than widened.
 * Returns the priority fragment, "" when there is nothing to restrict, or NULL on error. */
static const char *webcfg_ciphers(struct webcfg_loader *l, yaml_node_t *n, int min_v, int max_v)
{
    struct ydoc *d = &l->yd;
    const char *names[WEBCFG_MAX_LIST];
    yaml_node_t *nodes[WEBCFG_MAX_LIST];
    int len = webcfg_list(l, n, "tls_server_config.cipher_suites", names, nodes);
    if (len < 0)
        return NULL;
    bool listed[WEBCFG_N_SUITES] = {false};
    const char *kx[WEBCFG_N_SUITES], *ci[WEBCFG_N_SUITES], *mac[WEBCFG_N_SUITES];
    size_t nkx = 0, nci = 0, nmac = 0;
    bool any12 = false, aead = false, bad = false;
    const char *suite_names[WEBCFG_N_SUITES + 1];
    for (size_t s = 0; s < WEBCFG_N_SUITES; s++)
        suite_names[s] = webcfg_suites[s].name;
    suite_names[WEBCFG_N_SUITES] = NULL;
    for (int i = 0; i < len; i++) {
        int s =
            webcfg_choose(l, nodes[i], "tls_server_config.cipher_suites", names[i], suite_names);
        if (s < 0) {
            bad = true;
            continue;
        }
        const struct webcfg_suite *su = &webcfg_suites[s];
        if (su->kx == NULL)
            continue; /* a TLS 1.3 suite: not configurable, as in Go */
        listed[s] = true;
        any12 = true;
        aead |= strcmp(su->mac, "AEAD") == 0;
        webcfg_add_unique(kx, &nkx, su->kx);
        webcfg_add_unique(ci, &nci, su->cipher);
        webcfg_add_unique(mac, &nmac, su->mac);
    }
    if (bad)
        return NULL;
    if (len == 0 || min_v == 13)
        return ""; /* cipher_suites does not apply to TLS 1.3 */
    if (!any12) {
        ydoc_error(d, n, "tls_server_config.cipher_suites lists no TLS 1.2 cipher suite");
        return NULL;
    }
    for (size_t s = 0; s < WEBCFG_N_SUITES; s++) {
        const struct webcfg_suite *su = &webcfg_suites[s];
        if (su->kx == NULL || listed[s])
            continue;
        bool k = false, c = false, m = false;
        for (size_t i = 0; i < nkx; i++)
            k |= strcmp(kx[i], su->kx) == 0;
        for (size_t i = 0; i < nci; i++)
            c |= strcmp(ci[i], su->cipher) == 0;
        for (size_t i = 0; i < nmac; i++)
            m |= strcmp(mac[i], su->mac) == 0;
        if (k && c && m) {
            ydoc_error(d, n,
                       "tls_server_config.cipher_suites: GnuTLS chooses key exchanges, ciphers "
                       "and MACs separately, so this list would also allow %s; add it to the "
                       "list or drop the suites that combine into it",
                       su->name);
            return NULL;
        }
    }
    if (max_v == 13 && !aead) {
        ydoc_error(d, n,
                   "tls_server_config.cipher_suites lists no AEAD (GCM or ChaCha20) suite, "
                   "which TLS 1.3 needs; add one or set max_version: TLS12");
        return NULL;
    }
    struct arena *a = &l->c->arena;
    char *out = arena_strdup(a, ":-KX-ALL");
    for (size_t i = 0; i < nkx; i++)
        out = arena_printf(a, "%s:+%s", out, kx[i]);
    out = arena_printf(a, "%s:-CIPHER-ALL", out);
    for (size_t i = 0; i < nci; i++)
        out = arena_printf(a, "%s:+%s", out, ci[i]);
    out = arena_printf(a, "%s:-MAC-ALL", out);
    for (size_t i = 0; i < nmac; i++)
        out = arena_printf(a, "%s:+%s", out, mac[i]);
    return out;
}

/* Turns curve_preferences into a GnuTLS group list fragment, "" when absent, NULL on error. */
static const char *webcfg_groups(struct webcfg_loader *l, yaml_node_t *n)
{
    const char *names[WEBCFG_MAX_LIST];
    yaml_node_t *nodes[WEBCFG_MAX_LIST];
    int len = webcfg_list(l, n, "tls_server_config.curve_preferences", names, nodes);
    if (len < 0)
        return NULL;
    if (len == 0)
        return "";
    const char *groups[4];
    size_t ng = 0;
    bool bad = false;
    for (int i = 0; i < len; i++) {
        int k = webcfg_choose(l, nodes[i], "tls_server_config.curve_preferences", names[i],
                              webcfg_curve_names);
        if (k < 0)
            bad = true;
        else
            webcfg_add_unique(groups, &ng, webcfg_curves[k].group);
    }
    if (bad)
        return NULL;
    char *out = arena_strdup(&l->c->arena, ":-GROUP-ALL");
    for (size_t i = 0; i < ng; i++)
        out = arena_printf(&l->c->arena, "%s:+%s", out, groups[i]);
    return out;
}

/* Reads min_version or max_version; returns 12 or 13, def when absent, or -1. */
static int webcfg_version(struct webcfg_loader *l, yaml_node_t *tls, const char *key, int def)
{
    char what[64];
    snprintf(what, sizeof(what), "tls_server_config.%s", key);
    const char *s;
    yaml_node_t *n;
    if (webcfg_string(l, tls, key, what, &s, &n) != 0)
        return -1;
    if (s == NULL)
        return def;
    int i = webcfg_choose(l, n, what, s, webcfg_version_names);
    if (i < 0)
        return -1;
    if (i < 2) {
        ydoc_error(&l->yd, n,
                   "%s: %s is not accepted: sloe speaks TLS 1.2 and 1.3 only (TLS 1.0 and 1.1 "
                   "are deprecated, RFC 8996); use TLS12 or TLS13",
                   what, s);
        return -1;
    }
    return 10 + i;
}

/* Builds and checks the GnuTLS priority string. */
static void webcfg_priorities(struct webcfg_loader *l, yaml_node_t *tls, int min_v, int max_v,
                              bool prefer, const char *ciphers, const char *groups)
{
    struct webcfg *c = l->c;
    const char *vers = min_v == 13   ? "+VERS-TLS1.3"
                       : max_v == 12 ? "+VERS-TLS1.2"
                                     : "+VERS-TLS1.3:+VERS-TLS1.2";
    c->priorities = arena_printf(&c->arena, "NORMAL:-VERS-ALL:%s%s%s%s", vers,
                                 prefer ? ":%SERVER_PRECEDENCE" : "", ciphers, groups);
    gnutls_priority_t p;
    const char *errpos = NULL;
    int rc = gnutls_priority_init(&p, c->priorities, &errpos);
    if (rc < 0) {
        ydoc_error(&l->yd, tls, "tls_server_config: GnuTLS refuses the priorities \"%s\" (%s)",
                   c->priorities, gnutls_strerror(rc));
        return;
    }
    const unsigned int *protos = NULL;
    int np = gnutls_priority_protocol_list(p, &protos);
    for (int v = min_v; v <= max_v; v++) {
        unsigned want = v == 12 ? GNUTLS_TLS1_2 : GNUTLS_TLS1_3;
        bool found = false;
        for (int i = 0; i < np; i++)
            found |= protos[i] == want;
        if (!found)
            ydoc_error(&l->yd, tls,
                       "tls_server_config: with these cipher_suites and curve_preferences, "
                       "GnuTLS cannot offer TLS 1.%d; widen them or change min_version / "
                       "max_version",
                       v - 10);
    }
    gnutls_priority_deinit(p);
}

static void webcfg_tls(struct webcfg_loader *l, yaml_node_t *tls)
{
    struct ydoc *d = &l->yd;
    struct webcfg *c = l->c;
    if (webcfg_null(tls))
        return;
    if (webcfg_map(l, tls, "tls_server_config", webcfg_tls_keys, WEBCFG_MAX_KEYS) != 0)
        return;
    bool failed = false;
    size_t cert_len, ca_len;
    const char *cfield, *kfield, *cafield;
    yaml_node_t *cn =
        webcfg_pem(l, tls, "cert", "cert_file", &c->cert_pem, &cert_len, &cfield, &failed);
    yaml_node_t *kn =
        webcfg_pem(l, tls, "key", "key_file", &c->key_pem, &c->key_len, &kfield, &failed);
    yaml_node_t *can =
        webcfg_pem(l, tls, "client_ca", "client_ca_file", &c->ca_pem, &ca_len, &cafield, &failed);

    const char *auth;
    yaml_node_t *an;
    if (webcfg_string(l, tls, "client_auth_type", "tls_server_config.client_auth_type", &auth,
                      &an) != 0)
        failed = true;
    if (auth != NULL) {
        int i = webcfg_choose(l, an, "tls_server_config.client_auth_type", auth, webcfg_auth_list);
        if (i < 0)
            failed = true;
        else
            c->client_auth = webcfg_auth_names[i].auth;
    }

    int min_v = webcfg_version(l, tls, "min_version", 12);
    int max_v = webcfg_version(l, tls, "max_version", 13);
    bool prefer = true;
    yaml_node_t *pn = webcfg_get(l, tls, "prefer_server_cipher_suites");
    if (pn != NULL &&
        ydoc_bool(d, pn, "tls_server_config.prefer_server_cipher_suites", &prefer) != 0)
        failed = true;

    yaml_node_t *sn = webcfg_get(l, tls, "client_allowed_sans");
    if (sn != NULL) {
        const char *items[WEBCFG_MAX_LIST];
        yaml_node_t *nodes[WEBCFG_MAX_LIST];
        int n = webcfg_list(l, sn, "tls_server_config.client_allowed_sans", items, nodes);
        if (n < 0) {
            failed = true;
        } else {
            c->sans = arena_alloc(&c->arena, (size_t)n * sizeof(*c->sans) + 1);
            for (int i = 0; i < n; i++)
                c->sans[i] = items[i];
            c->n_sans = (size_t)n;
        }
    }
    if (failed || min_v < 0 || max_v < 0)
        return;

    bool any = c->cert_pem || c->key_pem || c->ca_pem || auth != NULL;
    if (!any) {
        /* exporter-toolkit serves plain HTTP then; settings that only make sense with TLS
         * are a mistake worth saying. */
        const char *const tls_only[] = {"min_version",       "max_version",
                                        "cipher_suites",     "prefer_server_cipher_suites",
                                        "curve_preferences", "client_allowed_sans"};
        for (size_t i = 0; i < sizeof(tls_only) / sizeof(tls_only[0]); i++) {
            yaml_node_t *k = ydoc_get_key(d, tls, tls_only[i]);
            if (k != NULL) {
                ydoc_error(d, k,
                           "tls_server_config sets %s but no certificate: give cert_file and "
                           "key_file, or remove tls_server_config to serve plain HTTP",
                           tls_only[i]);
                return;
            }
        }
        return;
    }
    if (c->cert_pem == NULL || c->key_pem == NULL) {
        yaml_node_t *where = cn ? cn : kn ? kn : tls;
        if (c->cert_pem != NULL)
            ydoc_error(d, where,
                       "tls_server_config: %s is set but key_file (or key) is not; "
                       "give both",
                       cfield);
        else if (c->key_pem != NULL)
            ydoc_error(d, where,
                       "tls_server_config: %s is set but cert_file (or cert) is not; "
                       "give both",
                       kfield);
        else
            ydoc_error(d, where,
                       "tls_server_config: missing cert_file and key_file (client settings "
                       "need TLS)");
        return;
    }
    if (min_v > max_v) {
        ydoc_error(d, ydoc_get(d, tls, "min_version"),
                   "tls_server_config: min_version TLS1%d is above max_version TLS1%d", min_v - 10,
                   max_v - 10);
        return;
    }
    if (c->ca_pem != NULL && c->client_auth == WEBCFG_CLIENT_AUTH_NONE) {
        ydoc_error(d, can,
                   "tls_server_config: %s is set but client_auth_type is NoClientCert; set "
                   "client_auth_type: RequireAndVerifyClientCert",
                   cafield);
        return;
    }
    if (c->ca_pem == NULL && c->client_auth != WEBCFG_CLIENT_AUTH_NONE) {
        ydoc_error(d, an,
                   "tls_server_config: client_auth_type %s needs client_ca_file (or client_ca): "
                   "the server asks for client certificates only when it has CAs to name",
                   auth);
        return;
    }
    if (c->n_sans > 0 && c->client_auth != WEBCFG_CLIENT_AUTH_REQUIRE_ANY &&
        c->client_auth != WEBCFG_CLIENT_AUTH_REQUIRE_VERIFY) {
        ydoc_error(d, sn,
                   "tls_server_config: client_allowed_sans needs client_auth_type "
                   "RequireAndVerifyClientCert (or RequireAnyClientCert)");
        return;
    }
    webcfg_check_pair(l, cn, cfield, kn, kfield);
    if (c->ca_pem != NULL)
        webcfg_check_ca(l, can, cafield);

    const char *ciphers = "", *groups = "";
    yaml_node_t *csn = webcfg_get(l, tls, "cipher_suites");
    if (csn != NULL)
        ciphers = webcfg_ciphers(l, csn, min_v, max_v);
    yaml_node_t *cvn = webcfg_get(l, tls, "curve_preferences");
    if (cvn != NULL)
        groups = webcfg_groups(l, cvn);
    if (ciphers == NULL || groups == NULL)
        return;
    webcfg_priorities(l, tls, min_v, max_v, prefer, ciphers, groups);
    c->tls = true;
}

/* ---- http_server_config, rate_limit ---- */

static void webcfg_http(struct webcfg_loader *l, yaml_node_t *http)
{
    struct ydoc *d = &l->yd;
    struct webcfg *c = l->c;
    if (webcfg_null(http))
        return;
    if (webcfg_map(l, http, "http_server_config", webcfg_http_keys, WEBCFG_MAX_KEYS) != 0)
        return;
    yaml_node_t *h2 = webcfg_get(l, http, "http2");
    if (h2 != NULL)
        (void)ydoc_bool(d, h2, "http_server_config.http2", &c->http2);
    yaml_node_t *hs = webcfg_get(l, http, "headers");
    if (hs == NULL)
        return;
    if (webcfg_map(l, hs, "http_server_config.headers", webcfg_header_names, WEBCFG_MAX_KEYS) != 0)
        return;
    int len = ydoc_map_len(hs);
    c->headers = arena_alloc(&c->arena, (size_t)len * sizeof(*c->headers) + 1);
    for (int i = 0; i < len; i++) {
        const char *name = ydoc_scalar(ydoc_key(d, hs, i));
        yaml_node_t *vn = ydoc_value(d, hs, i);
        size_t r;
        for (r = 0;
             name != NULL && r < sizeof(webcfg_header_rules) / sizeof(webcfg_header_rules[0]); r++)
            if (strcmp(webcfg_header_rules[r].name, name) == 0)
                break;
        if (name == NULL || r == sizeof(webcfg_header_rules) / sizeof(webcfg_header_rules[0]))
            continue; /* reported by webcfg_map */
        char what[80];
        snprintf(what, sizeof(what), "http_server_config.headers.%s", name);
        const char *value;
        if (webcfg_null(vn))
            continue;
        if (ydoc_str(d, vn, what, &value) != 0)
            continue;
        size_t vlen = strlen(value);
        if (vlen > WEBCFG_MAX_HEADER_VALUE) {
            ydoc_error(d, vn, "%s is %zu bytes; the limit is %d", what, vlen,
                       WEBCFG_MAX_HEADER_VALUE);
            continue;
        }
        bool ctl = false;
        for (const char *p = value; *p; p++)
            ctl |= (unsigned char)*p < 0x20 || *p == 0x7f;
        if (ctl) {
            ydoc_error(d, vn, "%s holds a control character (a line break?)", what);
            continue;
        }
        if (vlen == 0)
            continue; /* blank: unset */
        const char *const *allowed = webcfg_header_rules[r].values;
        if (allowed[0] != NULL) {
            bool ok = false;
            for (size_t k = 0; allowed[k] != NULL; k++)
                ok |= strcmp(allowed[k], value) == 0;
            if (!ok) {
                ydoc_error(d, vn, "%s: \"%.60s\" is not accepted; use %s%s%s", what, value,
                           allowed[0], allowed[1] ? " or " : "", allowed[1] ? allowed[1] : "");
                continue;
            }
        }
        c->headers[c->n_headers].name = webcfg_header_rules[r].name;
        c->headers[c->n_headers].value = value;
        c->n_headers++;
    }
}

static void webcfg_rate(struct webcfg_loader *l, yaml_node_t *rl)
{
    struct ydoc *d = &l->yd;
    struct webcfg *c = l->c;
    if (webcfg_null(rl))
        return;
    if (webcfg_map(l, rl, "rate_limit", webcfg_rate_keys, WEBCFG_MAX_KEYS) != 0)
        return;
    const char *iv;
    yaml_node_t *in, *bn = webcfg_get(l, rl, "burst");
    if (webcfg_string(l, rl, "interval", "rate_limit.interval", &iv, &in) != 0)
        return;
    int64_t ms = 0;
    if (iv != NULL && (duration_parse_ms(iv, &ms) != 0 || ms < 0)) {
        ydoc_error(d, in, "rate_limit.interval: \"%.60s\" is not a duration (like 1s or 100ms)",
                   iv);
        return;
    }
    double burst = 0;
    if (bn != NULL) {
        if (ydoc_number(d, bn, "rate_limit.burst", &burst) != 0)
            return;
        if (burst < 0 || burst > 1000000 || burst != (double)(long)burst) {
            ydoc_error(d, bn, "rate_limit.burst must be a whole number from 0 to 1000000");
            return;
        }
    }
    if (ms > 0 && burst < 1) {
        ydoc_error(d, bn ? bn : rl,
                   "rate_limit: with an interval, burst must be at least 1 (0 refuses every "
                   "request)");
        return;
    }
    c->rate_interval_ms = ms;
    c->rate_burst = (unsigned)burst;
}

/* ---- basic_auth_users ---- */

static bool webcfg_bcrypt_char(char ch)
{
    return ch == '.' || ch == '/' || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9');
}

/* Returns the cost of a bcrypt hash ($2a$, $2b$ or $2y$), or -1 when s is not one. */
static int webcfg_bcrypt_cost(const char *s, size_t len)
{
    if (len != WEBCFG_BCRYPT_LEN || s[0] != '$' || s[1] != '2' ||
        (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$' || s[6] != '$')
        return -1;
    if (s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9')
        return -1;
    for (size_t i = 7; i < len; i++)
        if (!webcfg_bcrypt_char(s[i]))
            return -1;
    int cost = (s[4] - '0') * 10 + (s[5] - '0');
    return cost >= 4 && cost <= 31 ? cost : -1;
}

static const char webcfg_b64crypt[] =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* A hash no password matches, at the given cost, for unknown users. Costs no bcrypt now. */
static void webcfg_make_dummy(struct webcfg *c, int cost)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    uint8_t rnd[WEBCFG_BCRYPT_LEN];
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
        abort();
    if (crypt_gensalt_rn("$2b$", (unsigned long)cost, (const char *)rnd, 16, setting,
                         sizeof(setting)) == NULL ||
        strlen(setting) != WEBCFG_BCRYPT_SETTING) {
        snprintf(setting, sizeof(setting), "$2b$%02d$", cost);
        for (size_t i = 7; i < WEBCFG_BCRYPT_SETTING; i++)
            setting[i] = webcfg_b64crypt[rnd[i] & 63];
        setting[WEBCFG_BCRYPT_SETTING] = '\0';
    }
    memcpy(c->dummy_hash, setting, WEBCFG_BCRYPT_SETTING);
    for (size_t i = WEBCFG_BCRYPT_SETTING; i < WEBCFG_BCRYPT_LEN; i++)
        c->dummy_hash[i] = webcfg_b64crypt[rnd[i] & 63];
    c->dummy_hash[WEBCFG_BCRYPT_LEN] = '\0';
}

static void webcfg_users(struct webcfg_loader *l, yaml_node_t *un)
{
    struct ydoc *d = &l->yd;
    struct webcfg *c = l->c;
    if (webcfg_null(un))
        return;
    if (webcfg_map(l, un, "basic_auth_users", NULL, WEBCFG_MAX_USERS) != 0)
        return;
    int len = ydoc_map_len(un);
    c->users = webcfg_xcalloc((size_t)len, sizeof(*c->users));
    int max_cost = 4;
    for (int i = 0; i < len; i++) {
        yaml_node_t *kn = ydoc_key(d, un, i), *vn = ydoc_value(d, un, i);
        const char *name = ydoc_scalar(kn);
        if (name == NULL)
            continue; /* reported by ydoc_map */
        if (strlen(name) != kn->data.scalar.length || strchr(name, ':') != NULL) {
            ydoc_error(d, kn,
                       "basic_auth_users: user \"%.100s\" can never log in: basic "
                       "authentication cannot carry a ':' or NUL in a user name",
                       name);
            continue;
        }
        const char *hash = ydoc_scalar(vn);
        size_t hlen = hash ? vn->data.scalar.length : 0;
        int cost = hash ? webcfg_bcrypt_cost(hash, hlen) : -1;
        if (cost < 0) {
            /* The value is a secret (or a password pasted by mistake): never print it. */
            ydoc_error(d, vn,
                       "basic_auth_users: the value for user \"%.100s\" is not a bcrypt hash "
                       "($2y$, $2b$ or $2a$ and 60 characters, as `htpasswd -nBC 10 \"\"` "
                       "prints it); the value is not shown",
                       name);
            continue;
        }
        if (cost > WEBCFG_MAX_BCRYPT_COST) {
            ydoc_error(d, vn,
                       "basic_auth_users: the hash for user \"%.100s\" has bcrypt cost %d; "
                       "sloe's limit is %d (each check would take minutes and hold up "
                       "scrapes)",
                       name, cost, WEBCFG_MAX_BCRYPT_COST);
            continue;
        }
        if (cost > max_cost)
            max_cost = cost;
        struct webcfg_user *u = &c->users[c->n_users++];
        u->name = arena_strdup(&c->arena, name);
        u->hash = webcfg_xcalloc(1, hlen + 1);
        memcpy(u->hash, hash, hlen);
    }
    if (c->n_users > 0) {
        webcfg_make_dummy(c, max_cost);
        c->cd = webcfg_xcalloc(1, sizeof(*c->cd)); /* about 32 KiB: only with users */
    }
}

/* ---- Loading ---- */

static void webcfg_root(struct webcfg_loader *l, yaml_node_t *root)
{
    struct ydoc *d = &l->yd;
    if (webcfg_null(root))
        return;
    if (root->type != YAML_MAPPING_NODE) {
        ydoc_error(d, root,
                   "not a web configuration: expected a mapping with tls_server_config, "
                   "http_server_config or basic_auth_users");
        return;
    }
    if (webcfg_map(l, root, "the web configuration", webcfg_top_keys, WEBCFG_MAX_KEYS) != 0)
        return;
    webcfg_tls(l, webcfg_get(l, root, "tls_server_config"));
    webcfg_http(l, webcfg_get(l, root, "http_server_config"));
    webcfg_users(l, webcfg_get(l, root, "basic_auth_users"));
    webcfg_rate(l, webcfg_get(l, root, "rate_limit"));
}

static void webcfg_yaml_error(struct webcfg_loader *l, yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "cannot be read";
    if (p->error == YAML_READER_ERROR) {
        diag_add(&l->diags, DIAG_ERROR, l->yd.file, 1, 1,
                 "not a text file in UTF-8: %s at byte %zu", problem, p->problem_offset);
        return;
    }
    const yaml_mark_t *m = &p->problem_mark;
    diag_add(&l->diags, DIAG_ERROR, l->yd.file, (unsigned)m->line + 1, (unsigned)m->column + 1,
             "YAML syntax: %s%s%s", problem, p->context ? " " : "", p->context ? p->context : "");
}

/* Wipes the text libyaml keeps of the input (it may hold an inline private key). */
static void webcfg_wipe_parser(yaml_parser_t *p)
{
    if (p->buffer.start != NULL)
        explicit_bzero(p->buffer.start, (size_t)(p->buffer.end - p->buffer.start));
    if (p->raw_buffer.start != NULL)
        explicit_bzero(p->raw_buffer.start, (size_t)(p->raw_buffer.end - p->raw_buffer.start));
}

static void webcfg_wipe_document(yaml_document_t *doc)
{
    for (yaml_node_t *n = doc->nodes.start; n != NULL && n < doc->nodes.top; n++)
        if (n->type == YAML_SCALAR_NODE)
            explicit_bzero(n->data.scalar.value, n->data.scalar.length);
}

/* Copies every problem, one line each, into err. */
static void webcfg_format(struct diag_list *diags, char *err, size_t err_size)
{
    if (err == NULL || err_size == 0)
        return;
    err[0] = '\0';
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        abort();
    diag_print(diags, f);
    fclose(f);
    while (len > 0 && text[len - 1] == '\n')
        text[--len] = '\0';
    snprintf(err, err_size, "%s", text);
    free(text);
}

static struct webcfg *webcfg_new(void)
{
    struct webcfg *c = webcfg_xcalloc(1, sizeof(*c));
    c->http2 = true;
    pthread_mutex_init(&c->crypt_lock, NULL);
    pthread_mutex_init(&c->cache_lock, NULL);
    if (gnutls_rnd(GNUTLS_RND_KEY, c->mac_key, sizeof(c->mac_key)) < 0)
        abort();
    return c;
}

int webcfg_load_buffer(const char *name, const char *data, size_t len, struct webcfg **out,
                       char *err, size_t err_size)
{
    *out = NULL;
    if (err != NULL && err_size > 0)
        err[0] = '\0';
    struct webcfg_loader l;
    memset(&l, 0, sizeof(l));
    struct webcfg *c = webcfg_new();
    l.c = c;
    l.yd.file = name;
    l.yd.diags = &l.diags;
    l.yd.arena = &c->arena;
    const char *slash = strrchr(name, '/');
    l.dir = slash ? arena_strndup(&c->arena, name, (size_t)(slash - name) + 1) : "";
    int rc = -1;
    if (len > WEBCFG_MAX_FILE_BYTES) {
        diag_add(&l.diags, DIAG_ERROR, name, 0, 0,
                 "the file is %zu bytes; a web configuration is limited to %d bytes", len,
                 WEBCFG_MAX_FILE_BYTES);
        goto out;
    }
    if (memchr(data, '\0', len) != NULL) {
        diag_add(&l.diags, DIAG_ERROR, name, 0, 0,
                 "binary file (holds NUL bytes): not a web configuration");
        goto out;
    }
    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p))
        abort();
    yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
    if (!yaml_parser_load(&p, &doc)) {
        webcfg_yaml_error(&l, &p);
        webcfg_wipe_parser(&p);
        yaml_parser_delete(&p);
        goto out;
    }
    l.yd.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root != NULL) {
        yaml_document_t more;
        if (!yaml_parser_load(&p, &more)) {
            webcfg_yaml_error(&l, &p);
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&more);
            if (r2 != NULL)
                ydoc_error(&l.yd, r2,
                           "a second YAML document: a web configuration is one document");
            webcfg_wipe_document(&more);
            yaml_document_delete(&more);
        }
        if (l.diags.errors == 0)
            webcfg_root(&l, root);
    }
    webcfg_wipe_document(&doc);
    yaml_document_delete(&doc);
    webcfg_wipe_parser(&p);
    yaml_parser_delete(&p);
    if (l.diags.errors == 0) {
        rc = 0;
        *out = c;
        c = NULL;
    }
out:
    if (rc != 0)
        webcfg_format(&l.diags, err, err_size);
    diag_free(&l.diags);
    webcfg_free(c);
    return rc;
}

int webcfg_load(const char *path, struct webcfg **out, char *err, size_t err_size)
{
    *out = NULL;
    char *data;
    size_t len;
    char why[160];
    if (webcfg_read_file(path, WEBCFG_MAX_FILE_BYTES, &data, &len, why, sizeof(why)) != 0) {
        if (err != NULL && err_size > 0)
            snprintf(err, err_size, "%s: cannot read the web configuration: %s", path, why);
        return -1;
    }
    int rc = webcfg_load_buffer(path, data, len, out, err, err_size);
    explicit_bzero(data, len);
    free(data);
    return rc;
}

void webcfg_free(struct webcfg *c)
{
    if (c == NULL)
        return;
    if (c->key_pem != NULL) {
        explicit_bzero(c->key_pem, c->key_len);
        free(c->key_pem);
    }
    free(c->cert_pem);
    free(c->ca_pem);
    if (c->trust != NULL)
        gnutls_x509_trust_list_deinit(c->trust, 1);
    for (size_t i = 0; i < c->n_users; i++) {
        explicit_bzero(c->users[i].hash, strlen(c->users[i].hash));
        free(c->users[i].hash);
    }
    free(c->users);
    if (c->cd != NULL) {
        explicit_bzero(c->cd, sizeof(*c->cd));
        free(c->cd);
    }
    pthread_mutex_destroy(&c->crypt_lock);
    pthread_mutex_destroy(&c->cache_lock);
    arena_free(&c->arena);
    explicit_bzero(c, sizeof(*c));
    free(c);
}

/* ---- Accessors ---- */

bool webcfg_tls_enabled(const struct webcfg *c)
{
    return c->tls;
}

const char *webcfg_tls_cert_pem(const struct webcfg *c)
{
    return c->tls ? c->cert_pem : NULL;
}

const char *webcfg_tls_key_pem(const struct webcfg *c)
{
    return c->tls ? c->key_pem : NULL;
}

const char *webcfg_tls_ca_pem(const struct webcfg *c)
{
    return c->tls ? c->ca_pem : NULL;
}

const char *webcfg_tls_priorities(const struct webcfg *c)
{
    return c->tls ? c->priorities : NULL;
}

enum webcfg_client_auth webcfg_client_auth(const struct webcfg *c)
{
    return c->client_auth;
}

const char *webcfg_client_auth_name(enum webcfg_client_auth a)
{
    for (size_t i = 0; i < sizeof(webcfg_auth_names) / sizeof(webcfg_auth_names[0]); i++)
        if (webcfg_auth_names[i].auth == a)
            return webcfg_auth_names[i].name;
    return "?";
}

const struct webcfg_header *webcfg_headers(const struct webcfg *c, size_t *n)
{
    *n = c->n_headers;
    return c->headers;
}

bool webcfg_http2(const struct webcfg *c)
{
    return c->http2;
}

bool webcfg_rate_limit(const struct webcfg *c, int64_t *interval_ms, unsigned *burst)
{
    if (c->rate_interval_ms <= 0)
        return false;
    *interval_ms = c->rate_interval_ms;
    *burst = c->rate_burst;
    return true;
}

bool webcfg_auth_required(const struct webcfg *c)
{
    return c->n_users > 0;
}

/* ---- Client certificates ---- */

static void webcfg_why(char *why, size_t why_size, const char *msg)
{
    if (why != NULL && why_size > 0)
        snprintf(why, why_size, "%s", msg);
}

/* Whether a subject alternative name of crt is in the allowed list. */
static bool webcfg_san_allowed(const struct webcfg *c, gnutls_x509_crt_t crt)
{
    for (unsigned seq = 0; seq < 1000; seq++) {
        char buf[1024];
        size_t size = sizeof(buf) - 1;
        unsigned critical = 0;
        int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, buf, &size, &critical);
        if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue;
        if (type < 0)
            return false;
        char text[INET6_ADDRSTRLEN];
        const char *s = NULL;
        if (type == GNUTLS_SAN_DNSNAME || type == GNUTLS_SAN_RFC822NAME || type == GNUTLS_SAN_URI) {
            buf[size] = '\0';
            if (strlen(buf) == size)
                s = buf;
        } else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16)) {
            s = inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, text, sizeof(text));
        }
        if (s == NULL)
            continue;
        for (size_t i = 0; i < c->n_sans; i++)
            if (strcmp(c->sans[i], s) == 0)
                return true;
    }
    return false;
}

int webcfg_verify_peer(const struct webcfg *c, const gnutls_datum_t *chain, unsigned n, char *why,
                       size_t why_size)
{
    webcfg_why(why, why_size, "");
    if (!c->tls || c->client_auth == WEBCFG_CLIENT_AUTH_NONE ||
        c->client_auth == WEBCFG_CLIENT_AUTH_REQUEST)
        return 0;
    if (n == 0 || chain == NULL) {
        if (c->client_auth == WEBCFG_CLIENT_AUTH_VERIFY_IF_GIVEN)
            return 0;
        webcfg_why(why, why_size, "a client certificate is required");
        return -1;
    }
    if (n > WEBCFG_MAX_CHAIN) {
        webcfg_why(why, why_size, "the client certificate chain is too long");
        return -1;
    }
    gnutls_x509_crt_t crts[WEBCFG_MAX_CHAIN];
    unsigned got = 0;
    int rc = -1;
    for (; got < n; got++) {
        if (gnutls_x509_crt_init(&crts[got]) < 0)
            abort();
        if (gnutls_x509_crt_import(crts[got], &chain[got], GNUTLS_X509_FMT_DER) < 0) {
            gnutls_x509_crt_deinit(crts[got]);
            webcfg_why(why, why_size, "the client certificate cannot be read");
            goto out;
        }
    }
    if (c->client_auth != WEBCFG_CLIENT_AUTH_REQUIRE_ANY) {
        gnutls_typed_vdata_st vd = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                    .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
                                    .size = 0};
        unsigned status = 0;
        int vr = gnutls_x509_trust_list_verify_crt2(c->trust, crts, n, &vd, 1, 0, &status, NULL);
        if (vr < 0 || status != 0) {
            gnutls_datum_t text = {NULL, 0};
            if (vr >= 0 && gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
                                                                        &text, 0) >= 0) {
                char msg[300];
                snprintf(msg, sizeof(msg), "the client certificate is not trusted: %s",
                         (const char *)text.data);
                webcfg_why(why, why_size, msg);
                gnutls_free(text.data);
            } else {
                webcfg_why(why, why_size, "the client certificate is not trusted");
            }
            goto out;
        }
    }
    if (c->n_sans > 0 && !webcfg_san_allowed(c, crts[0])) {
        webcfg_why(why, why_size,
                   "the client certificate has none of the names in client_allowed_sans");
        goto out;
    }
    rc = 0;
out:
    for (unsigned i = 0; i < got; i++)
        gnutls_x509_crt_deinit(crts[i]);
    return rc;
}

int webcfg_verify_session(const struct webcfg *c, gnutls_session_t s, char *why, size_t why_size)
{
    if (!c->tls || s == NULL)
        return 0;
    unsigned n = 0;
    const gnutls_datum_t *chain = NULL;
    if (gnutls_certificate_type_get(s) == GNUTLS_CRT_X509)
        chain = gnutls_certificate_get_peers(s, &n);
    return webcfg_verify_peer(c, chain, chain ? n : 0, why, why_size);
}

/* ---- Basic authentication ---- */

static int webcfg_b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Decodes standard base64 with padding (RFC 4648 section 4) into out (cap bytes). Returns
 * the decoded length, or -1 for bad input or output that would not fit. */
static long webcfg_base64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    if (n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t w = 0;
        int pad = 0;
        for (size_t k = 0; k < 4; k++) {
            unsigned char ch = (unsigned char)s[i + k];
            int v;
            if (ch == '=') {
                if (i + 4 != n || k < 2)
                    return -1;
                pad++;
                v = 0;
            } else {
                if (pad > 0)
                    return -1;
                v = webcfg_b64_value(ch);
                if (v < 0)
                    return -1;
            }
            w = (w << 6) | (uint32_t)v;
        }
        size_t take = 3 - (size_t)pad;
        if (o + take > cap)
            return -1;
        out[o++] = (unsigned char)(w >> 16);
        if (take > 1)
            out[o++] = (unsigned char)(w >> 8);
        if (take > 2)
            out[o++] = (unsigned char)w;
    }
    return (long)o;
}

/* The cache key of a check: an HMAC under a key drawn at load, so that what is kept says
 * nothing about the password even to someone who reads the process memory and tries
 * guesses offline without that key. Returns 0, or -1 when GnuTLS fails. */
static int webcfg_cache_key(const struct webcfg *c, const char *user, const char *pass,
                            const char *hash, uint8_t key[32])
{
    gnutls_hmac_hd_t h;
    if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, c->mac_key, sizeof(c->mac_key)) < 0)
        return -1;
    /* NUL separators: none of the three holds one. */
    int rc = gnutls_hmac(h, user, strlen(user) + 1);
    if (rc >= 0)
        rc = gnutls_hmac(h, pass, strlen(pass) + 1);
    if (rc >= 0)
        rc = gnutls_hmac(h, hash, strlen(hash));
    gnutls_hmac_deinit(h, key);
    return rc < 0 ? -1 : 0;
}

static bool webcfg_cache_find(struct webcfg *c, const uint8_t key[32])
{
    bool found = false;
    pthread_mutex_lock(&c->cache_lock);
    for (size_t i = 0; i < WEBCFG_CACHE_MAX; i++) {
        if (c->cache[i].used != 0 && webcfg_ct_equal(c->cache[i].key, key, 32)) {
            c->cache[i].used = ++c->tick;
            found = true;
        }
    }
    if (found)
        c->cached++;
    pthread_mutex_unlock(&c->cache_lock);
    return found;
}

/* Remembers a success, evicting the least recently used entry when full. */
static void webcfg_cache_add(struct webcfg *c, const uint8_t key[32])
{
    pthread_mutex_lock(&c->cache_lock);
    size_t slot = 0;
    for (size_t i = 0; i < WEBCFG_CACHE_MAX; i++) {
        if (c->cache[i].used != 0 && memcmp(c->cache[i].key, key, 32) == 0) {
            slot = i; /* another thread got there first */
            break;
        }
        if (c->cache[i].used < c->cache[slot].used)
            slot = i;
    }
    memcpy(c->cache[slot].key, key, 32);
    c->cache[slot].used = ++c->tick;
    pthread_mutex_unlock(&c->cache_lock);
}

/* Runs bcrypt on pass with hash's settings and compares the result in constant time. */
static bool webcfg_bcrypt_ok(struct webcfg *c, const char *pass, const char *hash)
{
    pthread_mutex_lock(&c->crypt_lock);
    const char *got = crypt_r(pass, hash, c->cd);
    /* Only the hash part is compared: libxcrypt rewrites non-canonical salt bits. */
    bool ok = got != NULL && got[0] == '$' && strlen(got) == WEBCFG_BCRYPT_LEN &&
              webcfg_ct_equal(got + WEBCFG_BCRYPT_SETTING, hash + WEBCFG_BCRYPT_SETTING,
                              WEBCFG_BCRYPT_LEN - WEBCFG_BCRYPT_SETTING);
    explicit_bzero(c->cd, sizeof(*c->cd));
    c->computed++; /* under crypt_lock; read under it too */
    pthread_mutex_unlock(&c->crypt_lock);
    return ok;
}

static bool webcfg_verify_password(struct webcfg *c, const char *user, const char *pass)
{
    const struct webcfg_user *u = NULL;
    for (size_t i = 0; i < c->n_users; i++) /* no early exit: all users cost the same */
        if (strcmp(c->users[i].name, user) == 0 && u == NULL)
            u = &c->users[i];
    if (strlen(pass) > WEBCFG_MAX_PASSWORD)
        u = NULL; /* bcrypt would ignore the rest: refuse, after the same work */
    const char *hash = u ? u->hash : c->dummy_hash;
    uint8_t key[32];
    bool keyed = webcfg_cache_key(c, user, pass, hash, key) == 0;
    if (u != NULL && keyed && webcfg_cache_find(c, key)) {
        explicit_bzero(key, sizeof(key));
        return true;
    }
    bool ok = webcfg_bcrypt_ok(c, pass, hash) && u != NULL;
    if (ok && keyed)
        webcfg_cache_add(c, key);
    explicit_bzero(key, sizeof(key));
    return ok;
}

bool webcfg_check_basic(struct webcfg *c, const char *authorization)
{
    if (c->n_users == 0)
        return true;
    if (authorization == NULL)
        return false;
    size_t len = strnlen(authorization, WEBCFG_MAX_AUTH_HEADER + 1);
    if (len > WEBCFG_MAX_AUTH_HEADER)
        return false;
    const char *p = authorization, *end = authorization + len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (end - p < 6 || strncasecmp(p, "Basic", 5) != 0 || (p[5] != ' ' && p[5] != '\t'))
        return false;
    p += 5;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    unsigned char buf[WEBCFG_MAX_AUTH_HEADER];
    long n = webcfg_base64_decode(p, (size_t)(end - p), buf, sizeof(buf) - 1);
    bool ok = false;
    if (n >= 0 && memchr(buf, '\0', (size_t)n) == NULL) {
        buf[n] = '\0';
        char *colon = memchr(buf, ':', (size_t)n);
        if (colon != NULL) {
            *colon = '\0';
            ok = webcfg_verify_password(c, (const char *)buf, colon + 1);
        }
    }
    explicit_bzero(buf, sizeof(buf));
    return ok;
}

void webcfg_auth_stats(struct webcfg *c, uint64_t *computed, uint64_t *cached)
{
    if (computed != NULL) {
        pthread_mutex_lock(&c->crypt_lock);
        *computed = c->computed;
        pthread_mutex_unlock(&c->crypt_lock);
    }
    if (cached != NULL) {
        pthread_mutex_lock(&c->cache_lock);
        *cached = c->cached;
        pthread_mutex_unlock(&c->cache_lock);
    }
}
