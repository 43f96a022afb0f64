/* libFuzzer target: arbitrary bytes as a rule file. The loader must never crash, leak or
 * hang, and a successful load must give a model whose dump works. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag_list diags = {0};
    struct rules_set *set = NULL;
    if (rules_load_buffer("fuzz.yaml", (const char *)data, size, &set, &diags) == 0) {
        char *dump = rules_dump(set);
        free(dump);
        if (diags.errors != 0)
            abort(); /* a set is only returned when there was no error */
    } else if (diags.errors == 0) {
        abort(); /* a refused file always says why */
    }
    rules_set_free(set);
    diag_free(&diags);
    return 0;
}
