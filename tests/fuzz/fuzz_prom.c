/* libFuzzer target: arbitrary bytes as a query API response body. The first byte picks the
 * HTTP status. The decoder must never crash, leak or hang; a decoded result must be
 * consistent and a refusal must say why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int statuses[] = {200, 200, 200, 200, 400, 422, 500, 502, 503, 204};
    if (size == 0)
        return 0;
    int status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
    struct prom_result r;
    struct prom_error err;
    if (prom_decode((const char *)data + 1, size - 1, status, &r, &err) == 0) {
        if (err.kind != PROM_OK || (r.type == PROM_RESULT_SCALAR && r.n_series != 1))
            abort();
        for (size_t i = 0; i < r.n_series; i++) {
            const struct prom_series *s = &r.series[i];
            if (s->n_labels > PROM_MAX_LABELS ||
                (r.type != PROM_RESULT_MATRIX && s->n_samples != 1))
                abort();
            for (size_t j = 1; j < s->n_labels; j++)
                if (strcmp(s->labels[j - 1].name, s->labels[j].name) >= 0)
                    abort(); /* sorted, names unique */
        }
        for (size_t i = 0; i < r.n_warnings; i++)
            if (r.warnings[i] == NULL)
                abort();
        prom_result_free(&r);
    } else {
        if (err.kind == PROM_OK || err.msg[0] == '\0' || r.n_series != 0 ||
            strlen(prom_error_reason(err.kind)) == 0)
            abort();
        prom_result_free(&r); /* allowed on an empty result */
    }
    return 0;
}
