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
 * shared with echo-uring; this file is the epoll worker.
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

#include "echo-server.h"

#define BUF_SIZE	65536
#define MAX_EVENTS	256
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

int main(int argc, char **argv)
{
	/* the listeners are non-blocking: accept_all() takes all there are */
	return echo_server_run(argc, argv, "echo-epoll", SOCK_NONBLOCK,
			       worker);
}
