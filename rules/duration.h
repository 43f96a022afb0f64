/* duration: Prometheus duration notation ("30s", "5m", "1h30m", "30d", "4w", "1y", "500ms"). */
#ifndef SLOE_DURATION_H
#define SLOE_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Parses s into milliseconds. Units, largest first and each at most once: y (365d), w, d, h,
 * m, s, ms. Returns 0 on success, -1 when s is not a duration or overflows. "0" is 0. */
int duration_parse_ms(const char *s, int64_t *out) __attribute__((warn_unused_result));

/* Writes ms in Prometheus notation with days as the largest unit ("1h30m", "30d", "0s")
 * into buf.
 * Returns buf. */
char *duration_format(int64_t ms, char *buf, size_t size);

#endif
