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
 * The command line, listeners, threads and signals are echo-server.h's,
 * shared with echo-uring, the accept and epoll loop echo-epoll.h's, shared
 * with echo-splice and echo-sockmap; this file is what a connection does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-epoll.h"

#define BUF_SIZE	65536
#define READS_PER_EVENT	4	/* fairness: then let other sockets run */

struct conn {
	int fd;
	uint32_t pend_off;	/* unsent bytes are pend[pend_off..pend_len) */
	uint32_t pend_len;
	char *pend;		/* allocated on the first short write only */
};

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
	struct conn *c;
	int fd;

	while ((fd = echo_accept(lfd)) >= 0) {
		c = echo_conn_add(epfd, fd, EPOLLIN, sizeof(*c));
		if (c)
			c->fd = fd;
	}
}

static __thread char *buf;	/* each worker's receive buffer */

static void on_event(int epfd, void *ptr)
{
	struct conn *c = ptr;
	int r;

	if (c->pend_len) {
		r = flush_pending(c);
		if (r < 0)
			conn_close(epfd, c);
		else if (r > 0)
			set_events(epfd, c, EPOLLIN);
		return;
	}
	if (!echo(epfd, c, buf))
		conn_close(epfd, c);
}

static void *worker(void *arg)
{
	buf = malloc(BUF_SIZE);
	if (!buf) {
		perror("echo-epoll: worker setup");
		exit(1);
	}
	echo_epoll_loop("echo-epoll", (int)(intptr_t)arg, accept_all,
			on_event);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	/* the listeners are non-blocking: accept_all() takes all there are */
	return echo_server_run(argc, argv, "echo-epoll", SOCK_NONBLOCK,
			       worker);
}
