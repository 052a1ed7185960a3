// SPDX-License-Identifier: GPL-2.0
/*
 * echo-uring: a user-space TCP echo server on io_uring (liburing), written
 * for speed, as a reference fastecho is compared with.
 *
 *   echo-uring [-t THREADS] PORT
 *
 * One thread per online CPU (or -t), each with its own ring and its own
 * SO_REUSEPORT listening socket on [::] (dual stack; 0.0.0.0 without IPv6).
 * Connections come from a multishot accept (re-armed when the kernel ends
 * it; plain accept when multishot is not supported). Each connection owns
 * one buffer and has exactly one request in flight: recv into the buffer,
 * then send it back, re-sending the rest after a short send, then recv
 * again. The ring is created with SINGLE_ISSUER|DEFER_TASKRUN when the
 * kernel has them (6.1 does), else COOP_TASKRUN, else plain.
 * SIGTERM/SIGINT: an eventfd poll completes in every ring, threads leave
 * their loops and the process exits 0. The command line, listeners,
 * threads and signals are echo-server.h's, shared with echo-epoll; this
 * file is the io_uring worker.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo-server.h"

#define BUF_SIZE	65536
#define SQ_ENTRIES	1024
#define CQ_ENTRIES	32768

/* user_data: a struct conn pointer (8-byte aligned) or NULL, plus a tag */
enum tag { TAG_ACCEPT = 1, TAG_RECV, TAG_SEND, TAG_STOP };
#define TAG_MASK	7ull

struct conn {
	int fd;
	uint32_t off;		/* bytes of buf already sent back */
	uint32_t len;		/* bytes in buf */
	char buf[];
};

struct worker {
	int lfd;
	struct io_uring ring;
	bool multishot;		/* multishot accept works */
};

/* An SQE, submitting what is queued when the SQ ring is full. */
static struct io_uring_sqe *get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe;

	while (!(sqe = io_uring_get_sqe(ring)))
		io_uring_submit(ring);
	return sqe;
}

static void set_data(struct io_uring_sqe *sqe, struct conn *c, enum tag t)
{
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | t);
}

static void arm_accept(struct worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(&w->ring);

	if (w->multishot)
		io_uring_prep_multishot_accept(sqe, w->lfd, NULL, NULL,
					       SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, w->lfd, NULL, NULL, SOCK_CLOEXEC);
	set_data(sqe, NULL, TAG_ACCEPT);
}

static void arm_recv(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(&w->ring);

	io_uring_prep_recv(sqe, c->fd, c->buf, BUF_SIZE, 0);
	set_data(sqe, c, TAG_RECV);
}

static void arm_send(struct worker *w, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(&w->ring);

	io_uring_prep_send(sqe, c->fd, c->buf + c->off, c->len - c->off,
			   MSG_NOSIGNAL);
	set_data(sqe, c, TAG_SEND);
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c);
}

static void on_accept(struct worker *w, struct io_uring_cqe *cqe)
{
	int one = 1;
	struct conn *c;

	if (cqe->res == -EINVAL && w->multishot) {
		/* kernel without multishot accept: one accept at a time */
		w->multishot = false;
		arm_accept(w);
		return;
	}
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_accept(w);	/* single shot, or multishot ended */
	if (cqe->res < 0)
		return;		/* e.g. EMFILE: next accept may work */
	setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = malloc(sizeof(*c) + BUF_SIZE);
	if (!c) {
		close(cqe->res);
		return;
	}
	c->fd = cqe->res;
	c->off = 0;
	c->len = 0;
	arm_recv(w, c);
}

static void on_recv(struct worker *w, struct conn *c, int res)
{
	if (res == -EINTR || res == -EAGAIN) {
		arm_recv(w, c);
		return;
	}
	if (res <= 0) {		/* EOF or error */
		conn_close(c);
		return;
	}
	c->off = 0;
	c->len = (uint32_t)res;
	arm_send(w, c);
}

static void on_send(struct worker *w, struct conn *c, int res)
{
	if (res == -EINTR || res == -EAGAIN) {
		arm_send(w, c);
		return;
	}
	if (res < 0) {
		conn_close(c);
		return;
	}
	c->off += (uint32_t)res;
	if (c->off < c->len)
		arm_send(w, c);	/* short send: the rest */
	else
		arm_recv(w, c);
}

static int ring_init(struct io_uring *ring)
{
	static const unsigned int flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	unsigned int i;
	int ret = -EINVAL;

	for (i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		struct io_uring_params p = {
			.flags = flag_sets[i] | IORING_SETUP_CQSIZE,
			.cq_entries = CQ_ENTRIES,
		};

		ret = io_uring_queue_init_params(SQ_ENTRIES, ring, &p);
		if (ret == 0)
			return 0;
	}
	return ret;
}

static void *worker(void *arg)
{
	struct worker wk = { .lfd = (int)(intptr_t)arg, .multishot = true };
	struct worker *w = &wk;
	struct io_uring_sqe *sqe;
	uint64_t stop_val;
	bool running = true;
	int ret;

	/* the ring is created here: SINGLE_ISSUER ties it to this thread */
	ret = ring_init(&w->ring);
	if (ret < 0) {
		fprintf(stderr, "echo-uring: io_uring_queue_init: %s\n",
			strerror(-ret));
		exit(1);
	}
	arm_accept(w);
	sqe = get_sqe(&w->ring);
	io_uring_prep_read(sqe, stop_fd, &stop_val, sizeof(stop_val), 0);
	set_data(sqe, NULL, TAG_STOP);

	while (running) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;

		ret = io_uring_submit_and_wait(&w->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY) {
			fprintf(stderr, "echo-uring: submit: %s\n",
				strerror(-ret));
			break;
		}
		io_uring_for_each_cqe(&w->ring, head, cqe) {
			uint64_t data = io_uring_cqe_get_data64(cqe);
			struct conn *c = (struct conn *)(uintptr_t)(data &
								    ~TAG_MASK);

			seen++;
			switch (data & TAG_MASK) {
			case TAG_ACCEPT:
				on_accept(w, cqe);
				break;
			case TAG_RECV:
				on_recv(w, c, cqe->res);
				break;
			case TAG_SEND:
				on_send(w, c, cqe->res);
				break;
			case TAG_STOP:
				running = false;
				break;
			}
		}
		io_uring_cq_advance(&w->ring, seen);
	}
	/* connections die with the process; the ring goes with it too */
	return NULL;
}

int main(int argc, char **argv)
{
	return echo_server_run(argc, argv, "echo-uring", 0, worker);
}
