// SPDX-License-Identifier: GPL-2.0
/*
 * fe-setsched: set the scheduling policy of threads, for benchmark
 * experiments in the guest (busybox has no chrt).
 *
 *   fe-setsched batch|other|idle PID...
 *
 * Exit status: 0 when every PID was changed, 1 otherwise, 2 on usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct sched_param sp = { .sched_priority = 0 };
	int policy, i, status = 0;

	if (argc < 3)
		goto usage;
	if (!strcmp(argv[1], "batch"))
		policy = SCHED_BATCH;
	else if (!strcmp(argv[1], "other"))
		policy = SCHED_OTHER;
	else if (!strcmp(argv[1], "idle"))
		policy = SCHED_IDLE;
	else
		goto usage;
	for (i = 2; i < argc; i++) {
		if (sched_setscheduler(atoi(argv[i]), policy, &sp) < 0) {
			fprintf(stderr, "fe-setsched: %s: %s\n", argv[i],
				strerror(errno));
			status = 1;
		}
	}
	return status;
usage:
	fprintf(stderr, "usage: fe-setsched batch|other|idle PID...\n");
	return 2;
}
