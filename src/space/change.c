/*
 * change: moves of a configuration (see the header; ars_change_marshall_ratio is inline there,
 * as the local energies and the exact solvers call it once per connection).
 */
#include "space/change.h"
