// SPDX-License-Identifier: GPL-2.0
/*
 * echo-sockmap: a TCP echo server whose data path is a BPF program: every
 * accepted socket goes into a SOCKHASH with an sk_skb stream verdict
 * program (echo-sockmap.bpf.c) that redirects what the socket receives to
 * its own egress. The bytes never reach user space, no thread wakes up
 * for them: the bound on what an echo in the kernel can do without
 * fastecho's threads.
 *
 *   echo-sockmap [-t THREADS] PORT
 *
 * The BPF object is echo-sockmap.bpf.o next to the executable, or the
 * file named by $ECHO_SOCKMAP_BPF. Threads, listeners and signals are
 * echo-server.h's, the accept and epoll loop echo-epoll.h's, as for
 * echo-epoll. A thread only accepts: it sets
 * TCP_NODELAY, inserts the socket keyed by its cookie (SO_COOKIE, what
 * the program looks it up by), and waits in epoll for the peer's close
 * (EPOLLRDHUP), then removes it from the map and closes it. A client that
 * half-closes before all its echo came back may lose the rest: the
 * benchmark's clients close only once everything is back.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-epoll.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

struct conn {
	int fd;
	uint64_t cookie;
};

static int socks_fd;	/* the SOCKHASH */

static void conn_close(int epfd, struct conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	bpf_map_delete_elem(socks_fd, &c->cookie);
	close(c->fd);
	free(c);
}

/*
 * Hand a new connection to the BPF program. Data that arrived before the
 * socket was in the map waits in its receive queue: setting SO_RCVLOWAT
 * calls the socket's data_ready, now the verdict's, which takes it.
 */
static int conn_insert(struct conn *c)
{
	socklen_t len = sizeof(c->cookie);
	uint32_t fd = (uint32_t)c->fd;
	int one = 1;

	if (getsockopt(c->fd, SOL_SOCKET, SO_COOKIE, &c->cookie, &len) < 0)
		return -1;
	if (bpf_map_update_elem(socks_fd, &c->cookie, &fd, BPF_ANY) < 0)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	return 0;
}

static void accept_all(int epfd, int lfd)
{
	struct conn *c;
	int fd;

	while ((fd = echo_accept(lfd)) >= 0) {
		c = echo_conn_add(epfd, fd, EPOLLRDHUP, sizeof(*c));
		if (!c)
			continue;
		c->fd = fd;
		/* already closed by the peer, or the map is full */
		if (conn_insert(c) < 0)
			conn_close(epfd, c);
	}
}

/* The only event a connection has: the peer closed it. */
static void on_event(int epfd, void *ptr)
{
	conn_close(epfd, ptr);
}

static void *worker(void *arg)
{
	echo_epoll_loop("echo-sockmap", (int)(intptr_t)arg, accept_all,
			on_event);
	return NULL;
}

/* Load the BPF object and attach its verdict program to its map. */
static int load_bpf(void)
{
	char path[PATH_MAX], *slash;
	const char *file = getenv("ECHO_SOCKMAP_BPF");
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_map *map;
	ssize_t n;

	if (!file) {
		n = readlink("/proc/self/exe", path, sizeof(path) - 32);
		if (n < 0)
			return -1;
		path[n] = 0;
		slash = strrchr(path, '/');
		strcpy(slash ? slash + 1 : path, "echo-sockmap.bpf.o");
		file = path;
	}
	obj = bpf_object__open_file(file, NULL);
	if (!obj || libbpf_get_error(obj)) {
		fprintf(stderr, "echo-sockmap: cannot open %s\n", file);
		return -1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "echo-sockmap: cannot load %s\n", file);
		return -1;
	}
	prog = bpf_object__find_program_by_name(obj, "echo_verdict");
	map = bpf_object__find_map_by_name(obj, "echo_socks");
	if (!prog || !map) {
		fprintf(stderr, "echo-sockmap: %s has no echo_verdict/echo_socks\n",
			file);
		return -1;
	}
	socks_fd = bpf_map__fd(map);
	if (bpf_prog_attach(bpf_program__fd(prog), socks_fd,
			    BPF_SK_SKB_STREAM_VERDICT, 0)) {
		perror("echo-sockmap: attach the verdict program");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (load_bpf())
		return 1;
	/* the listeners are non-blocking: accept_all() takes all there are */
	return echo_server_run(argc, argv, "echo-sockmap", SOCK_NONBLOCK,
			       worker);
}
