/* webcfg: the exporter-toolkit web configuration file (TLS, headers, basic auth). Keys and
 * certificates come from openssl when it is installed, otherwise from the throwaway test
 * PKI in tests/unit/data/webcfg/; bcrypt hashes are made here with libxcrypt. */
#include <crypt.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "webcfg.h"

/* ---- Fixtures ---- */

static char test_dir[64];

/* A fresh directory for this test (each test runs in its own process). */
static const char *tdir(void)
{
    if (test_dir[0] == '\0') {
        snprintf(test_dir, sizeof(test_dir), "/tmp/sloe-webcfg-XXXXXX");
        if (mkdtemp(test_dir) == NULL)
            abort();
    }
    return test_dir;
}

static bool sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void cleanup(void)
{
    if (test_dir[0] != '\0')
        (void)sh("rm -rf '%s'", test_dir);
}

static const char *tpath(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", tdir(), name);
    return buf[k];
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        abort();
    fputs(text, f);
    fclose(f);
}

/* Writes web.yml in the test directory from a format and returns its path. */
static const char *config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *config(const char *fmt, ...)
{
    char *text;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&text, fmt, ap) < 0)
        abort();
    va_end(ap);
    const char *path = tpath("web.yml");
    write_file(path, text);
    free(text);
    return path;
}

/* Finds a program on PATH; returns a static path or NULL. */
static const char *find_prog(const char *name)
{
    static char buf[512];
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, name);
        if (access(buf, X_OK) == 0)
            return buf;
        path += len + (path[len] == ':');
    }
    return NULL;
}

/* Runs a shell command quietly; returns whether it succeeded (its errors go to stderr). */
static bool sh(const char *fmt, ...)
{
    char *cmd;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    char bin[] = "/bin/sh", opt[] = "-c";
    char *argv[] = {bin, opt, cmd, NULL};
    char *out, *err;
    int rc = harness_run(argv, &out, &err);
    if (rc != 0)
        fprintf(stderr, "    %s: failed (%d): %s\n", cmd, rc, err);
    free(cmd);
    free(out);
    free(err);
    return rc == 0;
}

/* The test PKI: server.pem/.key (EC P-256, localhost), ca.pem, client.pem/.key signed by
 * the CA (clientAuth, SANs DNS:client.example and IP:10.0.0.1), other.pem/.key (self-signed
 * with the same SAN, trusted by nobody) and server-enc.key (server.key encrypted).
 * Returns the directory holding them. */
static const char *pki(void)
{
    static const char *dir;
    if (dir != NULL)
        return dir;
    const char *found = getenv("SLOE_TEST_FIXED_PKI") ? NULL : find_prog("openssl");
    static char fixed[600];
    char cwd[512];
    snprintf(fixed, sizeof(fixed), "%s/tests/unit/data/webcfg",
             getcwd(cwd, sizeof(cwd)) ? cwd : ".");
    if (found == NULL) {
        dir = fixed;
        return dir;
    }
    const char *d = tdir(), *ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    bool ok =
        sh("cd %s && printf 'subjectAltName=DNS:client.example,IP:10.0.0.1\\n"
           "extendedKeyUsage=clientAuth\\nbasicConstraints=CA:FALSE\\n' >client.ext",
           d) &&
        sh("cd %s && '%s' req -x509 %s -keyout server.key -out server.pem -days 2 "
           "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1",
           d, found, ec) &&
        sh("cd %s && '%s' req -x509 %s -keyout ca.key -out ca.pem -days 2 -subj '/CN=sloe test CA'",
           d, found, ec) &&
        sh("cd %s && '%s' req -new %s -keyout client.key -out client.csr -subj /CN=client", d,
           found, ec) &&
        sh("cd %s && '%s' x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 2 "
           "-days 2 -out client.pem -extfile client.ext",
           d, found) &&
        sh("cd %s && '%s' req -x509 %s -keyout other.key -out other.pem -days 2 "
           "-subj /CN=intruder -addext subjectAltName=DNS:client.example",
           d, found, ec) &&
        sh("cd %s && '%s' pkey -in server.key -aes256 -passout pass:test -out server-enc.key", d,
           found);
    if (!ok) {
        harness_fail(__FILE__, __LINE__, "openssl could not make the test PKI");
        dir = fixed;
        return dir;
    }
    dir = tdir();
    return dir;
}

static const char *pki_file(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", pki(), name);
    return buf[k];
}

/* A bcrypt hash of pass at cost with the given prefix ("$2b$", "$2y$", "$2a$"). */
static const char *bcrypt_hash(const char *pass, int cost, const char *prefix)
{
    static char out[8][128];
    static int k;
    k = (k + 1) % 8;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (crypt_gensalt_rn(prefix, (unsigned long)cost, NULL, 0, setting, sizeof(setting)) == NULL)
        abort();
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    const char *h = crypt_r(pass, setting, cd);
    if (h == NULL || h[0] != '$')
        abort();
    snprintf(out[k], sizeof(out[k]), "%s", h);
    free(cd);
    return out[k];
}

/* "Basic base64(user:pass)". */
static const char *basic(const char *user, const char *pass)
{
    static char out[4][512];
    static int k;
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    k = (k + 1) % 4;
    char plain[300];
    int n = snprintf(plain, sizeof(plain), "%s:%s", user, pass);
    char *o = out[k] + sprintf(out[k], "Basic ");
    for (int i = 0; i < n; i += 3) {
        unsigned a = (unsigned char)plain[i];
        unsigned b = i + 1 < n ? (unsigned char)plain[i + 1] : 0;
        unsigned c = i + 2 < n ? (unsigned char)plain[i + 2] : 0;
        unsigned w = a << 16 | b << 8 | c;
        *o++ = tbl[w >> 18 & 63];
        *o++ = tbl[w >> 12 & 63];
        *o++ = i + 1 < n ? tbl[w >> 6 & 63] : '=';
        *o++ = i + 2 < n ? tbl[w & 63] : '=';
    }
    *o = '\0';
    return out[k];
}

static char err[8192];

/* Loads path; expects success. */
static struct webcfg *load_ok(const char *path)
{
    struct webcfg *c = NULL;
    if (!EXPECT_INT(webcfg_load(path, &c, err, sizeof(err)), 0))
        harness_fail(__FILE__, __LINE__, "error: %s", err);
    return c;
}

/* Loads path; expects failure with every needle in the message. */
static void load_fails(const char *path, const char *needle1, const char *needle2)
{
    struct webcfg *c = (struct webcfg *)1;
    EXPECT_INT(webcfg_load(path, &c, err, sizeof(err)), -1);
    EXPECT(c == NULL);
    if (needle1 != NULL)
        EXPECT_CONTAINS(err, needle1);
    if (needle2 != NULL)
        EXPECT_CONTAINS(err, needle2);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
    size_t len;
    char *s = harness_read_file(path, &len);
    if (s == NULL)
        abort();
    return s;
}

/* ---- Loading ---- */

static void load_full(void)
{
    const char *alice = bcrypt_hash("right", 4, "$2y$");
    const char *bob = bcrypt_hash("builder", 4, "$2b$");
    /* Relative paths are taken from the file's directory: copy the PKI next to it. */
    const char *files[] = {"server.pem", "server.key", "ca.pem"};
    for (size_t i = 0; i < 3; i++) {
        char *s = slurp(pki_file(files[i]));
        if (strcmp(pki(), tdir()) != 0)
            write_file(tpath(files[i]), s);
        free(s);
    }
    const char *path = config("# sloe web config\n"
                              "tls_server_config:\n"
                              "  cert_file: server.pem\n"
                              "  key_file: server.key\n"
                              "  client_auth_type: RequireAndVerifyClientCert\n"
                              "  client_ca_file: ca.pem\n"
                              "  client_allowed_sans: [client.example, 10.0.0.1]\n"
                              "  min_version: TLS12\n"
                              "  max_version: TLS13\n"
                              "  cipher_suites:\n"
                              "    - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n"
                              "    - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
                              "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
                              "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
                              "    - TLS_AES_128_GCM_SHA256\n"
                              "  prefer_server_cipher_suites: false\n"
                              "  curve_preferences: [X25519, CurveP256]\n"
                              "http_server_config:\n"
                              "  http2: false\n"
                              "  headers:\n"
                              "    X-Frame-Options: deny\n"
                              "    X-Content-Type-Options: nosniff\n"
                              "    Strict-Transport-Security: max-age=31536000\n"
                              "    Content-Security-Policy: \"\"\n"
                              "basic_auth_users:\n"
                              "  alice: %s\n"
                              "  bob: '%s'\n"
                              "rate_limit:\n"
                              "  interval: 1s\n"
                              "  burst: 10\n",
                              alice, bob);
    struct webcfg *c = load_ok(path);
    if (c == NULL)
        return;
    EXPECT(webcfg_tls_enabled(c));
    char *cert = slurp(pki_file("server.pem")), *key = slurp(pki_file("server.key")),
         *ca = slurp(pki_file("ca.pem"));
    EXPECT_STR(webcfg_tls_cert_pem(c), cert);
    EXPECT_STR(webcfg_tls_key_pem(c), key);
    EXPECT_STR(webcfg_tls_ca_pem(c), ca);
    free(cert);
    free(key);
    free(ca);
    EXPECT_STR(webcfg_tls_priorities(c),
               "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"
               ":-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:-MAC-ALL:+AEAD"
               ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1");
    EXPECT_INT(webcfg_client_auth(c), WEBCFG_CLIENT_AUTH_REQUIRE_VERIFY);
    EXPECT_STR(webcfg_client_auth_name(webcfg_client_auth(c)), "RequireAndVerifyClientCert");
    size_t n;
    const struct webcfg_header *h = webcfg_headers(c, &n);
    if (EXPECT_INT(n, 3)) {
        EXPECT_STR(h[0].name, "X-Frame-Options");
        EXPECT_STR(h[0].value, "deny");
        EXPECT_STR(h[1].name, "X-Content-Type-Options");
        EXPECT_STR(h[1].value, "nosniff");
        EXPECT_STR(h[2].name, "Strict-Transport-Security");
        EXPECT_STR(h[2].value, "max-age=31536000");
    }
    EXPECT(!webcfg_http2(c));
    int64_t iv = 0;
    unsigned burst = 0;
    EXPECT(webcfg_rate_limit(c, &iv, &burst));
    EXPECT_INT(iv, 1000);
    EXPECT_INT(burst, 10);
    EXPECT(webcfg_auth_required(c));
    EXPECT(webcfg_check_basic(c, basic("alice", "right")));
    EXPECT(webcfg_check_basic(c, basic("bob", "builder")));
    EXPECT(!webcfg_check_basic(c, basic("bob", "right")));
    webcfg_free(c);
    cleanup();
}

static void load_empty(void)
{
    const char *texts[] = {
        "",      "# nothing\n",          "{}\n",
        "---\n", "tls_server_config:\n", "basic_auth_users: {}\nhttp_server_config: ~\n"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct webcfg *c = load_ok(config("%s", texts[i]));
        if (c == NULL)
            continue;
        EXPECT(!webcfg_tls_enabled(c));
        EXPECT(webcfg_tls_priorities(c) == NULL);
        EXPECT(webcfg_tls_cert_pem(c) == NULL);
        EXPECT(!webcfg_auth_required(c));
        EXPECT(webcfg_check_basic(c, NULL));
        EXPECT(webcfg_check_basic(c, "garbage"));
        EXPECT(webcfg_http2(c));
        int64_t iv;
        unsigned b;
        EXPECT(!webcfg_rate_limit(c, &iv, &b));
        size_t n = 9;
        webcfg_headers(c, &n);
        EXPECT_INT(n, 0);
        EXPECT_INT(webcfg_verify_peer(c, NULL, 0, NULL, 0), 0);
        webcfg_free(c);
    }
    webcfg_free(NULL);
    cleanup();
}

static void load_versions(void)
{
    const char *cert = pki_file("server.pem"), *key = pki_file("server.key");
    struct {
        const char *extra, *prio;
    } cases[] = {
        {"", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"},
        {"  min_version: TLS13\n", "NORMAL:-VERS-ALL:+VERS-TLS1.3:%SERVER_PRECEDENCE"},
        {"  max_version: TLS12\n", "NORMAL:-VERS-ALL:+VERS-TLS1.2:%SERVER_PRECEDENCE"},
        {"  min_version: TLS12\n  max_version: TLS12\n  prefer_server_cipher_suites: false\n",
         "NORMAL:-VERS-ALL:+VERS-TLS1.2"},
        /* cipher_suites does not apply to TLS 1.3, as in Go */
        {"  min_version: TLS13\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n",
         "NORMAL:-VERS-ALL:+VERS-TLS1.3:%SERVER_PRECEDENCE"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct webcfg *c = load_ok(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n%s",
                                          cert, key, cases[i].extra));
        if (c == NULL)
            continue;
        EXPECT_STR(webcfg_tls_priorities(c), cases[i].prio);
        EXPECT_INT(webcfg_client_auth(c), WEBCFG_CLIENT_AUTH_NONE);
        EXPECT(webcfg_tls_ca_pem(c) == NULL);
        webcfg_free(c);
    }
    cleanup();
}

#define FMT_VERSION "tls_server_config:\n  cert_file: %s\n  key_file: %s\n  %s: %s\n"

static void tls10_refused(void)
{
    const char *cert = pki_file("server.pem"), *key = pki_file("server.key");
    load_fails(config(FMT_VERSION, cert, key, "min_version", "TLS10"), "web.yml:4:16: ", "TLS10");
    EXPECT_CONTAINS(err, "tls_server_config.min_version");
    EXPECT_CONTAINS(err, "TLS 1.2");
    load_fails(config(FMT_VERSION, cert, key, "min_version", "TLS11"), "TLS11", "not accepted");
    load_fails(config(FMT_VERSION, cert, key, "max_version", "TLS11"), "max_version",
               "not accepted");
    load_fails(config(FMT_VERSION, cert, key, "min_version", "TLS1.2"), "did you mean \"TLS12\"",
               NULL);
    load_fails(config(FMT_VERSION, cert, key, "min_version", "SSL3"), "unknown value \"SSL3\"",
               NULL);
    load_fails(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                      "  min_version: TLS13\n  max_version: TLS12\n",
                      cert, key),
               "min_version TLS13 is above max_version TLS12", NULL);
    cleanup();
}

static void cert_key_pairs(void)
{
    const char *cert = pki_file("server.pem"), *key = pki_file("server.key");
    load_fails(config("tls_server_config:\n  cert_file: %s\n", cert),
               "web.yml:2:14: ", "cert_file is set but key_file");
    load_fails(config("tls_server_config:\n  key_file: %s\n", key),
               "web.yml:2:13: ", "key_file is set but cert_file");
    load_fails(config("tls_server_config:\n  client_auth_type: NoClientCert\n"),
               "missing cert_file and key_file", NULL);
    load_fails(config("tls_server_config:\n  min_version: TLS13\n"),
               "sets min_version but no certificate", NULL);
    load_fails(
        config("tls_server_config:\n  cert_file: %s\n  cert: inline\n  key_file: %s\n", cert, key),
        "give cert_file or cert, not both", NULL);
    /* A key that is not the certificate's. */
    load_fails(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n", cert,
                      pki_file("client.key")),
               "web.yml:3:13: ", "does not belong to the certificate");
    /* An encrypted key. */
    load_fails(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n", cert,
                      pki_file("server-enc.key")),
               "key_file: the private key is encrypted", NULL);
    /* Not PEM at all. */
    write_file(tpath("junk.pem"), "hello\n");
    load_fails(
        config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n", tpath("junk.pem"), key),
        "cert_file: no PEM certificate could be read", NULL);
    /* Inline PEM works like the files. */
    char *cs = slurp(cert), *ks = slurp(key);
    FILE *f = fopen(tpath("web.yml"), "w");
    fprintf(f, "tls_server_config:\n  cert: |\n");
    for (char *line = strtok(cs, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(f, "    %s\n", line);
    fprintf(f, "  key: |\n");
    for (char *line = strtok(ks, "\n"); line; line = strtok(NULL, "\n"))
        fprintf(f, "    %s\n", line);
    fclose(f);
    free(cs);
    free(ks);
    struct webcfg *c = load_ok(tpath("web.yml"));
    if (c != NULL) {
        EXPECT(webcfg_tls_enabled(c));
        EXPECT_CONTAINS(webcfg_tls_key_pem(c), "-----BEGIN PRIVATE KEY-----");
        webcfg_free(c);
    }
    cleanup();
}

static void unreadable_files(void)
{
    struct webcfg *c = (struct webcfg *)1;
    EXPECT_INT(webcfg_load(tpath("missing.yml"), &c, err, sizeof(err)), -1);
    EXPECT(c == NULL);
    EXPECT_CONTAINS(err, "missing.yml");
    EXPECT_CONTAINS(err, strerror(ENOENT));
    EXPECT_INT(webcfg_load(tdir(), &c, err, sizeof(err)), -1);
    EXPECT_CONTAINS(err, "not a regular file");

    const char *key = pki_file("server.key");
    load_fails(config("tls_server_config:\n  cert_file: nope.pem\n  key_file: %s\n", key),
               "web.yml:2:14: tls_server_config.cert_file: cannot read", "nope.pem");
    EXPECT_CONTAINS(err, tdir()); /* resolved next to the config file */
    /* A FIFO must be refused, not waited on. */
    EXPECT_INT(mkfifo(tpath("fifo"), 0600), 0);
    load_fails(
        config("tls_server_config:\n  cert_file: %s\n  key_file: fifo\n", pki_file("server.pem")),
        "key_file: cannot read", "not a regular file");
    /* Over the size cap. */
    char *big = malloc(WEBCFG_MAX_FILE_BYTES + 10);
    memset(big, '#', WEBCFG_MAX_FILE_BYTES + 9);
    big[WEBCFG_MAX_FILE_BYTES + 9] = '\0';
    write_file(tpath("big.yml"), big);
    EXPECT_INT(webcfg_load(tpath("big.yml"), &c, err, sizeof(err)), -1);
    EXPECT_CONTAINS(err, "limit is 1048576");
    EXPECT_INT(webcfg_load_buffer("mem.yml", big, WEBCFG_MAX_FILE_BYTES + 9, &c, err, sizeof(err)),
               -1);
    EXPECT_CONTAINS(err, "mem.yml: the file is 1048585 bytes");
    free(big);
    cleanup();
}

static void unknown_keys(void)
{
    load_fails(config("tls_server_config:\n  cert_fille: x.pem\n"), "web.yml:2:3: ",
               "unknown field \"cert_fille\" in tls_server_config (did you mean \"cert_file\"?)");
    load_fails(config("basic_auth_user:\n  alice: x\n"),
               "web.yml:1:1: ", "did you mean \"basic_auth_users\"?");
    load_fails(config("http_server_config:\n  headers:\n    X-Frame-Option: deny\n"),
               "web.yml:3:5: ", "did you mean \"X-Frame-Options\"?");
    load_fails(config("http_server_config:\n  headers:\n    Server: sloe\n"),
               "unknown field \"Server\" in http_server_config.headers", NULL);
    load_fails(config("tls_server_config:\n  cert_file: a\n  cert_file: b\n"),
               "web.yml:3:3: ", "repeated");
    load_fails(config("rate_limit:\n  intervall: 1s\n"), "did you mean \"interval\"?", NULL);
    load_fails(config("- a\n- b\n"), "web.yml:1:1: not a web configuration", NULL);
    load_fails(config("tls_server_config: {\n"), "web.yml:", "YAML syntax");
    load_fails(config("basic_auth_users: {}\n---\nbasic_auth_users: {}\n"),
               "web.yml:3:1: ", "second YAML document");
    cleanup();
}

#define FMT_EXTRA "tls_server_config:\n  cert_file: %s\n  key_file: %s\n%s"

static void client_auth_rules(void)
{
    const char *cert = pki_file("server.pem"), *key = pki_file("server.key"),
               *ca = pki_file("ca.pem");
    char extra[600];
    snprintf(extra, sizeof(extra), "  client_ca_file: %s\n", ca);
    load_fails(config(FMT_EXTRA, cert, key, extra), "client_ca_file is set but client_auth_type",
               NULL);
    load_fails(config(FMT_EXTRA, cert, key, "  client_auth_type: RequireAndVerifyClientCert\n"),
               "needs client_ca_file", NULL);
    load_fails(config(FMT_EXTRA, cert, key, "  client_auth_type: RequireAndVerifyClientCerts\n"),
               "did you mean \"RequireAndVerifyClientCert\"?", NULL);
    snprintf(extra, sizeof(extra),
             "  client_ca_file: %s\n  client_auth_type: VerifyClientCertIfGiven\n"
             "  client_allowed_sans: [x]\n",
             ca);
    load_fails(config(FMT_EXTRA, cert, key, extra), "client_allowed_sans needs client_auth_type",
               NULL);
    snprintf(extra, sizeof(extra), "  client_ca_file: %s\n  client_auth_type: %s\n", cert,
             "RequireClientCert");
    struct webcfg *c = load_ok(config(FMT_EXTRA, cert, key, extra));
    if (c != NULL) {
        EXPECT_INT(webcfg_client_auth(c), WEBCFG_CLIENT_AUTH_REQUIRE_ANY);
        webcfg_free(c);
    }
    snprintf(extra, sizeof(extra), "  client_ca_file: %s\n  client_auth_type: %s\n",
             tpath("web.yml"), "RequestClientCert");
    load_fails(config(FMT_EXTRA, cert, key, extra), "client_ca_file: no PEM CA certificate", NULL);
    cleanup();
}

#define FMT_CIPHERS "tls_server_config:\n  cert_file: %s\n  key_file: %s\n  cipher_suites: %s\n"

static void cipher_rules(void)
{
    const char *cert = pki_file("server.pem"), *key = pki_file("server.key");
    /* ECDHE-ECDSA and ECDHE-RSA with AES-128-GCM, plus ECDHE-RSA with AES-256-GCM, combine
     * into ECDHE-ECDSA with AES-256-GCM too. */
    load_fails(config(FMT_CIPHERS, cert, key,
                      "[TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
                      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
                      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]"),
               "would also allow TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", NULL);
    load_fails(config(FMT_CIPHERS, cert, key, "[TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA265]"),
               "did you mean \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\"?", NULL);
    load_fails(config(FMT_CIPHERS, cert, key, "[TLS_RSA_WITH_RC4_128_SHA]"), "unknown value", NULL);
    load_fails(config(FMT_CIPHERS, cert, key, "[TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]"),
               "no AEAD (GCM or ChaCha20) suite", NULL);
    load_fails(config(FMT_CIPHERS, cert, key, "[TLS_AES_128_GCM_SHA256]"),
               "no TLS 1.2 cipher suite", NULL);
    load_fails(config(FMT_CIPHERS, cert, key, "TLS_AES_128_GCM_SHA256"), "must be a list", NULL);
    struct webcfg *c =
        load_ok(config(FMT_CIPHERS, cert, key, "[TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]"));
    if (c != NULL) {
        EXPECT_STR(webcfg_tls_priorities(c),
                   "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE:-KX-ALL:+ECDHE-"
                   "ECDSA:-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD");
        webcfg_free(c);
    }
    load_fails(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                      "  curve_preferences: [CurveP255]\n",
                      cert, key),
               "did you mean \"CurveP256\"?", NULL);
    cleanup();
}

static void header_rules(void)
{
    load_fails(config("http_server_config:\n  headers:\n    X-Frame-Options: allow\n"),
               "web.yml:3:22: ", "\"allow\" is not accepted; use deny or sameorigin");
    load_fails(config("http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: "
                      "a=b\"\n"),
               "control character", NULL);
    load_fails(config("http_server_config:\n  http2: maybe\n"), "http2 must be true or false",
               NULL);
    load_fails(config("rate_limit:\n  interval: soon\n"), "rate_limit.interval", NULL);
    load_fails(config("rate_limit:\n  interval: 1s\n  burst: 0\n"), "burst must be at least 1",
               NULL);
    load_fails(config("rate_limit:\n  interval: 1s\n  burst: 1.5\n"), "whole number", NULL);
    cleanup();
}

static void hashes_refused(void)
{
    const char *good = bcrypt_hash("pw", 4, "$2b$");
    const char *bad[] = {
        "hunter2",
        "$1$abcdefgh$abcdefghijklmnopqrstuv",
        "$5$rounds=5000$saltsaltsalt$YkzR9Vb6JbhD0Gm8VdXGJQv9mF0uVf3f1bP2h2qZ7hC",
        "$2x$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW",
        "$2b$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09Mlzl",
        "$2b$03$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        load_fails(config("basic_auth_users:\n  ok: %s\n  carol: '%s'\n", good, bad[i]),
                   "web.yml:3:10: basic_auth_users: the value for user \"carol\" is not a bcrypt",
                   "the value is not shown");
        if (strstr(err, bad[i]) != NULL)
            harness_fail(__FILE__, __LINE__, "secret in the message: %s", err);
        if (strstr(err, good) != NULL)
            harness_fail(__FILE__, __LINE__, "hash in the message: %s", err);
    }
    load_fails(config("basic_auth_users:\n  carol: ['x']\n"), "not a bcrypt", NULL);
    const char *slow = "$2b$31$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW";
    load_fails(config("basic_auth_users:\n  carol: '%s'\n", slow), "bcrypt cost 31", "limit is 18");
    EXPECT(strstr(err, slow) == NULL);
    load_fails(config("basic_auth_users:\n  'a:b': %s\n", good), "user \"a:b\" can never log in",
               NULL);
    /* Caps: more than WEBCFG_MAX_USERS users. */
    FILE *f = fopen(tpath("web.yml"), "w");
    fprintf(f, "basic_auth_users:\n");
    for (int i = 0; i <= WEBCFG_MAX_USERS; i++)
        fprintf(f, "  u%d: x\n", i);
    fclose(f);
    load_fails(tpath("web.yml"), "basic_auth_users has 1001 entries; the limit is 1000", NULL);
    cleanup();
}

static void no_secret_in_errors(void)
{
    const char *hash = bcrypt_hash("pw", 4, "$2b$");
    const char *secret = "TOPSECRETKEYMATERIAL";
    /* An inline key that is not a key, a bad hash, a syntax error after a hash. */
    load_fails(
        config("tls_server_config:\n  cert_file: %s\n  key: %s\n", pki_file("server.pem"), secret),
        "tls_server_config.key: no PEM private key could be read", NULL);
    EXPECT(strstr(err, secret) == NULL);
    load_fails(config("basic_auth_users:\n  a: %s\n  b: %s\n", hash, secret), "not a bcrypt", NULL);
    EXPECT(strstr(err, secret) == NULL);
    EXPECT(strstr(err, hash) == NULL);
    load_fails(config("basic_auth_users:\n  a: %s\n  b: [%s\n", hash, secret), "YAML syntax", NULL);
    EXPECT(strstr(err, secret) == NULL);
    EXPECT(strstr(err, hash) == NULL);
    load_fails(config("basic_auth_users:\n  a: %s\n  a: %s\n", hash, hash), "repeated", NULL);
    EXPECT(strstr(err, hash) == NULL);
    /* The private key's text never shows, even when it is the certificate that is bad. */
    char *key = slurp(pki_file("client.key"));
    load_fails(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n",
                      pki_file("server.pem"), pki_file("client.key")),
               "does not belong", NULL);
    char body[40];
    snprintf(body, sizeof(body), "%.30s", strchr(key, '\n') + 1);
    EXPECT(strstr(err, body) == NULL);
    free(key);
    cleanup();
}

/* ---- Basic authentication ---- */

static struct webcfg *users_config(int cost)
{
    return load_ok(config("basic_auth_users:\n  alice: %s\n  bob: %s\n  carol: %s\n  dave: %s\n",
                          bcrypt_hash("right", cost, "$2y$"), bcrypt_hash("pa:ss", cost, "$2b$"),
                          bcrypt_hash("", cost, "$2a$"),
                          bcrypt_hash("0123456789012345678901234567890123456789012345678901"
                                      "234567890123456789",
                                      cost, "$2b$")));
}

static void basic_passwords(void)
{
    struct webcfg *c = users_config(4);
    if (c == NULL)
        return;
    EXPECT(webcfg_auth_required(c));
    EXPECT(webcfg_check_basic(c, basic("alice", "right")));
    EXPECT(!webcfg_check_basic(c, basic("alice", "wrong")));
    EXPECT(!webcfg_check_basic(c, basic("alice", "Right")));
    EXPECT(!webcfg_check_basic(c, basic("alice", "")));
    EXPECT(!webcfg_check_basic(c, NULL));
    EXPECT(!webcfg_check_basic(c, basic("Alice", "right")));
    EXPECT(!webcfg_check_basic(c, basic("mallory", "right")));
    EXPECT(!webcfg_check_basic(c, basic("", "right")));
    EXPECT(webcfg_check_basic(c, basic("bob", "pa:ss"))); /* colons in a password are fine */
    EXPECT(webcfg_check_basic(c, basic("carol", "")));    /* an empty password can be set */
    EXPECT(!webcfg_check_basic(c, basic("carol", "x")));
    /* 70 bytes pass; bcrypt reads 72, so 73 and more are refused rather than truncated. */
    EXPECT(webcfg_check_basic(
        c,
        basic("dave", "0123456789012345678901234567890123456789012345678901234567890123456789")));
    EXPECT(!webcfg_check_basic(
        c, basic("dave",
                 "0123456789012345678901234567890123456789012345678901234567890123456789xyz")));
    webcfg_free(c);
    cleanup();
}

static void basic_malformed(void)
{
    struct webcfg *c = users_config(4);
    if (c == NULL)
        return;
    const char *good = basic("alice", "right");
    EXPECT(webcfg_check_basic(c, good));
    char buf[256];
    snprintf(buf, sizeof(buf), "basic %s", good + 6); /* the scheme is case-insensitive */
    EXPECT(webcfg_check_basic(c, buf));
    snprintf(buf, sizeof(buf), "  Basic   %s  ", good + 6);
    EXPECT(webcfg_check_basic(c, buf));
    const char *bad[] = {
        "",
        "Basic",
        "Basic ",
        "Bearer YWxpY2U6cmlnaHQ=",
        "BasicYWxpY2U6cmlnaHQ=",
        "Basic YWxpY2U6cmlnaHQ",      /* padding missing */
        "Basic YWxpY2U6cmlnaHQ==",    /* too much padding */
        "Basic YWxpY2U6cmln=aHQ=",    /* padding inside */
        "Basic YWxpY2U6cmlnaH!=",     /* not base64 */
        "Basic YWxp Y2U6cmlnaHQ=",    /* a space inside */
        "Basic YWxpY2U=",             /* "alice": no colon */
        "Basic YWxpY2UAOnJpZ2h0",     /* "alice\0:right" */
        "Basic YWxpY2U6cmlnaHQA",     /* "alice:right\0" */
        "Basic YWxpY2U6cmlnaHQ=YWxp", /* data after padding */
        "Digest username=\"alice\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!EXPECT(!webcfg_check_basic(c, bad[i])))
            harness_fail(__FILE__, __LINE__, "accepted: \"%s\"", bad[i]);
    /* Huge: over WEBCFG_MAX_AUTH_HEADER, even when it decodes to the right password plus
     * padding of spaces. */
    size_t n = WEBCFG_MAX_AUTH_HEADER + 100;
    char *huge = malloc(n + 1);
    memset(huge, ' ', n);
    memcpy(huge, good, strlen(good));
    huge[n] = '\0';
    EXPECT(!webcfg_check_basic(c, huge));
    memset(huge, 'A', n);
    memcpy(huge, "Basic ", 6);
    EXPECT(!webcfg_check_basic(c, huge));
    free(huge);
    webcfg_free(c);
    cleanup();
}

static void basic_cache(void)
{
    struct webcfg *c = users_config(10);
    if (c == NULL)
        return;
    uint64_t computed = 9, cached = 9;
    webcfg_auth_stats(c, &computed, &cached);
    EXPECT_INT(computed, 0);
    EXPECT_INT(cached, 0);
    double t0 = now_s();
    EXPECT(webcfg_check_basic(c, basic("alice", "right")));
    double t1 = now_s();
    EXPECT(webcfg_check_basic(c, basic("alice", "right")));
    double t2 = now_s();
    webcfg_auth_stats(c, &computed, &cached);
    EXPECT_INT(computed, 1);
    EXPECT_INT(cached, 1);
    if (!(t2 - t1 < (t1 - t0) / 5))
        harness_fail(__FILE__, __LINE__, "cached check not faster: first %.6fs, second %.6fs",
                     t1 - t0, t2 - t1);
    /* A wrong password after a right one is checked, and fails; failures are not cached. */
    EXPECT(!webcfg_check_basic(c, basic("alice", "wrong")));
    EXPECT(!webcfg_check_basic(c, basic("alice", "wrong")));
    EXPECT(!webcfg_check_basic(c, basic("alice", "righ")));
    webcfg_auth_stats(c, &computed, &cached);
    EXPECT_INT(computed, 4);
    EXPECT_INT(cached, 1);
    /* Unknown users cost a bcrypt run too, at the configured cost. */
    t0 = now_s();
    EXPECT(!webcfg_check_basic(c, basic("mallory", "right")));
    t1 = now_s();
    webcfg_auth_stats(c, &computed, &cached);
    EXPECT_INT(computed, 5);
    if (t1 - t0 < (t2 - t1) * 10)
        harness_fail(__FILE__, __LINE__, "unknown user answered too fast: %.6fs", t1 - t0);
    EXPECT(webcfg_check_basic(c, basic("alice", "right")));
    webcfg_auth_stats(c, &computed, &cached);
    EXPECT_INT(computed, 5);
    EXPECT_INT(cached, 2);
    webcfg_free(c);
    cleanup();
}

static void basic_cache_eviction(void)
{
    enum { USERS = WEBCFG_CACHE_MAX + 4 };
    FILE *f = fopen(tpath("web.yml"), "w");
    fprintf(f, "basic_auth_users:\n");
    char pass[32];
    for (int i = 0; i < USERS; i++) {
        snprintf(pass, sizeof(pass), "pw%d", i);
        fprintf(f, "  u%d: %s\n", i, bcrypt_hash(pass, 4, "$2b$"));
    }
    fclose(f);
    struct webcfg *c = load_ok(tpath("web.yml"));
    if (c == NULL)
        return;
    char user[32];
    for (int i = 0; i < USERS; i++) {
        snprintf(user, sizeof(user), "u%d", i);
        snprintf(pass, sizeof(pass), "pw%d", i);
        EXPECT(webcfg_check_basic(c, basic(user, pass)));
    }
    uint64_t computed, cached;
    webcfg_auth_stats(c, &computed, &cached);
    EXPECT_INT(computed, USERS);
    EXPECT_INT(cached, 0);
    /* The last one is still cached; the first ones were evicted (least recently used). */
    snprintf(user, sizeof(user), "u%d", USERS - 1);
    snprintf(pass, sizeof(pass), "pw%d", USERS - 1);
    EXPECT(webcfg_check_basic(c, basic(user, pass)));
    EXPECT(webcfg_check_basic(c, basic("u0", "pw0")));
    EXPECT(!webcfg_check_basic(c, basic("u0", "pw1")));
    webcfg_auth_stats(c, &computed, &cached);
    EXPECT_INT(cached, 1);
    EXPECT_INT(computed, USERS + 2);
    webcfg_free(c);
    cleanup();
}

struct racer {
    struct webcfg *c;
    int id, wrong;
};

static void *racer_run(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < 40; i++) {
        bool right = (i + r->id) % 3 != 0;
        /* basic() uses static buffers: fixed headers here (checked in basic_threads). */
        const char *hdr = right ? "Basic YWxpY2U6cmlnaHQ=" : "Basic YWxpY2U6bm9wZQ==";
        if (webcfg_check_basic(r->c, hdr) != right)
            r->wrong++;
    }
    return NULL;
}

static void basic_threads(void)
{
    struct webcfg *c = users_config(4);
    if (c == NULL)
        return;
    EXPECT_STR(basic("alice", "right"), "Basic YWxpY2U6cmlnaHQ=");
    EXPECT_STR(basic("alice", "nope"), "Basic YWxpY2U6bm9wZQ==");
    pthread_t th[8];
    struct racer r[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (struct racer){c, i, 0};
        pthread_create(&th[i], NULL, racer_run, &r[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        EXPECT_INT(r[i].wrong, 0);
    }
    uint64_t computed, cached;
    webcfg_auth_stats(c, &computed, &cached);
    EXPECT_INT(computed + cached, 8 * 40);
    webcfg_free(c);
    cleanup();
}

/* ---- Client certificates and TLS handshakes ---- */

static gnutls_datum_t der_of(const char *pem_path)
{
    char *pem = slurp(pem_path);
    gnutls_datum_t in = {(unsigned char *)pem, (unsigned)strlen(pem)}, out = {NULL, 0};
    if (gnutls_pem_base64_decode2("CERTIFICATE", &in, &out) < 0)
        abort();
    free(pem);
    return out;
}

static struct webcfg *mtls_config(const char *auth, const char *sans)
{
    return load_ok(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                          "  client_ca_file: %s\n  client_auth_type: %s\n%s",
                          pki_file("server.pem"), pki_file("server.key"), pki_file("ca.pem"), auth,
                          sans));
}

static void client_certs(void)
{
    gnutls_datum_t client = der_of(pki_file("client.pem")), other = der_of(pki_file("other.pem")),
                   server = der_of(pki_file("server.pem"));
    char why[512];
    struct webcfg *c = mtls_config("RequireAndVerifyClientCert", "");
    if (c != NULL) {
        EXPECT_INT(webcfg_verify_peer(c, &client, 1, why, sizeof(why)), 0);
        EXPECT_INT(webcfg_verify_peer(c, NULL, 0, why, sizeof(why)), -1);
        EXPECT_CONTAINS(why, "a client certificate is required");
        EXPECT_INT(webcfg_verify_peer(c, &other, 1, why, sizeof(why)), -1);
        EXPECT_CONTAINS(why, "not trusted");
        EXPECT_INT(webcfg_verify_peer(c, &server, 1, why, sizeof(why)), -1);
        gnutls_datum_t junk = {(unsigned char *)"junk", 4};
        EXPECT_INT(webcfg_verify_peer(c, &junk, 1, why, sizeof(why)), -1);
        EXPECT_CONTAINS(why, "cannot be read");
        webcfg_free(c);
    }
    c = mtls_config("VerifyClientCertIfGiven", "");
    if (c != NULL) {
        EXPECT_INT(webcfg_verify_peer(c, NULL, 0, why, sizeof(why)), 0);
        EXPECT_INT(webcfg_verify_peer(c, &client, 1, why, sizeof(why)), 0);
        EXPECT_INT(webcfg_verify_peer(c, &other, 1, why, sizeof(why)), -1);
        webcfg_free(c);
    }
    c = mtls_config("RequireAnyClientCert", "");
    if (c != NULL) {
        EXPECT_INT(webcfg_verify_peer(c, NULL, 0, why, sizeof(why)), -1);
        EXPECT_INT(webcfg_verify_peer(c, &other, 1, why, sizeof(why)), 0);
        webcfg_free(c);
    }
    c = mtls_config("RequestClientCert", "");
    if (c != NULL) {
        EXPECT_INT(webcfg_verify_peer(c, NULL, 0, why, sizeof(why)), 0);
        EXPECT_INT(webcfg_verify_peer(c, &other, 1, why, sizeof(why)), 0);
        webcfg_free(c);
    }
    c = mtls_config("RequireAndVerifyClientCert", "  client_allowed_sans: [10.0.0.1]\n");
    if (c != NULL) {
        EXPECT_INT(webcfg_verify_peer(c, &client, 1, why, sizeof(why)), 0);
        webcfg_free(c);
    }
    c = mtls_config("RequireAndVerifyClientCert", "  client_allowed_sans: [client.example]\n");
    if (c != NULL) {
        EXPECT_INT(webcfg_verify_peer(c, &client, 1, why, sizeof(why)), 0);
        webcfg_free(c);
    }
    c = mtls_config("RequireAnyClientCert", "  client_allowed_sans: [10.0.0.2, other.example]\n");
    if (c != NULL) {
        EXPECT_INT(webcfg_verify_peer(c, &client, 1, why, sizeof(why)), -1);
        EXPECT_CONTAINS(why, "client_allowed_sans");
        webcfg_free(c);
    }
    gnutls_free(client.data);
    gnutls_free(other.data);
    gnutls_free(server.data);
    cleanup();
}

/* One TLS handshake over a socket pair: the server set up from a webcfg the way
 * libmicrohttpd does it, the client with its own priorities and optional certificate. */
struct handshake {
    struct webcfg *c;
    int fd;
    int rc;
    gnutls_protocol_t version;
    gnutls_cipher_algorithm_t cipher;
    int verify;
    char why[512];
};

static void *handshake_server(void *arg)
{
    struct handshake *h = arg;
    gnutls_certificate_credentials_t cred;
    gnutls_certificate_allocate_credentials(&cred);
    const char *cert = webcfg_tls_cert_pem(h->c), *key = webcfg_tls_key_pem(h->c),
               *ca = webcfg_tls_ca_pem(h->c);
    gnutls_datum_t cd = {(unsigned char *)cert, (unsigned)strlen(cert)},
                   kd = {(unsigned char *)key, (unsigned)strlen(key)};
    gnutls_certificate_set_x509_key_mem(cred, &cd, &kd, GNUTLS_X509_FMT_PEM);
    if (ca != NULL) {
        gnutls_datum_t ad = {(unsigned char *)ca, (unsigned)strlen(ca)};
        gnutls_certificate_set_x509_trust_mem(cred, &ad, GNUTLS_X509_FMT_PEM);
    }
    gnutls_session_t s;
    gnutls_init(&s, GNUTLS_SERVER);
    gnutls_priority_set_direct(s, webcfg_tls_priorities(h->c), NULL);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    if (ca != NULL)
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
    gnutls_transport_set_int(s, h->fd);
    gnutls_handshake_set_timeout(s, 10000);
    do
        h->rc = gnutls_handshake(s);
    while (h->rc < 0 && gnutls_error_is_fatal(h->rc) == 0);
    if (h->rc == 0) {
        h->version = gnutls_protocol_get_version(s);
        h->cipher = gnutls_cipher_get(s);
        h->verify = webcfg_verify_session(h->c, s, h->why, sizeof(h->why));
        gnutls_record_send(s, "x", 1);
    }
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
    close(h->fd);
    return NULL;
}

/* Runs a handshake; returns the client's result (0 or a GnuTLS error). */
static int handshake(struct webcfg *c, const char *client_prio, const char *client_cert,
                     const char *client_key, struct handshake *h)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    memset(h, 0, sizeof(*h));
    h->c = c;
    h->fd = sv[0];
    h->verify = 99;
    pthread_t th;
    pthread_create(&th, NULL, handshake_server, h);
    gnutls_certificate_credentials_t cred;
    gnutls_certificate_allocate_credentials(&cred);
    if (client_cert != NULL)
        gnutls_certificate_set_x509_key_file(cred, client_cert, client_key, GNUTLS_X509_FMT_PEM);
    gnutls_session_t s;
    gnutls_init(&s, GNUTLS_CLIENT);
    gnutls_priority_set_direct(s, client_prio, NULL);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_transport_set_int(s, sv[1]);
    gnutls_handshake_set_timeout(s, 10000);
    int rc;
    do
        rc = gnutls_handshake(s);
    while (rc < 0 && gnutls_error_is_fatal(rc) == 0);
    if (rc == 0) {
        char b;
        ssize_t got;
        do
            got = gnutls_record_recv(s, &b, 1);
        while (got == GNUTLS_E_AGAIN || got == GNUTLS_E_INTERRUPTED);
    }
    close(sv[1]);
    pthread_join(th, NULL);
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
    return rc;
}

static void tls_handshakes(void)
{
    const char *cert = pki_file("server.pem"), *key = pki_file("server.key");
    struct handshake h;
    struct webcfg *c =
        load_ok(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n", cert, key));
    if (c != NULL) {
        EXPECT_INT(handshake(c, "NORMAL", NULL, NULL, &h), 0);
        EXPECT_INT(h.rc, 0);
        EXPECT_INT(h.version, GNUTLS_TLS1_3);
        EXPECT_INT(h.verify, 0);
        EXPECT_INT(handshake(c, "NORMAL:-VERS-ALL:+VERS-TLS1.2", NULL, NULL, &h), 0);
        EXPECT_INT(h.version, GNUTLS_TLS1_2);
        EXPECT(handshake(c, "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0", NULL, NULL, &h) != 0);
        EXPECT(h.rc != 0);
        webcfg_free(c);
    }
    c = load_ok(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                       "  min_version: TLS13\n",
                       cert, key));
    if (c != NULL) {
        EXPECT(handshake(c, "NORMAL:-VERS-ALL:+VERS-TLS1.2", NULL, NULL, &h) != 0);
        EXPECT_INT(handshake(c, "NORMAL", NULL, NULL, &h), 0);
        EXPECT_INT(h.version, GNUTLS_TLS1_3);
        webcfg_free(c);
    }
    c = load_ok(config("tls_server_config:\n  cert_file: %s\n  key_file: %s\n"
                       "  max_version: TLS12\n"
                       "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n"
                       "  curve_preferences: [CurveP384]\n",
                       cert, key));
    if (c != NULL) {
        EXPECT_INT(handshake(c, "NORMAL", NULL, NULL, &h), 0);
        EXPECT_INT(h.version, GNUTLS_TLS1_2);
        EXPECT_INT(h.cipher, GNUTLS_CIPHER_AES_256_GCM);
        /* A client without that cipher cannot connect. */
        EXPECT(handshake(c, "NORMAL:-AES-256-GCM", NULL, NULL, &h) != 0);
        webcfg_free(c);
    }
    c = mtls_config("RequireAndVerifyClientCert", "");
    if (c != NULL) {
        EXPECT_INT(handshake(c, "NORMAL", pki_file("client.pem"), pki_file("client.key"), &h), 0);
        EXPECT_INT(h.verify, 0);
        EXPECT_INT(handshake(c, "NORMAL", NULL, NULL, &h), 0); /* refused by the server */
        EXPECT_INT(h.verify, -1);
        EXPECT_CONTAINS(h.why, "required");
        EXPECT_INT(handshake(c, "NORMAL", pki_file("other.pem"), pki_file("other.key"), &h), 0);
        EXPECT_INT(h.verify, -1); /* GnuTLS clients do not even send a cert of another CA */
        EXPECT_INT(handshake(c, "NORMAL:-VERS-ALL:+VERS-TLS1.2", pki_file("client.pem"),
                             pki_file("client.key"), &h),
                   0);
        EXPECT_INT(h.verify, 0);
        webcfg_free(c);
    }
    cleanup();
}

const struct harness_test suite_webcfg[] = {
    {"load_full", load_full},
    {"load_empty", load_empty},
    {"load_versions", load_versions},
    {"tls10_refused", tls10_refused},
    {"cert_key_pairs", cert_key_pairs},
    {"unreadable_files", unreadable_files},
    {"unknown_keys", unknown_keys},
    {"client_auth_rules", client_auth_rules},
    {"cipher_rules", cipher_rules},
    {"header_rules", header_rules},
    {"hashes_refused", hashes_refused},
    {"no_secret_in_errors", no_secret_in_errors},
    {"basic_passwords", basic_passwords},
    {"basic_malformed", basic_malformed},
    {"basic_cache", basic_cache},
    {"basic_cache_eviction", basic_cache_eviction},
    {"basic_threads", basic_threads},
    {"client_certs", client_certs},
    {"tls_handshakes", tls_handshakes},
    HARNESS_END,
};
