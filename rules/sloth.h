/* sloth: Sloth's prometheus/v1 rule format, mapped onto the sloe model. */
#ifndef SLOE_SLOTH_H
#define SLOE_SLOTH_H

#include "build.h"

/* Reads one prometheus/v1 document into the set being built. */
void sloth_read(struct build *b, struct ydoc *d, yaml_node_t *root);

#endif
