/* libFuzzer target: arbitrary bytes as a web configuration file (--web.config.file), then the
 * same bytes as an Authorization header checked against a fixed configuration. Loading must
 * never crash, leak or hang; a refusal must say why; a check must give the same answer twice
 * and accept nothing but the one right user and password. */
#include <crypt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* basic_auth_users: {alice: bcrypt("secret")}, at the lowest cost for speed. */
static struct webcfg *fuzz_fixed(void)
{
    static struct webcfg *fixed;
    if (fixed != NULL)
        return fixed;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE], yaml[256], err[1024];
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (cd == NULL || crypt_gensalt_rn("$2b$", 4, NULL, 0, setting, sizeof(setting)) == NULL)
        abort();
    const char *hash = crypt_r("secret", setting, cd);
    if (hash == NULL || hash[0] != '$')
        abort();
    int n = snprintf(yaml, sizeof(yaml), "basic_auth_users:\n  alice: %s\n", hash);
    free(cd);
    if (webcfg_load_buffer("fixed.yml", yaml, (size_t)n, &fixed, err, sizeof(err)) != 0)
        abort();
    return fixed;
}

static void fuzz_load(const uint8_t *data, size_t size)
{
    char err[4096];
    struct webcfg *c = (struct webcfg *)1;
    if (webcfg_load_buffer("fuzz/web.yml", (const char *)data, size, &c, err, sizeof(err)) != 0) {
        if (c != NULL || err[0] == '\0')
            abort();
        return;
    }
    if (c == NULL)
        abort();
    bool tls = webcfg_tls_enabled(c);
    if (tls != (webcfg_tls_priorities(c) != NULL) || tls != (webcfg_tls_cert_pem(c) != NULL) ||
        tls != (webcfg_tls_key_pem(c) != NULL))
        abort();
    size_t nh;
    const struct webcfg_header *h = webcfg_headers(c, &nh);
    for (size_t i = 0; i < nh; i++)
        if (h[i].name == NULL || h[i].value == NULL || h[i].value[0] == '\0' ||
            strpbrk(h[i].value, "\r\n") != NULL)
            abort();
    if (!webcfg_auth_required(c) && !webcfg_check_basic(c, NULL))
        abort();
    if (webcfg_verify_peer(c, NULL, 0, NULL, 0) != 0 &&
        webcfg_client_auth(c) != WEBCFG_CLIENT_AUTH_REQUIRE_ANY &&
        webcfg_client_auth(c) != WEBCFG_CLIENT_AUTH_REQUIRE_VERIFY)
        abort();
    webcfg_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct webcfg *fixed = fuzz_fixed();
    fuzz_load(data, size);

    size_t n = size < 8192 ? size : 8192;
    char *header = malloc(n + 1);
    if (header == NULL)
        abort();
    memcpy(header, data, n);
    header[n] = '\0';
    bool ok = webcfg_check_basic(fixed, header);
    if (ok != webcfg_check_basic(fixed, header))
        abort();
    /* Only "alice:secret" may pass; its base64 is YWxpY2U6c2VjcmV0. */
    if (ok && strstr(header, "YWxpY2U6c2VjcmV0") == NULL)
        abort();
    free(header);
    return 0;
}
