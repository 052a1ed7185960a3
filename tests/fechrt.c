// SPDX-License-Identifier: GPL-2.0
/*
 * fechrt: set the scheduling policy of running tasks, as chrt -p does
 * (the guest's busybox has no chrt).
 *
 *   fechrt POLICY PRIORITY PID...
 *
 * POLICY is fifo, rr, other, batch or idle; PRIORITY is 1-99 for fifo and
 * rr, 0 otherwise. Exits 1, saying why, if any PID cannot be changed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int policy;
} policies[] = {
	{ "other", SCHED_OTHER }, { "fifo", SCHED_FIFO }, { "rr", SCHED_RR },
	{ "batch", SCHED_BATCH }, { "idle", SCHED_IDLE },
};

int main(int argc, char **argv)
{
	struct sched_param sp = { 0 };
	int policy = -1, status = 0, i;
	size_t k;

	if (argc < 4) {
		fprintf(stderr, "usage: fechrt POLICY PRIORITY PID...\n");
		return 2;
	}
	for (k = 0; k < sizeof(policies) / sizeof(policies[0]); k++)
		if (!strcmp(argv[1], policies[k].name))
			policy = policies[k].policy;
	if (policy < 0) {
		fprintf(stderr, "fechrt: unknown policy %s\n", argv[1]);
		return 2;
	}
	sp.sched_priority = atoi(argv[2]);
	for (i = 3; i < argc; i++) {
		if (sched_setscheduler(atoi(argv[i]), policy, &sp)) {
			fprintf(stderr, "fechrt: pid %s: %s\n", argv[i],
				strerror(errno));
			status = 1;
		}
	}
	return status;
}
