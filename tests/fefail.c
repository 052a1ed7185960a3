// SPDX-License-Identifier: GPL-2.0
/*
 * fefail: one system call (or an open and one read or write) of the test
 * suite, with the Nth fault-injection point it reaches made to fail
 * (/proc/thread-self/fail-nth, CONFIG_FAULT_INJECTION). tests/fault.sh
 * runs it for N = 1, 2, ... until a run no longer reaches the Nth point:
 * every allocation of the operation has then failed once.
 *
 *   fefail N insmod FILE [PARAMS]   finit_module(FILE, PARAMS)
 *   fefail N rmmod NAME             delete_module(NAME, O_NONBLOCK)
 *   fefail N read FILE              open FILE, read it to its end
 *   fefail N write FILE STRING      open FILE, write STRING once
 *   fefail N unshare-net            unshare(CLONE_NEWNET): a new network
 *                                   namespace, gone again when fefail exits
 *
 * Only that operation runs with fail-nth set: the file is opened, and N
 * written to it, before; it is read back after (0: the failure was
 * injected). Prints one line, "injected I left L rc R errno E" (I is 1
 * or 0; L what is left of N, so N - L fault points were reached when
 * none was injected; R 0 or -1; E 0 or the errno's name), and exits 0
 * unless fefail itself could not run (2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "0";
	case ENOMEM: return "ENOMEM";
	case EINVAL: return "EINVAL";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EFAULT: return "EFAULT";
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case ENOSPC: return "ENOSPC";
	case EADDRINUSE: return "EADDRINUSE";
	case ENOBUFS: return "ENOBUFS";
	case EPERM: return "EPERM";
	case EIO: return "EIO";
	default: return strerror(e);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fefail N insmod FILE [PARAMS] | rmmod NAME | read FILE | write FILE STRING | unshare-net\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char nbuf[32], back[32];
	const char *op;
	int ctl, fd = -1, rc = 0, err = 0;
	ssize_t len;
	long n;

	if (argc < 3 || (argc < 4 && strcmp(argv[2], "unshare-net")))
		usage();
	n = strtol(argv[1], NULL, 10);
	op = argv[2];
	if (n < 0)
		usage();
	if (!strcmp(op, "insmod")) {
		fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[3]);
			return 2;
		}
	} else if (!strcmp(op, "write")) {
		if (argc < 5)
			usage();
	} else if (strcmp(op, "rmmod") && strcmp(op, "read") &&
		   strcmp(op, "unshare-net")) {
		usage();
	}

	ctl = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		perror("/proc/thread-self/fail-nth");
		return 2;
	}
	len = snprintf(nbuf, sizeof(nbuf), "%ld", n);

	/* From here to the read back, nothing but the operation. */
	if (pwrite(ctl, nbuf, len, 0) != len) {
		perror("write fail-nth");
		return 2;
	}
	if (!strcmp(op, "insmod")) {
		rc = syscall(SYS_finit_module, fd, argc > 4 ? argv[4] : "", 0);
	} else if (!strcmp(op, "rmmod")) {
		rc = syscall(SYS_delete_module, argv[3], O_NONBLOCK);
	} else if (!strcmp(op, "unshare-net")) {
		rc = unshare(CLONE_NEWNET);
	} else {
		int wr = !strcmp(op, "write");

		fd = open(argv[3], wr ? O_WRONLY : O_RDONLY);
		if (fd < 0) {
			rc = -1;
		} else if (wr) {
			size_t want = strlen(argv[4]);

			len = write(fd, argv[4], want);
			rc = len == (ssize_t)want ? 0 : -1;
			if (len >= 0 && len != (ssize_t)want)
				errno = EIO;
		} else {
			char buf[4096];

			while ((len = read(fd, buf, sizeof(buf))) > 0)
				;
			rc = len < 0 ? -1 : 0;
		}
	}
	err = rc ? errno : 0;
	len = pread(ctl, back, sizeof(back) - 1, 0);
	if (len <= 0) {
		perror("read fail-nth");
		return 2;
	}
	back[len] = 0;
	/* Not injected: clear it, so that it cannot fire later. */
	if (pwrite(ctl, "0", 1, 0) != 1) {
		perror("clear fail-nth");
		return 2;
	}
	if (fd >= 0)
		close(fd);
	printf("injected %d left %d rc %d errno %s\n", atoi(back) == 0,
	       atoi(back), rc, errno_name(err));
	return 0;
}
