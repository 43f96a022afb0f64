/* openslo: OpenSLO openslo/v1 SLO documents (and the SLI documents they refer to), mapped
 * onto the sloe model. */
#ifndef SLOE_OPENSLO_H
#define SLOE_OPENSLO_H

#include "build.h"

/* kind: SLI documents of the whole set, by name, for indicatorRef. */
struct openslo_sli {
    const char *name;
    struct ydoc *doc;
    yaml_node_t *root;
};

struct openslo_index {
    size_t n;
    const struct openslo_sli *v;
};

/* True when the document is an OpenSLO SLI that goes into the index; its name is returned. */
const char *openslo_sli_name(struct ydoc *d, yaml_node_t *root);

/* Reads one openslo/v1 document: a kind SLO adds one SLO per objective; kind SLI documents
 * are checked; other kinds are skipped. */
void openslo_read(struct build *b, struct ydoc *d, yaml_node_t *root,
                  const struct openslo_index *index);

#endif
