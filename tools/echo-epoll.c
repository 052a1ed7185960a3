// SPDX-License-Identifier: GPL-2.0
/*
 * echo-epoll: a user-space TCP echo server written for speed, as the
 * reference fastecho is compared with.
 *
 *   echo-epoll [-t THREADS] PORT
 *
 * One thread per online CPU (or -t). Every thread has its own SO_REUSEPORT
 * listening socket on [::] (dual stack; 0.0.0.0 when IPv6 is missing) and
 * its own level-triggered epoll loop, so the kernel spreads connections over
 * threads and no state is shared. Accepted sockets get TCP_NODELAY. Data is
 * read into a per-thread buffer and written back at once; what the socket
 * does not take is kept in a per-connection buffer, reading from that
 * connection stops and EPOLLOUT is awaited (back-pressure, no unbounded
 * memory). SIGTERM/SIGINT: every thread leaves its loop, the process exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE	65536
#define MAX_EVENTS	256
#define READS_PER_EVENT	4	/* fairness: then let other sockets run */

struct conn {
	int fd;
	uint32_t pend_off;	/* unsent bytes are pend[pend_off..pend_len) */
	uint32_t pend_len;
	char *pend;		/* allocated on the first short write only */
};

static int port;
static int stop_fd;		/* eventfd: readable once a signal came */
static int listen_backlog = 4096;

static int make_listener(void)
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
	int one = 1, zero = 0;
	int fd;

	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0)
			goto listen;
		close(fd);
	}
	/* no IPv6 in this kernel: IPv4 only */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0) {
		close(fd);
		return -1;
	}
listen:
	if (listen(fd, listen_backlog) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void conn_close(int epfd, struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->pend);
	free(c);
}

static void set_events(int epfd, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write pending bytes. Returns 1 when all are out, 0 when the socket is
 * full, -1 on an error.
 */
static int flush_pending(struct conn *c)
{
	while (c->pend_off < c->pend_len) {
		ssize_t n = send(c->fd, c->pend + c->pend_off,
				 c->pend_len - c->pend_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		c->pend_off += (uint32_t)n;
	}
	c->pend_off = 0;
	c->pend_len = 0;
	return 1;
}

/* Echo what is readable. Returns false when the connection must close. */
static bool echo(int epfd, struct conn *c, char *buf)
{
	int round;

	for (round = 0; round < READS_PER_EVENT; round++) {
		ssize_t n, done = 0;

		n = recv(c->fd, buf, BUF_SIZE, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		while (done < n) {
			ssize_t w = send(c->fd, buf + done, (size_t)(n - done),
					 MSG_NOSIGNAL);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno != EAGAIN)
				return false;
			if (w < 0)
				break;
			done += w;
		}
		if (done < n) {
			/* socket full: keep the rest, wait for EPOLLOUT */
			if (!c->pend) {
				c->pend = malloc(BUF_SIZE);
				if (!c->pend)
					return false;
			}
			memcpy(c->pend, buf + done, (size_t)(n - done));
			c->pend_off = 0;
			c->pend_len = (uint32_t)(n - done);
			set_events(epfd, c, EPOLLOUT);
			return true;
		}
		if (n < BUF_SIZE)
			return true;	/* drained */
	}
	return true;
}

static void accept_all(int epfd, int lfd)
{
	int one = 1;

	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *c;
		int fd;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;	/* EAGAIN, or out of fds: try again later */
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

static void *worker(void *arg)
{
	struct epoll_event ev[MAX_EVENTS];
	int lfd = (int)(intptr_t)arg;
	/* marker pointers: their addresses tell the listener and stop fd */
	static char listen_tag, stop_tag;
	struct epoll_event add = { .events = EPOLLIN };
	char *buf = malloc(BUF_SIZE);
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (!buf || epfd < 0) {
		perror("echo-epoll: worker setup");
		exit(1);
	}
	add.data.ptr = &listen_tag;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &add);
	add.data.ptr = &stop_tag;
	epoll_ctl(epfd, EPOLL_CTL_ADD, stop_fd, &add);

	for (;;) {
		int n = epoll_wait(epfd, ev, MAX_EVENTS, -1);
		int i;

		if (n < 0 && errno != EINTR) {
			perror("echo-epoll: epoll_wait");
			break;
		}
		for (i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;

			if (ev[i].data.ptr == &stop_tag)
				goto out;
			if (ev[i].data.ptr == &listen_tag) {
				accept_all(epfd, lfd);
				continue;
			}
			if (c->pend_len) {
				int r = flush_pending(c);

				if (r < 0)
					conn_close(epfd, c);
				else if (r > 0)
					set_events(epfd, c, EPOLLIN);
				continue;
			}
			if (!echo(epfd, c, buf))
				conn_close(epfd, c);
		}
	}
out:
	/* connections of this thread die with the process */
	close(epfd);
	free(buf);
	return NULL;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_max < 1048576) {
		struct rlimit big = { 1048576, 1048576 };

		if (setrlimit(RLIMIT_NOFILE, &big) == 0)	/* as root */
			return;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
	long nthreads = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t *tids;
	sigset_t set;
	int i, ch, sig;

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

	raise_nofile();
	/* signals go to sigwait below, not to the workers */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	tids = calloc((size_t)nthreads, sizeof(*tids));
	if (stop_fd < 0 || !tids) {
		perror("echo-epoll");
		return 1;
	}
	for (i = 0; i < nthreads; i++) {
		int lfd = make_listener();

		if (lfd < 0) {
			fprintf(stderr, "echo-epoll: port %d: %s\n", port,
				strerror(errno));
			return 1;
		}
		if (pthread_create(&tids[i], NULL, worker,
				   (void *)(intptr_t)lfd)) {
			fprintf(stderr, "echo-epoll: pthread_create failed\n");
			return 1;
		}
	}
	fprintf(stderr, "echo-epoll: listening on port %d, %ld threads\n",
		port, nthreads);

	sigwait(&set, &sig);
	/* level-triggered and never read: wakes every worker */
	if (eventfd_write(stop_fd, 1) < 0)
		perror("echo-epoll: eventfd_write");
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	return 0;

usage:
	fprintf(stderr, "usage: echo-epoll [-t THREADS] PORT\n");
	return 2;
}
