// SPDX-License-Identifier: GPL-2.0
/*
 * fechrt: set the scheduling policy of running tasks, as chrt -p does
 * (the guest's busybox has no chrt).
 *
 *   fechrt POLICY PRIORITY PID...
 *   fechrt get PID...
 *
 * POLICY is fifo, rr, other, batch or idle, with "+rof" for the
 * reset-on-fork flag (chrt -R); PRIORITY is 1-99 for fifo and rr, 0
 * otherwise. "get" prints each PID's policy the same way, one a line.
 * Exits 1, saying why, if any PID cannot be changed or read.
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

#define NPOLICIES (sizeof(policies) / sizeof(policies[0]))

static int get(int argc, char **argv)
{
	int status = 0, policy, i;
	size_t k;

	for (i = 2; i < argc; i++) {
		policy = sched_getscheduler(atoi(argv[i]));
		if (policy < 0) {
			fprintf(stderr, "fechrt: pid %s: %s\n", argv[i],
				strerror(errno));
			status = 1;
			continue;
		}
		for (k = 0; k < NPOLICIES; k++)
			if ((policy & ~SCHED_RESET_ON_FORK) == policies[k].policy)
				break;
		printf("%s%s\n", k < NPOLICIES ? policies[k].name : "?",
		       policy & SCHED_RESET_ON_FORK ? "+rof" : "");
	}
	return status;
}

int main(int argc, char **argv)
{
	struct sched_param sp = { 0 };
	int policy = -1, status = 0, rof = 0, i;
	size_t k, len;

	if (argc >= 3 && !strcmp(argv[1], "get"))
		return get(argc, argv);
	if (argc < 4) {
		fprintf(stderr, "usage: fechrt POLICY[+rof] PRIORITY PID...\n"
			"       fechrt get PID...\n");
		return 2;
	}
	len = strlen(argv[1]);
	if (len > 4 && !strcmp(argv[1] + len - 4, "+rof")) {
		rof = SCHED_RESET_ON_FORK;
		argv[1][len - 4] = 0;
	}
	for (k = 0; k < NPOLICIES; k++)
		if (!strcmp(argv[1], policies[k].name))
			policy = policies[k].policy;
	if (policy < 0) {
		fprintf(stderr, "fechrt: unknown policy %s\n", argv[1]);
		return 2;
	}
	sp.sched_priority = atoi(argv[2]);
	for (i = 3; i < argc; i++) {
		if (sched_setscheduler(atoi(argv[i]), policy | rof, &sp)) {
			fprintf(stderr, "fechrt: pid %s: %s\n", argv[i],
				strerror(errno));
			status = 1;
		}
	}
	return status;
}
