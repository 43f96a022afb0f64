#include "expo_value.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 expo_value_u128;

/* clang-format off */
/* 5^k for k = 0..27: each fits in 63 bits, so a 53-bit significand times one fits in 128. */
static const uint64_t expo_value_pow5[28] = {
    1, 5, 25, 125, 625,
    3125, 15625, 78125, 390625, 1953125,
    9765625, 48828125, 244140625, 1220703125, 6103515625,
    30517578125, 152587890625, 762939453125, 3814697265625, 19073486328125,
    95367431640625, 476837158203125, 2384185791015625, 11920928955078125, 59604644775390625,
    298023223876953125, 1490116119384765625, 7450580596923828125,
};

/* 10^k for k = 0..17, as integers. */
static const uint64_t expo_value_pow10[18] = {
    1, 10, 100, 1000, 10000, 100000,
    1000000, 10000000, 100000000, 1000000000, 10000000000,
    100000000000, 1000000000000, 10000000000000, 100000000000000,
    1000000000000000, 10000000000000000, 100000000000000000,
};
/* clang-format on */

/* 10^k for k = 0..22: the powers of ten that are exact doubles. */
static const double expo_value_pow10d[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Rounds a (positive and finite) to p <= 17 significant digits the way printf does, from
 * its exact binary value with ties to even: a ~ m * 10^(x - p + 1) with 10^(p-1) <= m <
 * 10^p, x being the decimal exponent of the rounded value. guess is x or one off. Returns
 * false, leaving the work to printf, when a * 10^(p-1-x) is not computable in 128 bits: a >=
 * 10^p or a below about 10^(p-28). */
static bool expo_value_round(double a, int p, int guess, uint64_t *m, int *x)
{
    int be;
    uint64_t f = (uint64_t)ldexp(frexp(a, &be), 53);
    int e = be - 53; /* a = f * 2^e exactly */
    /* A wrong guess, or rounding that carries into one more digit, gives a q with too many
     * or too few digits: each retry moves the guess by one. */
    for (int tries = 0; tries < 4; tries++) {
        int k = p - 1 - guess;
        if (k < 0 || k > 27)
            return false;
        /* a * 10^k = f * 5^k * 2^(e + k), rounded to an integer. */
        expo_value_u128 n = (expo_value_u128)f * expo_value_pow5[k], q;
        int s = -(e + k);
        if (s <= 0) {
            if (s < -10)
                return false;
            q = n << -s;
        } else if (s >= 127) {
            q = 0; /* n < 2^116: less than half of 2^s */
        } else {
            q = n >> s;
            expo_value_u128 rem = n - (q << s), half = (expo_value_u128)1 << (s - 1);
            if (rem > half || (rem == half && (q & 1) != 0))
                q++;
        }
        if (q >= expo_value_pow10[p]) {
            guess++;
        } else if (q < expo_value_pow10[p - 1]) {
            guess--;
        } else {
            *m = (uint64_t)q;
            *x = guess;
            return true;
        }
    }
    return false;
}

/* Writes the p digits of m (as expo_value_round gives them) the way "%.{p}g" does: trailing
 * zeros dropped; fixed notation when -4 <= x < p, else d.ddde-XX. */
static size_t expo_value_write(char *buf, bool negative, uint64_t m, int p, int x)
{
    char d[20];
    for (int i = p - 1; i >= 0; i--) {
        d[i] = (char)('0' + m % 10);
        m /= 10;
    }
    int nd = p;
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    size_t n = 0;
    if (negative)
        buf[n++] = '-';
    if (x >= -4 && x < p) {
        if (x < 0) {
            buf[n++] = '0';
            buf[n++] = '.';
            for (int i = -1; i > x; i--)
                buf[n++] = '0';
            memcpy(buf + n, d, (size_t)nd);
            n += (size_t)nd;
        } else {
            int i = 0;
            for (; i <= x; i++)
                buf[n++] = i < nd ? d[i] : '0';
            if (nd > x + 1) {
                buf[n++] = '.';
                for (; i < nd; i++)
                    buf[n++] = d[i];
            }
        }
    } else {
        buf[n++] = d[0];
        if (nd > 1) {
            buf[n++] = '.';
            memcpy(buf + n, d + 1, (size_t)nd - 1);
            n += (size_t)nd - 1;
        }
        buf[n++] = 'e';
        buf[n++] = x < 0 ? '-' : '+';
        int ax = abs(x);
        if (ax >= 100)
            buf[n++] = (char)('0' + ax / 100);
        buf[n++] = (char)('0' + ax / 10 % 10);
        buf[n++] = (char)('0' + ax % 10);
    }
    buf[n] = '\0';
    return n;
}

/* Writes the integer a < 1e15 in full. */
static size_t expo_value_integer(char *buf, bool negative, double a)
{
    char d[20];
    size_t nd = 0;
    for (uint64_t u = (uint64_t)a; nd == 0 || u > 0; u /= 10)
        d[nd++] = (char)('0' + u % 10);
    size_t n = 0;
    if (negative)
        buf[n++] = '-';
    while (nd > 0)
        buf[n++] = d[--nd];
    buf[n] = '\0';
    return n;
}

size_t expo_value_format(double v, char buf[EXPO_VALUE_SIZE])
{
    if (v == 0) /* -0 too */
        return (size_t)snprintf(buf, EXPO_VALUE_SIZE, "0");
    if (isnan(v))
        return (size_t)snprintf(buf, EXPO_VALUE_SIZE, "NaN");
    if (isinf(v))
        return (size_t)snprintf(buf, EXPO_VALUE_SIZE, v > 0 ? "+Inf" : "-Inf");
    bool negative = v < 0;
    double a = fabs(v);
    if (a < 1e15 && a == floor(a))
        return expo_value_integer(buf, negative, a);
    uint64_t m;
    int x, be;
    frexp(a, &be);
    /* 2^(be-1) <= a < 2^be, so log10(a) is within log10(2) above (be - 1) * log10(2). */
    int guess = (int)floor((be - 1) * 0.30102999566398120);
    if (expo_value_round(a, 15, guess, &m, &x)) {
        /* The 15 digits read back as a exactly when m / 10^k rounds to a: both are exact
         * doubles, and division rounds correctly as strtod does. */
        int k = 14 - x;
        if (k <= 22 && (double)m / expo_value_pow10d[k] == a)
            return expo_value_write(buf, negative, m, 15, x);
        if (k > 22) {
            size_t n = expo_value_write(buf, negative, m, 15, x);
            if (strtod(buf, NULL) == v)
                return n;
        }
        if (expo_value_round(a, 17, x, &m, &x))
            return expo_value_write(buf, negative, m, 17, x);
    }
    snprintf(buf, EXPO_VALUE_SIZE, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, EXPO_VALUE_SIZE, "%.17g", v);
    return strlen(buf);
}
