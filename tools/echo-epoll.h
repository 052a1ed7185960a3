/* SPDX-License-Identifier: GPL-2.0 */
/*
 * echo-epoll.h: what the epoll-based echo servers (echo-epoll.c,
 * echo-splice.c, echo-sockmap.c) share on top of echo-server.h: taking
 * every pending connection off a non-blocking listener, and the worker's
 * level-triggered epoll loop. Each server brings what it does with a
 * connection.
 *
 * Header-only, with static functions, as echo-server.h.
 */
#ifndef ECHO_EPOLL_H
#define ECHO_EPOLL_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-server.h"

#define ECHO_MAX_EVENTS 256

/*
 * The next connection on the non-blocking listener lfd, non-blocking and
 * with TCP_NODELAY; -1 when there is none (EAGAIN) or no file is left for
 * it, which the next readiness of lfd retries.
 */
static int echo_accept(int lfd)
{
	int one = 1;
	int fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != EINTR && errno != ECONNABORTED)
			return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/*
 * size bytes of zeroes for a new connection on fd, added to epfd for
 * events with the memory as its data.ptr; NULL, with fd closed, when that
 * fails.
 */
static void *echo_conn_add(int epfd, int fd, uint32_t events, size_t size)
{
	struct epoll_event ev = { .events = events };
	void *c = calloc(1, size);

	if (c) {
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
			return c;
		free(c);
	}
	close(fd);
	return NULL;
}

/*
 * A worker's loop: an epoll set holding the listener lfd and stop_fd;
 * on_accept(epfd, lfd) runs when lfd is readable, on_event(epfd, ptr) for
 * every other ready file, ptr being the data.ptr it was added with. Returns
 * when stop_fd becomes readable (or epoll fails); the connections left are
 * the process's to close as it exits. name prefixes error messages.
 */
static void echo_epoll_loop(const char *name, int lfd,
			    void (*on_accept)(int epfd, int lfd),
			    void (*on_event)(int epfd, void *ptr))
{
	struct epoll_event ev[ECHO_MAX_EVENTS];
	/* marker pointers: their addresses tell the listener and stop fd */
	static char listen_tag, stop_tag;
	struct epoll_event add = { .events = EPOLLIN };
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int i, n;

	if (epfd < 0) {
		fprintf(stderr, "%s: epoll_create1: %s\n", name,
			strerror(errno));
		exit(1);
	}
	add.data.ptr = &listen_tag;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &add);
	add.data.ptr = &stop_tag;
	epoll_ctl(epfd, EPOLL_CTL_ADD, stop_fd, &add);

	for (;;) {
		n = epoll_wait(epfd, ev, ECHO_MAX_EVENTS, -1);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "%s: epoll_wait: %s\n", name,
				strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == &stop_tag)
				goto out;
			if (ev[i].data.ptr == &listen_tag)
				on_accept(epfd, lfd);
			else
				on_event(epfd, ev[i].data.ptr);
		}
	}
out:
	close(epfd);
}

#endif /* ECHO_EPOLL_H */
