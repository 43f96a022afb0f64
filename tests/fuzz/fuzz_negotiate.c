/* libFuzzer target: arbitrary bytes as the Accept header (up to the first newline) and the
 * Accept-Encoding header (the rest) of a scrape. Negotiation must never crash, read out of
 * bounds or answer anything but a known format; the whole input must survive a gzip round
 * trip. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Compresses data and inflates it back; aborts unless the bytes come back unchanged. */
static void fuzz_gzip(const uint8_t *data, size_t size)
{
    void *z;
    size_t zn;
    if (negot_gzip_compress(data, size, &z, &zn) != 0)
        abort();
    unsigned char *back = malloc(size + 1);
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (back == NULL || inflateInit2(&zs, 15 + 16) != Z_OK)
        abort();
    zs.next_in = z;
    zs.avail_in = (uInt)zn;
    zs.next_out = back;
    zs.avail_out = (uInt)size + 1;
    if (inflate(&zs, Z_FINISH) != Z_STREAM_END || zs.total_out != size ||
        memcmp(back, data, size) != 0)
        abort();
    inflateEnd(&zs);
    free(back);
    free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n_accept = nl != NULL ? (size_t)(nl - data) : size;
    char *accept = fuzz_strndup(data, n_accept);
    char *encoding = nl != NULL ? fuzz_strndup(nl + 1, size - n_accept - 1) : NULL;

    enum negot_format f = negot_format(accept);
    if (f != NEGOT_TEXT && f != NEGOT_OPENMETRICS && f != NEGOT_PROTOBUF)
        abort();
    if (negot_format(accept) != f || negot_content_type(f) == NULL)
        abort();
    if (strlen(accept) > NEGOT_MAX_HEADER && f != NEGOT_TEXT)
        abort();
    bool gz = negot_gzip(encoding);
    if (encoding != NULL && strlen(encoding) > NEGOT_MAX_HEADER && gz)
        abort();
    if (gz && strcasestr(encoding, "gzip") == NULL && strchr(encoding, '*') == NULL)
        abort();
    if ((f == NEGOT_PROTOBUF && strstr(accept, "io.prometheus.client.MetricFamily") == NULL) ||
        (f == NEGOT_OPENMETRICS && strcasestr(accept, "openmetrics-text") == NULL))
        abort();
    fuzz_gzip(data, size);
    free(encoding);
    free(accept);
    return 0;
}
