/*
 * change: moves of a configuration (see the header).
 */
#include "space/change.h"

double ars_change_marshall_ratio(const uint8_t *s, const ars_change *c) {
    int d = 0;
    for (int k = 0; k < c->n; k++) {
        if (c->site[k] & 1) {
            d += (int)c->value[k] - (int)s[c->site[k]];
        }
    }
    return (d & 1) ? -1.0 : 1.0;
}
