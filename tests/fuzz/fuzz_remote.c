/* libFuzzer target: the remote read path's two parsers. The first byte picks one: even, the
 * rest is a PromQL query for the recognizer (remote_parse); odd, a STREAMED_XOR_CHUNKS body
 * decoded for sum by (route) (increase(x[1m])) at 60 s steps (remote_decode: frames, CRC,
 * protobuf, XOR chunks, series order, the arithmetic). Neither may crash, leak or hang; a
 * decoded result must be on the step grid, its labels sorted, and a refusal must say why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct arena a = {0};
    struct remote_expr e;
    if ((data[0] & 1) == 0) {
        char *q = malloc(size);
        memcpy(q, data + 1, size - 1);
        q[size - 1] = '\0';
        if (remote_parse(q, &a, &e) == 0 &&
            (e.range_ms <= 0 || e.n_matchers == 0 || strcmp(e.matchers[0].name, "__name__") != 0))
            abort();
        free(q);
        arena_free(&a);
        return 0;
    }
    if (remote_parse("sum by (route) (increase(x[1m]))", &a, &e) != 0)
        abort();
    const int64_t start = 60000, end = 600000, step = 60000;
    struct prom_result r;
    struct prom_error err;
    if (remote_decode(&e, start, end, step, data + 1, size - 1, &r, &err) == 0) {
        for (size_t i = 0; i < r.n_series; i++) {
            const struct prom_series *s = &r.series[i];
            if (s->n_labels > 1 || s->n_samples == 0 || s->n_samples > 10)
                abort();
            for (size_t j = 0; j < s->n_samples; j++)
                if (s->samples[j].t_ms < start || s->samples[j].t_ms > end ||
                    (s->samples[j].t_ms - start) % step != 0 ||
                    (j > 0 && s->samples[j].t_ms <= s->samples[j - 1].t_ms))
                    abort();
        }
        prom_result_free(&r);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    arena_free(&a);
    return 0;
}
