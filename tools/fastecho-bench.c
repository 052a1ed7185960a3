// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho-bench: multi-threaded epoll load generator for TCP echo servers.
 *
 * Modes:
 *   pingpong  -c conns, -s message size, -p messages in flight per
 *             connection, for -d seconds or until -n messages in total.
 *   bulk      -b MiB each way per connection, sending and receiving at once;
 *             -v N: verify one 64 KiB block in every N of the echo (which one
 *             moves from group to group), take the others with MSG_TRUNC
 *             (TCP drops them without a copy to user space): a cheaper
 *             client, so that the server's share of the CPU shows.
 *   cec       connect, send -s bytes, read them back, close; -c of these in
 *             flight at a time, for -d seconds.
 *   idle      open -c connections, verify one echo on each (-E: none), print the
 *             RESULT line, hold them until SIGTERM/SIGINT/SIGUSR1 (or stdin
 *             EOF with -I, or -d seconds), then close them and exit.
 *
 * Every echoed byte is compared with what was sent: byte o of connection c is
 * pattern[(o + c * CONN_STRIDE) % PATTERN_PERIOD], a fixed pseudo-random
 * table, so sending and checking are plain memcpy/memcmp.
 *
 * Output: one line on stdout, e.g.
 *   RESULT mode=pingpong conns=32 size=64 inflight=1 threads=2 secs=5.00
 *          msgs=... msgs_per_s=... mib_per_s=... p50_us=... p90_us=...
 *          p99_us=... p999_us=... max_us=... errors=0 cpus=1 win_s=...
 *          idle_s=... busy_s=... user_s=... sys_s=... softirq_s=...
 *          client_s=...
 * The CPU fields cover the measured window only (bulk: from the first send
 * to the last byte verified): win_s is its length times the online CPUs,
 * idle_s the idle and iowait time over it (/proc/timer_list's, in ns;
 * /proc/stat's, in 10 ms steps, without that file), busy_s = win_s -
 * idle_s, user_s/sys_s/softirq_s the /proc/stat split of the busy time
 * (tick-sampled), client_s this process's own CPU time (getrusage
 * RUSAGE_SELF: every thread, user and system). busy_s - client_s is what
 * the rest of the guest (the server, softirq run outside this process,
 * kernel threads) spent in the window.
 * Latencies come from a log-linear histogram (no per-sample storage).
 * Diagnostics go to stderr. Exit status: 0 when errors=0, 1 otherwise,
 * 2 on usage errors, 3 when the hard time limit (-T) hit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "fe-client.h"

#define PATTERN_PERIOD	65521u		/* prime, so strides never line up */
#define CONN_STRIDE	7919u
#define IO_CHUNK	65536u		/* largest single send/recv */
#define MAX_EVENTS	256
#define MAX_MSG		(1u << 20)

/* Log-linear histogram of nanoseconds: exact below 64, then 32 steps per
 * power of two (about 3% resolution) up to 2^42 ns (over an hour).
 */
#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_LINEAR	64u
#define HIST_MAX_EXP	42
#define HIST_BUCKETS	(HIST_LINEAR + (HIST_MAX_EXP - 6 + 1) * HIST_SUB)

enum mode { MODE_PINGPONG, MODE_BULK, MODE_CEC, MODE_IDLE };

struct hist {
	uint64_t count;
	uint64_t max;
	uint64_t b[HIST_BUCKETS];
};

/* Command line settings, shared read-only by all threads. */
static struct {
	enum mode mode;
	const char *host;
	const char *port;
	unsigned int conns;
	unsigned int size;
	unsigned int inflight;
	unsigned int threads;
	double duration;
	double warmup;
	double hard_limit;
	uint64_t total_msgs;
	uint64_t bulk_bytes;
	bool stdin_hold;
	bool no_probe;
	unsigned int verify_every;	/* bulk: verify 1 block in N */
	unsigned int jitter;		/* pingpong: spin 0..N-1 before a send */
	struct sockaddr_storage addr;
	socklen_t addrlen;
} opt = {
	.mode = MODE_PINGPONG,
	.conns = 1,
	.size = 64,
	.inflight = 1,
	.duration = 5.0,
	.bulk_bytes = 16ull << 20,
	.verify_every = 1,
};

static uint8_t *pattern;	/* PATTERN_PERIOD + IO_CHUNK bytes */

/* Run control, written by the main thread. */
static atomic_int phase;	/* 0 setup, 1 warmup, 2 measure, 3 stop */
static atomic_uint ready_threads;
static uint64_t measure_start_ns;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static unsigned int hist_index(uint64_t v)
{
	unsigned int e;

	if (v < HIST_LINEAR)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);	/* e >= 6 */
	if (e > HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	return HIST_LINEAR + (e - 6) * HIST_SUB +
	       (unsigned int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Middle of the values that land in bucket i. */
static double hist_value(unsigned int i)
{
	unsigned int e, sub;
	double lo, width;

	if (i < HIST_LINEAR)
		return i;
	e = (i - HIST_LINEAR) / HIST_SUB + 6;
	sub = (i - HIST_LINEAR) % HIST_SUB;
	width = (double)(1ull << (e - HIST_SUB_BITS));
	lo = (double)(1ull << e) + sub * width;
	return lo + width / 2;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

static void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Value at quantile q (0..1) in microseconds; 0 for an empty histogram. */
static double hist_quantile_us(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned int i;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			double v = hist_value(i);

			if (v > (double)h->max)
				v = (double)h->max;
			return v / 1000.0;
		}
	}
	return (double)h->max / 1000.0;
}

static void pattern_init(void)
{
	uint32_t x = 0x2545f491u;
	unsigned int i;

	pattern = malloc(PATTERN_PERIOD + IO_CHUNK);
	if (!pattern) {
		perror("malloc");
		exit(2);
	}
	for (i = 0; i < PATTERN_PERIOD; i++) {
		/* xorshift32: cheap, deterministic, not periodic in bytes */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = (uint8_t)(x >> 24);
	}
	/* repeat the start, so any window of IO_CHUNK bytes is contiguous */
	for (i = PATTERN_PERIOD; i < PATTERN_PERIOD + IO_CHUNK; i++)
		pattern[i] = pattern[i - PATTERN_PERIOD];
}

/* Expected bytes of connection id at stream offset off, len <= IO_CHUNK. */
static const uint8_t *pattern_at(uint64_t id, uint64_t off)
{
	return pattern + (off + id * CONN_STRIDE) % PATTERN_PERIOD;
}

/* A non-blocking connect to the server: fd or -1 (errno set). */
static int start_connect(void)
{
	return fe_connect_start(&opt.addr, opt.addrlen);
}

/* Connect within timeout_ms: a non-blocking fd or -1 (errno set). */
static int connect_wait(int timeout_ms)
{
	return fe_connect_wait(&opt.addr, opt.addrlen, timeout_ms);
}

/* Per-connection state; which fields are used depends on the mode. */
struct conn {
	int fd;
	bool dead;
	bool want_out;		/* EPOLLOUT currently requested */
	uint64_t id;		/* selects the byte pattern */
	uint64_t sent;		/* bytes handed to the kernel */
	uint64_t target;	/* bytes that should be sent by now */
	uint64_t rcvd;		/* bytes received and verified */
	uint64_t issued;	/* messages issued (pingpong) */
	uint64_t done;		/* messages fully echoed (pingpong) */
	uint64_t start_ns;	/* cec: when the connect started */
	uint64_t *stamps;	/* pingpong: send time per slot in flight */
};

struct worker {
	pthread_t tid;
	unsigned int index;
	unsigned int nconns;	/* connections (or cec slots) of this thread */
	uint64_t first_id;
	int epfd;
	struct conn *conns;
	uint8_t *rbuf;
	struct hist hist;
	uint64_t msgs;		/* completed in the measured window */
	uint64_t bytes;		/* echoed bytes verified in the window */
	uint64_t errors;
	uint64_t msg_quota;	/* pingpong -n share; 0 = unlimited */
	uint64_t ok_conns;	/* idle: connections verified */
	uint64_t verified;	/* bulk: bytes compared with the pattern */
	uint64_t end_ns;	/* bulk: when this thread finished */
};

static struct worker *workers;

static void report_error(struct worker *w, struct conn *c, const char *what,
			 int err)
{
	/* print only the first few, so a broken server cannot flood stderr */
	if (w->errors < 5)
		fprintf(stderr, "fastecho-bench: thread %u conn %llu: %s%s%s\n",
			w->index, (unsigned long long)c->id, what,
			err ? ": " : "", err ? strerror(err) : "");
	w->errors++;
}

static void conn_kill(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->dead = true;
}

static void set_interest(struct worker *w, struct conn *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (c->want_out == out)
		return;
	if (out)
		ev.events |= EPOLLOUT;
	c->want_out = out;
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Send pattern bytes from c->sent up to c->target. false on a fatal error. */
static bool flush_out(struct worker *w, struct conn *c)
{
	while (c->sent < c->target) {
		uint64_t left = c->target - c->sent;
		size_t len = left > IO_CHUNK ? IO_CHUNK : (size_t)left;
		ssize_t n;

		n = send(c->fd, pattern_at(c->id, c->sent), len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				set_interest(w, c, true);
				return true;
			}
			report_error(w, c, "send", errno);
			conn_kill(w, c);
			return false;
		}
		c->sent += (uint64_t)n;
	}
	set_interest(w, c, false);
	return true;
}

/*
 * Index of the first byte where a and b differ, or n. Plain 8-byte words
 * rather than memcmp(): glibc's vector memcmp reported mismatches on equal
 * buffers in the TCG guest (QEMU 7.2, -cpu max), this does not.
 */
static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			break;
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			return i;
	return n;
}

/* Check n received bytes at c->rcvd against the pattern. */
static bool verify(struct worker *w, struct conn *c, const uint8_t *buf,
		   size_t n)
{
	size_t i;

	if (c->rcvd + n > c->sent) {
		report_error(w, c, "server sent more bytes than it got", 0);
		return false;
	}
	i = first_diff(buf, pattern_at(c->id, c->rcvd), n);
	if (i < n) {
		if (w->errors < 5)
			fprintf(stderr,
				"fastecho-bench: conn %llu: wrong byte at offset %llu: got 0x%02x, want 0x%02x\n",
				(unsigned long long)c->id,
				(unsigned long long)(c->rcvd + i), buf[i],
				*pattern_at(c->id, c->rcvd + i));
		w->errors++;
		return false;
	}
	return true;
}

/* recv() at most 'cap' bytes into w->rbuf with 'flags'.
 * Returns bytes received, 0 on would-block, -1 after killing the conn
 * (error or EOF).
 */
static ssize_t recv_some(struct worker *w, struct conn *c, size_t cap,
			 int flags)
{
	ssize_t n;

	do
		n = recv(c->fd, w->rbuf, cap, flags);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		report_error(w, c, "recv", errno);
		conn_kill(w, c);
		return -1;
	}
	if (n == 0) {
		report_error(w, c, "unexpected EOF from server", 0);
		conn_kill(w, c);
		return -1;
	}
	return n;
}

/* Receive whatever is there (at most 'cap' bytes), verify it.
 * Returns bytes received, 0 on would-block, -1 after killing the conn.
 */
static ssize_t recv_verify(struct worker *w, struct conn *c, size_t cap)
{
	ssize_t n;

	if (cap > IO_CHUNK)
		cap = IO_CHUNK;
	n = recv_some(w, c, cap, 0);
	if (n <= 0)
		return n;
	if (!verify(w, c, w->rbuf, (size_t)n)) {
		conn_kill(w, c);
		return -1;
	}
	c->rcvd += (uint64_t)n;
	return n;
}

/* bulk -v N: is 64 KiB block b of the echo one of those verified? One in
 * every group of N, its place in the group moving from group to group.
 */
static bool bulk_block_checked(uint64_t b)
{
	unsigned int n = opt.verify_every;

	return n <= 1 || b % n == (b / n * 7) % n;
}

/* bulk: receive what is there, verify it if its block is sampled (see -v),
 * else take it with MSG_TRUNC, never across a block that is verified.
 * Returns bytes received, 0 on would-block, -1 after killing the conn.
 */
static ssize_t bulk_recv(struct worker *w, struct conn *c)
{
	uint64_t b = c->rcvd / IO_CHUNK, end = (b + 1) * IO_CHUNK;
	size_t cap;
	ssize_t n;

	if (bulk_block_checked(b)) {
		n = recv_verify(w, c, end - c->rcvd);
		if (n > 0)
			w->verified += (uint64_t)n;
		return n;
	}
	/* up to the next verified block, 4 MiB at most */
	while (end - c->rcvd < (4u << 20) && !bulk_block_checked(end / IO_CHUNK))
		end += IO_CHUNK;
	cap = end - c->rcvd > (4u << 20) ? 4u << 20 : (size_t)(end - c->rcvd);
	n = recv_some(w, c, cap, MSG_TRUNC);
	if (n <= 0)
		return n;
	if (c->rcvd + (uint64_t)n > c->sent) {
		report_error(w, c, "server sent more bytes than it got", 0);
		conn_kill(w, c);
		return -1;
	}
	c->rcvd += (uint64_t)n;
	return n;
}

static int add_to_epoll(struct worker *w, struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	c->want_out = events & EPOLLOUT;
	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/*
 * Give c the fd of a connect (start_connect or connect_wait; -1 with errno
 * when it failed) and add it to the worker's epoll set for events (0: not
 * added). false, with the error reported and c dead, when either failed.
 */
static bool conn_open(struct worker *w, struct conn *c, int fd, uint32_t events)
{
	c->fd = fd;
	if (fd < 0) {
		c->dead = true;
		report_error(w, c, "connect", errno);
		return false;
	}
	if (events && add_to_epoll(w, c, events) < 0) {
		report_error(w, c, "epoll_ctl", errno);
		conn_kill(w, c);
		return false;
	}
	return true;
}

/* Connect all of this worker's connections (pingpong, bulk). */
static void connect_all(struct worker *w)
{
	unsigned int i;

	for (i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		c->id = w->first_id + i;
		conn_open(w, c, connect_wait(10000), EPOLLIN);
	}
}

/* Wait until every worker is set up and the main thread says go. */
static void sync_start(void)
{
	atomic_fetch_add(&ready_threads, 1);
	while (atomic_load(&phase) == 0)
		usleep(1000);
}

static bool measuring(void)
{
	return atomic_load_explicit(&phase, memory_order_acquire) == 2;
}

static bool stopping(void)
{
	return atomic_load_explicit(&phase, memory_order_relaxed) >= 3;
}

/* ---------------------------------------------------------------- pingpong */

static void pp_issue(struct conn *c, uint64_t now)
{
	c->stamps[c->issued % opt.inflight] = now;
	c->issued++;
	c->target += opt.size;
}

/*
 * pingpong -J N: spin a pseudo-random 0..N-1 iterations. The ping-pong of
 * an instruction-clock guest repeats to the instruction, and a sampling
 * profiler's timer then locks onto it; this breaks the period, reproducibly.
 */
static void pp_jitter(void)
{
	static __thread uint32_t x = 0x9e3779b9u;
	volatile uint32_t i;
	uint32_t n;

	if (opt.jitter <= 1)
		return;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	n = x % opt.jitter;
	for (i = 0; i < n; i++)
		;
}

static void pp_readable(struct worker *w, struct conn *c)
{
	uint64_t now;
	ssize_t n;

	n = recv_verify(w, c, IO_CHUNK);
	if (n <= 0)
		return;
	now = now_ns();
	/* every message boundary crossed completes one message */
	while (c->done < c->issued &&
	       c->rcvd >= (c->done + 1) * (uint64_t)opt.size) {
		uint64_t sent_at = c->stamps[c->done % opt.inflight];

		c->done++;
		if (measuring() && sent_at >= measure_start_ns) {
			hist_add(&w->hist, now - sent_at);
			w->msgs++;
			w->bytes += opt.size;
		}
		if (stopping())
			continue;
		if (w->msg_quota && w->msgs >= w->msg_quota)
			continue;
		pp_issue(c, now);
	}
	pp_jitter();
	flush_out(w, c);
}

static void *pingpong_thread(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	unsigned int i, live;
	uint64_t drain_until = 0;

	connect_all(w);
	sync_start();

	for (i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		unsigned int k;

		if (c->dead)
			continue;
		for (k = 0; k < opt.inflight; k++)
			pp_issue(c, now_ns());
		flush_out(w, c);
	}

	for (;;) {
		int n, j;

		n = epoll_wait(w->epfd, ev, MAX_EVENTS, 20);
		for (j = 0; j < n; j++) {
			struct conn *c = ev[j].data.ptr;

			if (c->dead)
				continue;
			if (ev[j].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				pp_readable(w, c);
			if (!c->dead && (ev[j].events & EPOLLOUT))
				flush_out(w, c);
		}
		if (w->msg_quota && w->msgs >= w->msg_quota &&
		    !drain_until)
			drain_until = now_ns() + 2000000000ull;
		if (stopping() && !drain_until)
			drain_until = now_ns() + 2000000000ull;
		if (!drain_until)
			continue;
		/* stop issuing; wait (bounded) for messages in flight */
		live = 0;
		for (i = 0; i < w->nconns; i++)
			if (!w->conns[i].dead &&
			    w->conns[i].done < w->conns[i].issued)
				live++;
		if (!live || now_ns() > drain_until)
			break;
	}
	w->end_ns = now_ns();
	return NULL;
}

/* -------------------------------------------------------------------- bulk */

static void *bulk_thread(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	unsigned int i, remaining = 0;

	connect_all(w);
	for (i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];

		if (c->dead)
			continue;
		c->target = opt.bulk_bytes;
		remaining++;
	}
	sync_start();

	for (i = 0; i < w->nconns; i++)
		if (!w->conns[i].dead && !flush_out(w, &w->conns[i]))
			remaining--;

	while (remaining && !stopping()) {
		int n, j;

		n = epoll_wait(w->epfd, ev, MAX_EVENTS, 20);
		for (j = 0; j < n; j++) {
			struct conn *c = ev[j].data.ptr;
			ssize_t got;

			if (c->dead)
				continue;
			if (ev[j].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				got = bulk_recv(w, c);
				if (got < 0) {
					remaining--;
					continue;
				}
				w->bytes += (uint64_t)got;
				if (c->rcvd == opt.bulk_bytes) {
					conn_kill(w, c);
					remaining--;
					continue;
				}
			}
			if (ev[j].events & EPOLLOUT && !flush_out(w, c))
				remaining--;
		}
	}
	if (remaining) {
		fprintf(stderr, "fastecho-bench: thread %u: %u bulk connections unfinished\n",
			w->index, remaining);
		w->errors += remaining;
	}
	w->end_ns = now_ns();
	return NULL;
}

/* --------------------------------------------------- connect-echo-close */

static void cec_start(struct worker *w, struct conn *c)
{
	int fd = start_connect();

	c->start_ns = now_ns();
	c->sent = 0;
	c->rcvd = 0;
	c->target = 0;
	c->dead = false;
	conn_open(w, c, fd, EPOLLOUT);
}

static void cec_event(struct worker *w, struct conn *c, uint32_t events)
{
	if (!c->target) {
		/* connect finished (or failed) */
		if (fe_connect_result(c->fd) < 0) {
			report_error(w, c, "connect", errno);
			conn_kill(w, c);
			return;
		}
		c->target = opt.size;
		flush_out(w, c);
		return;
	}
	if (events & EPOLLOUT && !flush_out(w, c))
		return;
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	if (recv_verify(w, c, (size_t)(c->sent - c->rcvd)) <= 0)
		return;
	if (c->rcvd < opt.size)
		return;
	/* full echo back: one cycle done */
	conn_kill(w, c);
	c->dead = false;
	if (measuring() && c->start_ns >= measure_start_ns) {
		hist_add(&w->hist, now_ns() - c->start_ns);
		w->msgs++;
		w->bytes += opt.size;
	}
	c->id += opt.conns;	/* next cycle: a fresh pattern offset */
	if (!stopping())
		cec_start(w, c);
	else
		c->dead = true;
}

static void *cec_thread(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[MAX_EVENTS];
	uint64_t drain_until = 0;
	unsigned int i;

	sync_start();
	for (i = 0; i < w->nconns; i++) {
		w->conns[i].id = w->first_id + i;
		cec_start(w, &w->conns[i]);
	}
	for (;;) {
		int n, j;
		unsigned int live = 0;

		n = epoll_wait(w->epfd, ev, MAX_EVENTS, 20);
		for (j = 0; j < n; j++) {
			struct conn *c = ev[j].data.ptr;

			if (!c->dead)
				cec_event(w, c, ev[j].events);
		}
		if (!stopping()) {
			/* a failed slot is retried, so the load stays at -c */
			for (i = 0; i < w->nconns; i++)
				if (w->conns[i].dead && w->conns[i].fd < 0) {
					w->conns[i].id += opt.conns;
					cec_start(w, &w->conns[i]);
				}
			continue;
		}
		if (!drain_until)
			drain_until = now_ns() + 2000000000ull;
		for (i = 0; i < w->nconns; i++)
			if (!w->conns[i].dead)
				live++;
		if (!live || now_ns() > drain_until)
			break;
	}
	for (i = 0; i < w->nconns; i++)
		if (!w->conns[i].dead)
			conn_kill(w, &w->conns[i]);
	w->end_ns = now_ns();
	return NULL;
}

/* -------------------------------------------------------------------- idle */

#define IDLE_PROBE	16u

static void *idle_thread(void *arg)
{
	struct worker *w = arg;
	unsigned int i;

	for (i = 0; i < w->nconns; i++) {
		struct conn *c = &w->conns[i];
		struct pollfd pfd;
		uint64_t deadline;

		c->id = w->first_id + i;
		if (!conn_open(w, c, connect_wait(10000), 0))
			continue;
		if (opt.no_probe) {
			w->ok_conns++;
			continue;
		}
		c->target = IDLE_PROBE;
		if (!flush_out(w, c))
			continue;
		/* one echo, verified, within 10 s */
		deadline = now_ns() + 10000000000ull;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		while (!c->dead && c->rcvd < IDLE_PROBE) {
			if (now_ns() > deadline) {
				report_error(w, c, "no echo within 10 s", 0);
				conn_kill(w, c);
				break;
			}
			if (poll(&pfd, 1, 100) > 0)
				recv_verify(w, c, IDLE_PROBE - c->rcvd);
		}
		if (!c->dead)
			w->ok_conns++;
		if (stopping())
			break;
	}
	w->end_ns = now_ns();
	return NULL;
}

/* -------------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr,
		"usage: fastecho-bench [options] HOST PORT\n"
		"  -m MODE   pingpong (default), bulk, cec (connect-echo-close), idle\n"
		"  -c N      connections (cec: connections in flight) [1]\n"
		"  -s BYTES  message size (pingpong, cec) [64]\n"
		"  -p N      messages in flight per connection (pingpong) [1]\n"
		"  -d SEC    measured duration (pingpong, cec); idle: longest hold [5]\n"
		"  -w SEC    warm-up before measuring (pingpong, cec) [0]\n"
		"  -n N      stop after N messages in total (pingpong)\n"
		"  -b MIB    MiB each way per connection (bulk) [16]\n"
		"  -v N      bulk: verify 1 in N 64 KiB blocks, drop the rest\n"
		"            unread (MSG_TRUNC) [1: verify all]\n"
		"  -J N      pingpong: spin 0..N-1 loops before each send [0]\n"
		"  -t N      threads [online CPUs, at most N connections]\n"
		"  -T SEC    hard time limit for the whole run [depends on mode]\n"
		"  -I        idle: also stop holding at EOF on stdin\n"
		"  -E        idle: connect only, no echo check (nothing is sent)\n"
		"HOST is a numeric IPv4 or IPv6 address ([::1] too).\n");
	exit(2);
}

static double parse_num(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < 0) {
		fprintf(stderr, "fastecho-bench: bad %s: %s\n", what, s);
		usage();
	}
	return v;
}

/* Numeric addresses only (no resolver in a static binary): 127.0.0.1, ::1,
 * [::1]. The result goes to opt.addr.
 */
static void parse_addr(void)
{
	double port = parse_num(opt.port, "port");

	if (port >= 1 && port <= 65535 &&
	    !fe_parse_addr(opt.host, (int)port, &opt.addr, &opt.addrlen))
		return;
	fprintf(stderr, "fastecho-bench: need a numeric address and a port, got %s %s\n",
		opt.host, opt.port);
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "m:c:s:p:d:w:n:b:v:J:t:T:IEh")) != -1) {
		switch (ch) {
		case 'm':
			if (!strcmp(optarg, "pingpong"))
				opt.mode = MODE_PINGPONG;
			else if (!strcmp(optarg, "bulk"))
				opt.mode = MODE_BULK;
			else if (!strcmp(optarg, "cec"))
				opt.mode = MODE_CEC;
			else if (!strcmp(optarg, "idle"))
				opt.mode = MODE_IDLE;
			else
				usage();
			break;
		case 'c':
			opt.conns = (unsigned int)parse_num(optarg, "-c");
			break;
		case 's':
			opt.size = (unsigned int)parse_num(optarg, "-s");
			break;
		case 'p':
			opt.inflight = (unsigned int)parse_num(optarg, "-p");
			break;
		case 'd':
			opt.duration = parse_num(optarg, "-d");
			break;
		case 'w':
			opt.warmup = parse_num(optarg, "-w");
			break;
		case 'n':
			opt.total_msgs = (uint64_t)parse_num(optarg, "-n");
			break;
		case 'b':
			opt.bulk_bytes = (uint64_t)(parse_num(optarg, "-b") *
						    1048576.0);
			break;
		case 'J':
			opt.jitter = (unsigned int)parse_num(optarg, "-J");
			break;
		case 'v':
			opt.verify_every = (unsigned int)parse_num(optarg, "-v");
			break;
		case 't':
			opt.threads = (unsigned int)parse_num(optarg, "-t");
			break;
		case 'T':
			opt.hard_limit = parse_num(optarg, "-T");
			break;
		case 'I':
			opt.stdin_hold = true;
			break;
		case 'E':
			opt.no_probe = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	opt.host = argv[optind];
	opt.port = argv[optind + 1];
	if (!opt.conns || !opt.size || opt.size > MAX_MSG || !opt.inflight ||
	    !opt.bulk_bytes) {
		fprintf(stderr, "fastecho-bench: -c, -s (<= %u), -p and -b must be positive\n",
			MAX_MSG);
		exit(2);
	}
	parse_addr();

	if (!opt.threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		opt.threads = n > 0 ? (unsigned int)n : 1;
	}
	if (opt.threads > opt.conns)
		opt.threads = opt.conns;
	if (!opt.hard_limit) {
		if (opt.mode == MODE_BULK)
			opt.hard_limit = 900;
		else if (opt.mode == MODE_IDLE)
			opt.hard_limit = 1200;
		else
			opt.hard_limit = opt.warmup + opt.duration + 300;
	}
}

/* Enough descriptors for every connection plus some slack. */
static void raise_nofile(void)
{
	long want = (long)opt.conns + 64, got = fe_raise_nofile(want);

	if (got < want)
		fprintf(stderr, "fastecho-bench: RLIMIT_NOFILE only %ld\n", got);
}

static const char *mode_name(void)
{
	static const char *const names[] = { "pingpong", "bulk", "cec", "idle" };

	return names[opt.mode];
}

/* What the guest's CPUs and this process did, at one instant. */
struct cpu_sample {
	uint64_t ns;		/* CLOCK_MONOTONIC */
	uint64_t client_us;	/* getrusage(RUSAGE_SELF): user + system */
	unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
	uint64_t idle_ns;	/* /proc/timer_list: every CPU's idle + iowait */
	bool ok, idle_ns_ok;
};

/*
 * Idle time in ns, every CPU's .idle_sleeptime and .iowait_sleeptime of
 * /proc/timer_list (NO_HZ's own accounting, what /proc/stat rounds to
 * 10 ms). A CPU idle at this instant has its current idle stretch left
 * out; the CPU that reads is busy. false when the file has neither.
 */
static bool idle_ns_read(uint64_t *ns)
{
	char line[256];
	unsigned long long v;
	bool found = false;
	FILE *f;

	*ns = 0;
	f = fopen("/proc/timer_list", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " .idle_sleeptime : %llu", &v) == 1 ||
		    sscanf(line, " .iowait_sleeptime : %llu", &v) == 1) {
			*ns += v;
			found = true;
		}
	}
	fclose(f);
	return found;
}

static struct cpu_sample cpu_start, cpu_end;

static void cpu_sample(struct cpu_sample *s)
{
	struct rusage ru;
	FILE *f;

	s->ok = false;
	f = fopen("/proc/stat", "r");
	if (f) {
		s->ok = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			       &s->user, &s->nice, &s->sys, &s->idle, &s->iowait,
			       &s->irq, &s->softirq, &s->steal) == 8;
		fclose(f);
	}
	s->idle_ns_ok = idle_ns_read(&s->idle_ns);
	getrusage(RUSAGE_SELF, &ru);
	s->client_us = (uint64_t)ru.ru_utime.tv_sec * 1000000u +
		       (uint64_t)ru.ru_utime.tv_usec +
		       (uint64_t)ru.ru_stime.tv_sec * 1000000u +
		       (uint64_t)ru.ru_stime.tv_usec;
	s->ns = now_ns();
}

/* The CPU fields of the RESULT line (see the header), "" without /proc. */
static void print_cpu(void)
{
	const struct cpu_sample *a = &cpu_start, *b = &cpu_end;
	long hz = sysconf(_SC_CLK_TCK), cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double win, idle;

	if (!a->ok || !b->ok || hz <= 0 || cpus <= 0)
		return;
	win = (double)(b->ns - a->ns) / 1e9 * (double)cpus;
	if (a->idle_ns_ok && b->idle_ns_ok)
		idle = (double)(b->idle_ns - a->idle_ns) / 1e9;
	else
		idle = (double)(b->idle + b->iowait - a->idle - a->iowait) /
		       (double)hz;
	if (idle < 0)
		idle = 0;
	if (idle > win)
		idle = win;
	printf(" cpus=%ld win_s=%.4f idle_s=%.4f busy_s=%.4f user_s=%.4f sys_s=%.4f softirq_s=%.4f client_s=%.6f",
	       cpus, win, idle, win - idle,
	       (double)(b->user + b->nice - a->user - a->nice) / (double)hz,
	       (double)(b->sys + b->irq - a->sys - a->irq) / (double)hz,
	       (double)(b->softirq - a->softirq) / (double)hz,
	       (double)(b->client_us - a->client_us) / 1e6);
}

/* Sleep until t (monotonic ns) or until the run is cut short. */
static void sleep_until(uint64_t t)
{
	uint64_t now;

	while ((now = now_ns()) < t) {
		uint64_t d = t - now;
		struct timespec ts = {
			.tv_sec = (time_t)(d / 1000000000ull),
			.tv_nsec = (long)(d % 1000000000ull),
		};

		if (ts.tv_sec > 0) {
			ts.tv_sec = 0;
			ts.tv_nsec = 100000000;
		}
		nanosleep(&ts, NULL);
		if (opt.mode == MODE_PINGPONG && opt.total_msgs) {
			uint64_t sum = 0;
			unsigned int i;

			/* racy read of counters is fine: only a stop hint */
			for (i = 0; i < opt.threads; i++)
				sum += *(volatile uint64_t *)&workers[i].msgs;
			if (sum >= opt.total_msgs)
				return;
		}
	}
}

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* The hard limit: report what we have and leave, whatever the threads do. */
static void *watchdog(void *arg)
{
	uint64_t limit = (uint64_t)(opt.hard_limit * 1e9);

	struct timespec ts = {
		.tv_sec = (time_t)(limit / 1000000000ull),
		.tv_nsec = (long)(limit % 1000000000ull),
	};

	(void)arg;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	printf("RESULT mode=%s conns=%u size=%u timeout=1 errors=1\n",
	       mode_name(), opt.conns, opt.size);
	fflush(stdout);
	fprintf(stderr, "fastecho-bench: hard time limit of %.0f s reached\n",
		opt.hard_limit);
	_exit(3);
	return NULL;
}

/* Idle mode: hold the connections until a signal, stdin EOF or -d. */
static void idle_hold(void)
{
	uint64_t until = now_ns() + (uint64_t)(opt.duration * 1e9);
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	char buf[256];

	while (!got_signal && now_ns() < until) {
		if (!opt.stdin_hold) {
			usleep(100000);
			continue;
		}
		if (poll(&pfd, 1, 100) > 0) {
			ssize_t n = read(0, buf, sizeof(buf));

			if (n <= 0)
				break;
		}
	}
}

int main(int argc, char **argv)
{
	void *(*fn)(void *);
	struct hist total = { 0 };
	uint64_t msgs = 0, bytes = 0, errors = 0, ok = 0, t0, t1, end = 0;
	uint64_t verified = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	pthread_t wd;
	unsigned int i, base, extra;
	double secs;

	parse_args(argc, argv);
	raise_nofile();
	pattern_init();
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_create(&wd, NULL, watchdog, NULL);

	switch (opt.mode) {
	case MODE_PINGPONG:
		fn = pingpong_thread;
		break;
	case MODE_BULK:
		fn = bulk_thread;
		break;
	case MODE_CEC:
		fn = cec_thread;
		break;
	default:
		fn = idle_thread;
		break;
	}

	workers = calloc(opt.threads, sizeof(*workers));
	if (!workers) {
		perror("calloc");
		return 2;
	}
	base = opt.conns / opt.threads;
	extra = opt.conns % opt.threads;
	t0 = now_ns();
	for (i = 0; i < opt.threads; i++) {
		struct worker *w = &workers[i];
		unsigned int k;

		w->index = i;
		w->nconns = base + (i < extra);
		w->first_id = (uint64_t)i * base + (i < extra ? i : extra);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->conns = calloc(w->nconns, sizeof(*w->conns));
		w->rbuf = malloc(IO_CHUNK);
		if (w->epfd < 0 || !w->conns || !w->rbuf) {
			perror("fastecho-bench: setup");
			return 2;
		}
		for (k = 0; k < w->nconns; k++) {
			w->conns[k].fd = -1;
			if (opt.mode == MODE_PINGPONG) {
				w->conns[k].stamps = calloc(opt.inflight,
							    sizeof(uint64_t));
				if (!w->conns[k].stamps) {
					perror("calloc");
					return 2;
				}
			}
		}
		if (opt.total_msgs)
			w->msg_quota = opt.total_msgs / opt.threads +
				       (i < opt.total_msgs % opt.threads);
		if (pthread_create(&w->tid, NULL, fn, w)) {
			perror("pthread_create");
			return 2;
		}
	}

	if (opt.mode == MODE_IDLE) {
		for (i = 0; i < opt.threads; i++)
			pthread_join(workers[i].tid, NULL);
		for (i = 0; i < opt.threads; i++) {
			ok += workers[i].ok_conns;
			errors += workers[i].errors;
			if (workers[i].end_ns > end)
				end = workers[i].end_ns;
		}
		printf("RESULT mode=idle conns=%u ok=%llu setup_s=%.2f errors=%llu\n",
		       opt.conns, (unsigned long long)ok, (end - t0) / 1e9,
		       (unsigned long long)errors);
		fflush(stdout);
		idle_hold();
		return errors ? 1 : 0;	/* exit closes every socket */
	}

	/* wait for the connect phase of every thread (cec has none) */
	while (atomic_load(&ready_threads) < opt.threads)
		usleep(1000);
	if (opt.mode == MODE_BULK) {
		cpu_sample(&cpu_start);
		measure_start_ns = now_ns();
		atomic_store(&phase, 2);
	} else {
		atomic_store(&phase, 1);
		sleep_until(now_ns() + (uint64_t)(opt.warmup * 1e9));
		cpu_sample(&cpu_start);
		measure_start_ns = now_ns();
		atomic_store(&phase, 2);
		sleep_until(measure_start_ns + (uint64_t)(opt.duration * 1e9));
		end = now_ns();
		cpu_sample(&cpu_end);
		atomic_store(&phase, 3);
	}
	for (i = 0; i < opt.threads; i++) {
		pthread_join(workers[i].tid, NULL);
		hist_merge(&total, &workers[i].hist);
		msgs += workers[i].msgs;
		bytes += workers[i].bytes;
		errors += workers[i].errors;
		if (opt.mode == MODE_BULK && workers[i].end_ns > end)
			end = workers[i].end_ns;
		verified += workers[i].verified;
	}
	if (opt.mode == MODE_BULK)
		cpu_sample(&cpu_end);
	t1 = end;
	secs = (t1 - measure_start_ns) / 1e9;
	if (secs <= 0)
		secs = 1e-9;

	switch (opt.mode) {
	case MODE_BULK:
		printf("RESULT mode=bulk conns=%u threads=%u mib=%.0f secs=%.3f "
		       "bytes=%llu mib_per_s=%.2f verified_mib=%.2f errors=%llu",
		       opt.conns, opt.threads, opt.bulk_bytes / 1048576.0,
		       secs, (unsigned long long)bytes,
		       bytes / 1048576.0 / secs, verified / 1048576.0,
		       (unsigned long long)errors);
		print_cpu();
		printf("\n");
		break;
	default:
		printf("RESULT mode=%s conns=%u size=%u inflight=%u threads=%u "
		       "secs=%.3f msgs=%llu msgs_per_s=%.1f mib_per_s=%.3f "
		       "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f "
		       "max_us=%.1f errors=%llu",
		       mode_name(), opt.conns, opt.size, opt.inflight,
		       opt.threads, secs, (unsigned long long)msgs,
		       msgs / secs, bytes / 1048576.0 / secs,
		       hist_quantile_us(&total, 0.50),
		       hist_quantile_us(&total, 0.90),
		       hist_quantile_us(&total, 0.99),
		       hist_quantile_us(&total, 0.999),
		       total.max / 1000.0, (unsigned long long)errors);
		print_cpu();
		printf("\n");
		break;
	}
	fflush(stdout);
	return errors ? 1 : 0;
}
