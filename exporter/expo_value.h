/* expo_value: sample values as the text exposition formats write them.
 *
 * The rule: 0 (and -0) as "0", NaN as "NaN", the infinities as "+Inf" and "-Inf", integers
 * below 1e15 in full, and any other value as printf's "%.15g" when that reads back exactly,
 * else as "%.17g", which always does. Prometheus parses values with Go's ParseFloat, which
 * rounds correctly like strtod, so every value it reads is the one written.
 *
 * printf and strtod cost about a microsecond a value, too much for the hundreds of thousands
 * of values of a large exposition; so the digits are computed here exactly with integer
 * arithmetic for magnitudes from about 1e-11 to 1e15, where nearly every value is, and
 * printf and strtod remain for the others. The output is the same either way. */
#ifndef SLOE_EXPO_VALUE_H
#define SLOE_EXPO_VALUE_H

#include <stddef.h>

/* Room for any value expo_value_format writes, with its NUL. */
#define EXPO_VALUE_SIZE 32

/* Writes v into buf (NUL-terminated) by the rule above; returns its length. */
size_t expo_value_format(double v, char buf[EXPO_VALUE_SIZE]);

#endif
