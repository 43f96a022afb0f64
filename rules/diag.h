/* diag: a list of problems found in rule files, each with its place, printed as
 * FILE:LINE:COL: message, sorted by file and position. */
#ifndef SLOE_DIAG_H
#define SLOE_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
    char *file;    /* owned */
    unsigned line; /* 1-based; 0 when the problem has no place in the file */
    unsigned col;  /* 1-based */
    enum diag_severity severity;
    char *msg;  /* owned */
    size_t seq; /* order of adding, to keep sorting stable */
};

struct diag_list {
    struct diag *v;
    size_t n, cap;
    size_t errors, warnings;
    uint64_t *seen; /* hashes of the entries kept, to drop exact repeats (aliases) */
    size_t seen_cap;
};

/* Adds a problem; file is copied. The same message at the same place is kept once (a node
 * reached through several aliases). Past DIAG_MAX entries problems are counted, not kept. */
void diag_add(struct diag_list *l, enum diag_severity sev, const char *file, unsigned line,
              unsigned col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Sorts by file, line, column (stable for equal places) and writes one line each to out. */
void diag_print(struct diag_list *l, FILE *out);

/* Frees every entry; the list is empty and reusable. */
void diag_free(struct diag_list *l);

enum { DIAG_MAX = 1000 };

#endif
