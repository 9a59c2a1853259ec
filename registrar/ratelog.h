/* At most one log line per period for an event that a flood repeats
 * (a per-source limit hit): the first is logged, the rest only counted,
 * and the next line says how many were not logged. */
#ifndef PINHOLED_RATELOG_H
#define PINHOLED_RATELOG_H

#include <stdbool.h>
#include <stdint.h>

#define RATELOG_PERIOD_MS 10000

struct ratelog {
	uint64_t next_ms;
	unsigned long skipped;
};

/* May this one be logged now? *skipped: how many were not since the last. */
static inline bool ratelog_ok(struct ratelog *r, uint64_t now_ms,
			      unsigned long *skipped)
{
	if (now_ms < r->next_ms) {
		r->skipped++;
		return false;
	}
	*skipped = r->skipped;
	r->skipped = 0;
	r->next_ms = now_ms + RATELOG_PERIOD_MS;
	return true;
}

#endif
