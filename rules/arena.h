/* arena: a bump allocator for objects that live and die together (a rule set, an
 * evaluation, a scrape). Allocation failure aborts: callers only handle real errors. */
#ifndef SLOE_ARENA_H
#define SLOE_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head;
    size_t used; /* bytes handed out, for caps and statistics */
};

/* Returns zeroed memory of n bytes, aligned for any type, owned by the arena. */
void *arena_alloc(struct arena *a, size_t n);

/* Copies s (NUL-terminated) into the arena; NULL stays NULL. */
char *arena_strdup(struct arena *a, const char *s);

/* Copies n bytes of s into the arena and NUL-terminates the copy. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Formats into a new arena string. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees every block; the arena is empty and reusable afterwards. */
void arena_free(struct arena *a);

#endif
