/* ydoc: reading one YAML document (libyaml's document API) with every problem reported at
 * its line and column: typed scalars, mappings with known keys ("did you mean"), and caps
 * on the work aliases can cause. */
#ifndef SLOE_YDOC_H
#define SLOE_YDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "arena.h"
#include "diag.h"

struct ydoc {
    const char *file;
    yaml_document_t *doc;
    struct diag_list *diags;
    struct arena *arena; /* where strings taken from the document are copied */
    size_t visits;       /* mapping entries and sequence items looked at, capped */
    bool over;           /* the visit cap was hit: stop reading */
};

/* Returns the node with the given index, or NULL. */
yaml_node_t *ydoc_node(struct ydoc *d, int index);

/* The root node of the document, or NULL for an empty one. */
yaml_node_t *ydoc_root(struct ydoc *d);

/* Reports an error (or warning) at the start of node n; n may be NULL. */
void ydoc_error(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ydoc_warn(struct ydoc *d, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The 1-based line and column of n. */
unsigned ydoc_line(const yaml_node_t *n);
unsigned ydoc_col(const yaml_node_t *n);

/* When n is a mapping, reports every key not in allowed (NULL-terminated) with the closest
 * allowed key as a suggestion, and every repeated key; returns 0. When n is not a mapping,
 * reports "WHAT must be a mapping" and returns -1. */
int ydoc_map(struct ydoc *d, yaml_node_t *n, const char *what, const char *const *allowed);

/* The value for key in mapping n, or NULL (also when n is not a mapping). */
yaml_node_t *ydoc_get(struct ydoc *d, yaml_node_t *n, const char *key);

/* The key node of `key` in mapping n, or NULL. */
yaml_node_t *ydoc_get_key(struct ydoc *d, yaml_node_t *n, const char *key);

/* As ydoc_get, and reports "missing field KEY" at n when absent. */
yaml_node_t *ydoc_need(struct ydoc *d, yaml_node_t *n, const char *key, const char *what);

/* The number of items of sequence n; reports "WHAT must be a list" and returns -1 when n is
 * not a sequence. ydoc_item returns item i. */
int ydoc_seq_len(struct ydoc *d, yaml_node_t *n, const char *what);
yaml_node_t *ydoc_item(struct ydoc *d, yaml_node_t *n, int i);

/* Number of pairs of mapping n (0 when not a mapping) and pair i's key and value. */
int ydoc_map_len(yaml_node_t *n);
yaml_node_t *ydoc_key(struct ydoc *d, yaml_node_t *n, int i);
yaml_node_t *ydoc_value(struct ydoc *d, yaml_node_t *n, int i);

/* Typed scalars. Each reports a message naming WHAT and returns -1 when n is the wrong
 * type; n == NULL is an error too. Strings are copied into the arena and capped in size. */
int ydoc_str(struct ydoc *d, yaml_node_t *n, const char *what, const char **out);
int ydoc_number(struct ydoc *d, yaml_node_t *n, const char *what, double *out);
int ydoc_bool(struct ydoc *d, yaml_node_t *n, const char *what, bool *out);

/* The scalar text of n, or NULL when n is not a scalar (not copied). */
const char *ydoc_scalar(yaml_node_t *n);

/* The allowed key closest to key within a small edit distance, or NULL. */
const char *ydoc_suggest(const char *key, const char *const *allowed);

#endif
