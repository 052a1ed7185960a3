// SPDX-License-Identifier: GPL-2.0
/*
 * echo-splice: a user-space TCP echo server that moves data with splice(2),
 * socket -> pipe -> socket, so that the bytes never reach user memory:
 * the reference for what a zero-copy user-space echo does.
 *
 *   echo-splice [-t THREADS] PORT
 *
 * Threads, listeners and signals are echo-server.h's, the accept and epoll
 * loop echo-epoll.h's, as for echo-epoll: one thread per online CPU, each
 * with its own SO_REUSEPORT listener and a level-triggered epoll loop. Every connection has a pipe of its own
 * (PIPE_BYTES). A readable socket is spliced into its pipe, and the pipe at
 * once into the socket; what the socket does not take stays in the pipe,
 * reading that connection stops and EPOLLOUT is awaited (back-pressure).
 * No SPLICE_F_MORE on the send side: a short message goes out at once, as
 * TCP_NODELAY wants.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

#define PIPE_BYTES	(256 << 10)	/* asked for; the kernel may give less */
#define READS_PER_EVENT	4	/* fairness: then let other sockets run */
#define SPLICE_FLAGS	(SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

struct conn {
	int fd;
	int pipe_r;
	int pipe_w;
	size_t in_pipe;		/* bytes spliced in, not yet out */
	size_t pipe_size;
};

static void conn_close(int epfd, struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	close(c->pipe_r);
	close(c->pipe_w);
	free(c);
}

static void set_events(int epfd, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Pipe to socket. Returns 1 when the pipe is empty, 0 when the socket is
 * full, -1 on an error.
 */
static int flush_pipe(struct conn *c)
{
	while (c->in_pipe) {
		ssize_t n = splice(c->pipe_r, NULL, c->fd, NULL, c->in_pipe,
				   SPLICE_FLAGS);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		if (n == 0)
			return -1;
		c->in_pipe -= (size_t)n;
	}
	return 1;
}

/* Echo what is readable. Returns false when the connection must close. */
static bool echo(int epfd, struct conn *c)
{
	int round, r;

	for (round = 0; round < READS_PER_EVENT; round++) {
		ssize_t n = splice(c->fd, NULL, c->pipe_w, NULL, c->pipe_size,
				   SPLICE_FLAGS);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		c->in_pipe = (size_t)n;
		r = flush_pipe(c);
		if (r < 0)
			return false;
		if (r == 0) {
			/* socket full: the rest waits in the pipe */
			set_events(epfd, c, EPOLLOUT);
			return true;
		}
		if ((size_t)n < c->pipe_size)
			return true;	/* drained */
	}
	return true;
}

static void accept_all(int epfd, int lfd)
{
	struct conn *c;
	int fd, p[2], sz;

	while ((fd = echo_accept(lfd)) >= 0) {
		if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0) {
			close(fd);
			continue;
		}
		c = echo_conn_add(epfd, fd, EPOLLIN, sizeof(*c));
		if (!c) {
			close(p[0]);
			close(p[1]);
			continue;
		}
		sz = fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES);
		if (sz < 0)
			sz = fcntl(p[1], F_GETPIPE_SZ);
		c->fd = fd;
		c->pipe_r = p[0];
		c->pipe_w = p[1];
		c->pipe_size = sz > 0 ? (size_t)sz : 65536;
	}
}

static void on_event(int epfd, void *ptr)
{
	struct conn *c = ptr;
	int r;

	if (c->in_pipe) {
		r = flush_pipe(c);
		if (r < 0)
			conn_close(epfd, c);
		else if (r > 0)
			set_events(epfd, c, EPOLLIN);
		return;
	}
	if (!echo(epfd, c))
		conn_close(epfd, c);
}

static void *worker(void *arg)
{
	echo_epoll_loop("echo-splice", (int)(intptr_t)arg, accept_all,
			on_event);
	return NULL;
}

int main(int argc, char **argv)
{
	/* the listeners are non-blocking: accept_all() takes all there are */
	return echo_server_run(argc, argv, "echo-splice", SOCK_NONBLOCK,
			       worker);
}
