/* SPDX-License-Identifier: GPL-2.0 */
/*
 * echo-server.h: what the user-space reference echo servers (echo-epoll.c,
 * echo-uring.c) share: the command line, the listening sockets, the signals
 * and the threads. Each server brings only its worker loop.
 *
 *   NAME [-t THREADS] PORT
 *
 * echo_server_run() starts one worker thread per online CPU (or -t), each
 * given its own SO_REUSEPORT listening socket on [::] (dual stack; 0.0.0.0
 * when IPv6 is missing) as (void *)(intptr_t)fd. SIGTERM/SIGINT makes
 * stop_fd readable; every worker then leaves its loop and returns, and
 * echo_server_run() returns 0 (1 on a setup error, 2 on a usage error).
 *
 * Header-only, with static functions: scripts/build-guest.sh compiles each
 * C file in tools/ alone into a static binary.
 */
#ifndef ECHO_SERVER_H
#define ECHO_SERVER_H

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define ECHO_LISTEN_BACKLOG 4096

/*
 * A semaphore eventfd, 0 until a signal came, then the number of threads:
 * an epoll worker only waits for it to be readable (and never reads it), an
 * io_uring worker reads it and so takes exactly one of the count.
 */
static int stop_fd;

/*
 * A listening socket on port, SO_REUSEPORT, dual stack or IPv4 only.
 * sock_flags are added to socket()'s type (SOCK_NONBLOCK or 0).
 */
static int echo_listener(int port, int sock_flags)
{
	struct sockaddr_in6 a6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons((uint16_t)port),
		.sin6_addr = IN6ADDR_ANY_INIT,
	};
	struct sockaddr_in a4 = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int type = SOCK_STREAM | SOCK_CLOEXEC | sock_flags;
	int one = 1, zero = 0;
	int fd;

	fd = socket(AF_INET6, type, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0)
			goto listen;
		close(fd);
	}
	/* no IPv6 in this kernel: IPv4 only */
	fd = socket(AF_INET, type, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0) {
		close(fd);
		return -1;
	}
listen:
	if (listen(fd, ECHO_LISTEN_BACKLOG) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* As many open files as allowed: 1048576 as root, else the hard limit. */
static void echo_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_max < 1048576) {
		struct rlimit big = { 1048576, 1048576 };

		if (setrlimit(RLIMIT_NOFILE, &big) == 0) /* as root */
			return;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * The whole server but the workers: parse argv, open the listeners, run
 * worker(lfd) in a thread each, wait for SIGTERM/SIGINT, stop the workers.
 * name is the program's name in the usage text and in messages;
 * listen_flags go to echo_listener(). Returns main()'s exit status.
 */
static int echo_server_run(int argc, char **argv, const char *name,
			   int listen_flags, void *(*worker)(void *))
{
	long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t *tids;
	sigset_t set;
	int i, ch, sig, port;

	while ((ch = getopt(argc, argv, "t:")) != -1) {
		if (ch != 't')
			goto usage;
		nthreads = atol(optarg);
	}
	if (argc - optind != 1)
		goto usage;
	port = atoi(argv[optind]);
	if (port < 1 || port > 65535 || nthreads < 1)
		goto usage;

	echo_raise_nofile();
	/* signals go to sigwait below, not to the workers */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_SEMAPHORE);
	tids = calloc((size_t)nthreads, sizeof(*tids));
	if (stop_fd < 0 || !tids) {
		perror(name);
		return 1;
	}
	for (i = 0; i < nthreads; i++) {
		int lfd = echo_listener(port, listen_flags);

		if (lfd < 0) {
			fprintf(stderr, "%s: port %d: %s\n", name, port,
				strerror(errno));
			return 1;
		}
		if (pthread_create(&tids[i], NULL, worker,
				   (void *)(intptr_t)lfd)) {
			fprintf(stderr, "%s: pthread_create failed\n", name);
			return 1;
		}
	}
	fprintf(stderr, "%s: listening on port %d, %ld threads\n", name, port,
		nthreads);

	sigwait(&set, &sig);
	if (eventfd_write(stop_fd, (eventfd_t)nthreads) < 0)
		fprintf(stderr, "%s: eventfd_write: %s\n", name,
			strerror(errno));
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return 0;

usage:
	fprintf(stderr, "usage: %s [-t THREADS] PORT\n", name);
	return 2;
}

#endif /* ECHO_SERVER_H */
