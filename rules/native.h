/* native: the sloe/v1 rule format. */
#ifndef SLOE_NATIVE_H
#define SLOE_NATIVE_H

#include "build.h"

/* Reads one sloe/v1 document (root is its mapping) into the set being built. Problems go to
 * the build's diagnostics. */
void native_read(struct build *b, struct ydoc *d, yaml_node_t *root);

/* Applies the exclusions given at the top of files (for SLOs named by patterns) to every
 * SLO they match, once all files are read. Reports patterns that match nothing. */
void native_finish(struct build *b);

/* Reads a sloe/v1 time: RFC 3339 with Z or an offset, or a local "YYYY-MM-DD[THH:MM[:SS]]"
 * in zone. Returns 0 and unix seconds, or -1 (no message). */
int native_parse_time(const char *s, const char *zone, int64_t *out);

/* As native_parse_time with times without an offset in UTC. */
int native_parse_time_utc(const char *s, int64_t *out);

/* Reads service-hour days ("mon-fri", "mon,wed", "daily") into a Monday=bit 0 mask. Returns 0
 * or -1. */
int native_parse_days(const char *s, uint8_t *out);

#endif
