/* expo_pb: writes a metric set in the Prometheus protobuf exposition format
 * (application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
 * encoding=delimited): one io.prometheus.client.MetricFamily message per family, each
 * preceded by its length as a varint. The messages are declared in exporter/metrics.proto;
 * they are encoded here directly, in field order as protobuf encoders write them (the unit
 * tests compare the bytes with protobuf-c's), without building message structures for
 * hundreds of thousands of metrics. The LabelPairs shared by a sample's label list are
 * encoded once and copied.
 *
 * Names and types are chosen so that a Prometheus scraping this format stores exactly the
 * series of the text formats: a counter family is named "x_total" (type COUNTER), an info
 * family "x_info" (type GAUGE), a stateset family keeps its name and its state label (type
 * GAUGE), a gauge is a GAUGE, and a histogram is a HISTOGRAM named without suffix with one
 * metric per label set (the "le" label becomes the buckets' upper_bound; the counts stay
 * cumulative, the +Inf bucket included). Families without samples are left out. */
#ifndef SLOE_EXPO_PB_H
#define SLOE_EXPO_PB_H

#include <stdio.h>

#include "expo.h"

/* Writes e to out. The set is only read. Returns 0, or -1 when writing to out failed (what
 * was written is then incomplete and must not be served). Allocation failure aborts. */
int expo_pb_write(const struct expo_set *e, FILE *out) __attribute__((warn_unused_result));

/* e encoded, malloc'd, *len bytes (followed by a NUL). Allocation failure aborts. */
char *expo_pb_render(const struct expo_set *e, size_t *len);

#endif
