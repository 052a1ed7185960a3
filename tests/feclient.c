// SPDX-License-Identifier: GPL-2.0
/*
 * feclient: the fastecho test suite's client, one static binary with many
 * modes. Every mode checks one thing, exits 0 when it holds and otherwise
 * prints one line saying why and exits 1. Nothing may hang: every wait has
 * a deadline, and a hard alarm ends the process (exit 3) past the -t limit.
 * Deadlines only catch a hang: the environment variable FE_TIME_SCALE (a
 * number, default 1; the suite sets it for slow kernels) multiplies every
 * time limit (-t, -b and the waits inside), never a duration (-d, -i, -a).
 *
 *   feclient MODE [options]
 *
 * Modes:
 *   echo      send data (-f FILE, "-" = stdin, or -n BYTES of random binary
 *             with NULs) in -w byte writes, verify the echo byte for byte
 *   pipeline  send -n messages of -m bytes without waiting, verify all
 *   halfclose send -n bytes, shutdown(SHUT_WR), expect all back then EOF
 *   rst       -c clients each send -n bytes, read part, then RST (linger 0)
 *   hold      open -c connections, verify each with one echo, then hold them
 *             until SIGTERM/SIGINT/SIGUSR1, -u FILE exists, or -t runs out
 *   noread    -c clients send until their buffers are full (at most -n
 *             bytes each; full: nothing goes in for -i ms, default 300),
 *             never read; hold them like "hold"
 *   sparse    -c clients each send -n bytes (default 1000) in writes of
 *             -w bytes (at most 64; default here 1), with TCP_NODELAY and
 *             the smallest receive buffer, set before connect, and never
 *             read; hold them like "hold". With -Z each write is
 *             MSG_ZEROCOPY: the kernel copies zero-copy data into fresh
 *             pages when it is delivered locally (skb_copy_ubufs()), so
 *             every segment reaches the server alone in a 4 KiB page
 *   stream    -c clients echo continuously until the server closes them or
 *             they are told to stop (for rmmod under load)
 *   flood     connect/close as fast as possible for -d seconds (-c threads)
 *   soak      -c threads of random clients for -d seconds: random sizes,
 *             random full echo / half-close / RST / early close; completed
 *             connections must echo exactly what was sent
 *   xfer      -x transfers, -c at a time, of 1 to -n bytes (default 200000)
 *             each, written while the echo is read. One in three ends with
 *             a half-close once everything is sent, one with a half-close
 *             once everything is back (both then want EOF), one with a full
 *             close once everything is back. Every transfer runs to its end
 *             (60 s without progress is a stall); all failures are listed
 *   maxconn   -c attempts one after another, each probed with one echo:
 *             served, or closed by the server (rejected); at most -x served,
 *             none left hanging, the served ones still echo at the end
 *   idle      one echo, then idle: the server must close us after between
 *             -a and -b seconds
 *   busy      one echo every -i ms for -d seconds: must never be closed
 *   readloop  read -f FILE to its end again and again, 4 KiB at a time,
 *             for -d seconds or until -u FILE exists; say how many times.
 *             A FILE that is missing, or goes away while read, is tried
 *             again (a proc file of a module being loaded and unloaded)
 *   listen    hold a listening socket on -h/-p (to make the port busy)
 *   refused   connecting must fail with ECONNREFUSED
 *   urgent    -c connections, one after another: -n random bytes (default
 *             3), one urgent byte (MSG_OOB), -n more, then shutdown(SHUT_WR):
 *             the echo must be every byte, the urgent one in line, then EOF
 *   pause     one connection: -c rounds of a -m byte echo (default 64),
 *             each followed by a pause of -i ms
 *   fault     -x transfers, -c at a time, of 1 to -n bytes (default 100000)
 *             each, then a half-close, against a server whose allocations
 *             fail at random (tests/fault.sh): a transfer either comes back
 *             whole and then EOF ("full"), whole with no EOF within 5 s
 *             ("nofin": the server's TCP could not allocate its FIN, and
 *             gives up on it), or the server ends it early, by a reset or
 *             an early EOF ("cut"); every byte that does come back must be
 *             the byte sent, and none may hang (60 s without progress; a
 *             keepalive every second after 2 s idle finds a server socket
 *             gone without its reset). Prints "full F nofin N cut C"
 *
 * Options:
 *   -h HOST[,HOST]  IPv4 or IPv6 literal(s), default 127.0.0.1; with a list,
 *                   connections alternate between them
 *   -B ADDR    connect from this local address (a source of its own)
 *   -p PORT    default 12345        -t SEC   time limit, default 60
 *   -c N       clients/attempts     -n N     bytes or messages
 *   -m N       message size         -w N     write size
 *   -f FILE    data file            -d SEC   duration
 *   -i MS      interval             -a/-b S  idle close window
 *   -x N       max served           -r FILE  touched when ready
 *   -u FILE    stop when it exists  -s SEED  random seed
 *   -k FILE    soak/stream: on a failed connection, touch FILE and keep
 *              the failed connections open until -u FILE exists (60 s max)
 *   -l MS      echo, pipeline: read nothing back for the first MS ms, so
 *              that the server's send buffer and then its receive queue
 *              fill up (TCP collapses a full receive queue)
 *   -q         quiet on success
 *   -Z         sparse: send with MSG_ZEROCOPY
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../tools/fe-client.h"

#define MAX_HOSTS 4

static const char *mode = "?";
static struct sockaddr_storage hosts[MAX_HOSTS];
static socklen_t hostlens[MAX_HOSTS];
static int nhosts;
static int opt_port = 12345;
static int opt_timeout = 60;
static long opt_count = 1;
static long opt_n = -1;
static long opt_msg = 64;
static long opt_write = 65536;
static const char *opt_file;
static double opt_duration = 10;
static long opt_interval = 1000;
static long opt_patience = 300;	/* noread: -i, when given */
static long opt_late;
static double opt_min = -1, opt_max = -1;
static long opt_maxserved = -1;
static const char *opt_ready;
static const char *opt_until;
static const char *opt_keep;
static unsigned int opt_seed;
static int opt_quiet;
static int opt_zerocopy;
static struct sockaddr_storage opt_src;
static socklen_t opt_srclen;
static double time_scale = 1;
static volatile sig_atomic_t stop_flag;

/* ---- reporting ---------------------------------------------------------- */

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("feclient %s: FAIL ", mode);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

static void pass(const char *fmt, ...)
{
	va_list ap;

	if (!opt_quiet) {
		printf("feclient %s: ok ", mode);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	exit(0);
}

static void on_alarm(int sig)
{
	char msg[96];
	int len;

	(void)sig;
	len = snprintf(msg, sizeof(msg),
		       "feclient %s: FAIL hard time limit (%d s) reached\n",
		       mode, opt_timeout);
	if (write(1, msg, len) < 0)
		_exit(3);
	_exit(3);
}

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* ---- time --------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double t_start;

/* A time limit of @ms milliseconds, times FE_TIME_SCALE. */
static int limit_ms(int ms)
{
	return (int)(ms * time_scale);
}

/* Milliseconds left until @deadline (absolute, from now()), at least 0. */
static int ms_left(double deadline)
{
	double left = deadline - now();

	if (left <= 0)
		return 0;
	if (left > 1e6)
		return 1000000000;
	return (int)(left * 1000) + 1;
}

static int should_stop(void)
{
	struct stat st;

	if (stop_flag)
		return 1;
	if (opt_until && stat(opt_until, &st) == 0)
		return 1;
	return 0;
}

static void touch(const char *path)
{
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
}

/* ---- data --------------------------------------------------------------- */

/* xorshift, per caller state; good enough for test data */
static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* Random binary with plenty of NULs and every other byte value. */
static void fill_random(unsigned char *buf, size_t len, uint32_t *seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint32_t r = rnd(seed);

		buf[i] = (r & 0x700) == 0 ? 0 : (unsigned char)r;
	}
}

static unsigned char *read_all(int fd, size_t *lenp)
{
	size_t cap = 1 << 20, len = 0;
	unsigned char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		fail("out of memory");
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				fail("out of memory");
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("read input: %s", strerror(errno));
		if (n == 0)
			break;
		len += n;
	}
	*lenp = len;
	return buf;
}

/* ---- sockets ------------------------------------------------------------ */

static void parse_hosts(const char *list)
{
	char *copy = strdup(list), *tok, *save = NULL;

	nhosts = 0;
	for (tok = strtok_r(copy, ",", &save); tok && nhosts < MAX_HOSTS;
	     tok = strtok_r(NULL, ",", &save)) {
		if (fe_parse_addr(tok, 0, &hosts[nhosts], &hostlens[nhosts])) {
			fprintf(stderr, "feclient: bad address '%s'\n", tok);
			exit(2);
		}
		nhosts++;
	}
	free(copy);
}

static void set_port(int port)
{
	int i;

	for (i = 0; i < nhosts; i++) {
		if (hosts[i].ss_family == AF_INET)
			((struct sockaddr_in *)&hosts[i])->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)&hosts[i])->sin6_port = htons(port);
	}
}

static void rst_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int wait_fd(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&pfd, 1, ms);
	} while (r < 0 && errno == EINTR);
	return r;
}

/*
 * Connect to host number @which (mod nhosts), non-blocking, within @ms.
 * Returns the (non-blocking) socket, or -1 with errno set.
 */
static int fe_connect(int which, int ms)
{
	int h = which % nhosts;

	return fe_connect_wait_from(&hosts[h], hostlens[h],
				    opt_srclen ? &opt_src : NULL, opt_srclen,
				    ms);
}

/*
 * Outcome of one echo exchange. XFER_OK: all bytes echoed (and EOF seen when
 * asked for). Others: how it ended; @why has the details.
 */
enum xfer_res { XFER_OK, XFER_EOF, XFER_RESET, XFER_MISMATCH, XFER_TIMEOUT,
		XFER_ERROR };

struct xfer {
	const unsigned char *buf;
	size_t len;
	size_t chunk;		/* bytes per send() */
	int halfclose;		/* shutdown(SHUT_WR) once everything is sent */
	int shut_after_echo;	/* shutdown(SHUT_WR) once everything is back */
	int expect_eof;		/* then require EOF after the last byte */
	double deadline;
	double idle;		/* if > 0: give up after this long without progress */
	double read_from;	/* read no echo before this time */
	size_t sent, recvd;	/* out */
	double last_rx;		/* out: when the last echo bytes came */
	char why[160];		/* out */
};

static enum xfer_res do_xfer(int fd, struct xfer *x)
{
	unsigned char rbuf[65536];
	double last_progress;
	int shut = 0;

	x->sent = x->recvd = 0;
	x->why[0] = 0;
	x->last_rx = now();
	last_progress = x->last_rx;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double limit = x->deadline;
		int r, late = now() < x->read_from;

		if (x->idle > 0 && last_progress + x->idle < limit)
			limit = last_progress + x->idle;
		if (late) {
			pfd.events = 0;
			limit = x->read_from;
			last_progress = now();
		}
		if (x->sent < x->len)
			pfd.events |= POLLOUT;
		r = poll(&pfd, 1, ms_left(limit));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && late)
			continue;
		if (r <= 0) {
			int queued = -1;

			/* bytes waiting in our own receive queue right now */
			ioctl(fd, FIONREAD, &queued);
			snprintf(x->why, sizeof(x->why),
				 "timed out: sent %zu/%zu, echoed %zu (%d unread in our queue, last echo %.1f s ago, no progress for %.1f s)",
				 x->sent, x->len, x->recvd, queued,
				 now() - x->last_rx, now() - last_progress);
			return XFER_TIMEOUT;
		}
		if (pfd.revents & POLLOUT) {
			size_t want = x->len - x->sent;
			ssize_t n;

			if (want > x->chunk)
				want = x->chunk;
			n = send(fd, x->buf + x->sent, want, MSG_NOSIGNAL);
			if (n > 0) {
				x->sent += n;
				last_progress = now();
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				snprintf(x->why, sizeof(x->why),
					 "send after %zu bytes: %s", x->sent,
					 strerror(errno));
				return errno == ECONNRESET || errno == EPIPE ?
					XFER_RESET : XFER_ERROR;
			}
			if (x->sent == x->len && x->halfclose && !shut) {
				shutdown(fd, SHUT_WR);
				shut = 1;
			}
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n < 0) {
				snprintf(x->why, sizeof(x->why),
					 "recv after %zu echoed bytes: %s",
					 x->recvd, strerror(errno));
				return errno == ECONNRESET ? XFER_RESET :
					XFER_ERROR;
			}
			if (n == 0) {
				if (x->recvd == x->len)
					return XFER_OK;
				snprintf(x->why, sizeof(x->why),
					 "EOF after %zu of %zu bytes echoed",
					 x->recvd, x->len);
				return XFER_EOF;
			}
			if (x->recvd + n > x->len) {
				snprintf(x->why, sizeof(x->why),
					 "%zu bytes more than sent",
					 x->recvd + n - x->len);
				return XFER_MISMATCH;
			}
			if (memcmp(rbuf, x->buf + x->recvd, n)) {
				ssize_t i = 0;

				while (rbuf[i] == x->buf[x->recvd + i])
					i++;
				snprintf(x->why, sizeof(x->why),
					 "byte %zu differs: got 0x%02x, sent 0x%02x",
					 x->recvd + i, rbuf[i],
					 x->buf[x->recvd + i]);
				return XFER_MISMATCH;
			}
			x->recvd += n;
			x->last_rx = now();
			last_progress = x->last_rx;
			if (x->recvd == x->len && x->shut_after_echo && !shut) {
				shutdown(fd, SHUT_WR);
				shut = 1;
			}
			if (x->recvd == x->len && !x->expect_eof &&
			    x->sent == x->len)
				return XFER_OK;
		}
	}
}

/* One short echo on @fd with tag @tag; 0 on success, else -1 and @why. */
static int probe_echo(int fd, long tag, int ms, char *why, size_t whylen)
{
	unsigned char msg[64];
	struct xfer x = { 0 };
	enum xfer_res r;

	x.len = snprintf((char *)msg, sizeof(msg), "probe %ld\n", tag);
	x.buf = msg;
	x.chunk = x.len;
	x.deadline = now() + ms / 1000.0;
	r = do_xfer(fd, &x);
	if (r == XFER_OK)
		return 0;
	snprintf(why, whylen, "%s", x.why);
	return r == XFER_EOF || r == XFER_RESET ? -2 : -1;
}

static void raise_nofile(long want)
{
	fe_raise_nofile(want);
}

/* Sleep in small steps until told to stop or @deadline. */
static void hold_until(double deadline)
{
	while (!should_stop() && now() < deadline)
		usleep(50000);
}

/* ---- modes -------------------------------------------------------------- */

static double deadline_all(void)
{
	return t_start + opt_timeout - 1;
}

static void run_one_xfer(const unsigned char *buf, size_t len, size_t chunk,
			 int halfclose, const char *what)
{
	struct xfer x = { 0 };
	enum xfer_res r;
	int fd;

	fd = fe_connect(0, ms_left(deadline_all()));
	if (fd < 0)
		fail("connect: %s", strerror(errno));
	x.buf = buf;
	x.len = len;
	x.chunk = chunk ? chunk : 1;
	x.halfclose = halfclose;
	x.expect_eof = halfclose;
	x.deadline = deadline_all();
	x.read_from = now() + opt_late / 1000.0;
	r = do_xfer(fd, &x);
	if (r != XFER_OK)
		fail("%s", x.why);
	close(fd);
	pass("%zu bytes %s in %.2f s", len, what, now() - t_start);
}

static void mode_echo(void)
{
	unsigned char *buf;
	size_t len;
	uint32_t seed = opt_seed;

	if (opt_file) {
		int fd = strcmp(opt_file, "-") ? open(opt_file, O_RDONLY) : 0;

		if (fd < 0)
			fail("open %s: %s", opt_file, strerror(errno));
		buf = read_all(fd, &len);
		if (fd)
			close(fd);
	} else {
		len = opt_n < 0 ? 4096 : opt_n;
		buf = malloc(len + 1);
		if (!buf)
			fail("out of memory");
		fill_random(buf, len, &seed);
	}
	run_one_xfer(buf, len, opt_write, 0, "echoed byte for byte");
}

static void mode_pipeline(void)
{
	long n = opt_n < 0 ? 10000 : opt_n, m = opt_msg < 12 ? 12 : opt_msg, i;
	unsigned char *buf = malloc(n * m);
	char tmp[32];

	if (!buf)
		fail("out of memory");
	for (i = 0; i < n; i++) {
		unsigned char *p = buf + i * m;

		memset(p, 'a' + i % 26, m);
		snprintf(tmp, sizeof(tmp), "%010ld", i);
		memcpy(p, tmp, 10);
		p[m - 1] = '\n';
	}
	run_one_xfer(buf, n * m, m, 0, "in pipelined messages echoed");
}

static void mode_halfclose(void)
{
	size_t len = opt_n < 0 ? 65536 : opt_n;
	unsigned char *buf = malloc(len + 1);
	uint32_t seed = opt_seed;

	if (!buf)
		fail("out of memory");
	fill_random(buf, len, &seed);
	run_one_xfer(buf, len, opt_write, 1, "echoed, then EOF after shutdown");
}

static void mode_rst(void)
{
	long n = opt_count, i;
	size_t len = opt_n < 0 ? 32768 : opt_n;
	int *fds = calloc(n, sizeof(int));
	unsigned char *buf = malloc(len + 1), rbuf[4096];
	uint32_t seed = opt_seed;

	if (!fds || !buf)
		fail("out of memory");
	raise_nofile(n + 64);
	fill_random(buf, len, &seed);
	/* Everyone connects, sends, and sees some echo ... */
	for (i = 0; i < n; i++) {
		ssize_t got;

		fds[i] = fe_connect(i, ms_left(deadline_all()));
		if (fds[i] < 0)
			fail("client %ld connect: %s", i, strerror(errno));
		if (wait_fd(fds[i], POLLOUT, ms_left(deadline_all())) <= 0 ||
		    send(fds[i], buf, len, MSG_NOSIGNAL) <= 0)
			fail("client %ld send: %s", i, strerror(errno));
		if (wait_fd(fds[i], POLLIN, ms_left(deadline_all())) <= 0)
			fail("client %ld: no echo before the time limit", i);
		got = recv(fds[i], rbuf, sizeof(rbuf) < len ? sizeof(rbuf) : len, 0);
		if (got <= 0)
			fail("client %ld: recv %zd: %s", i, got,
			     got ? strerror(errno) : "EOF");
		if (memcmp(rbuf, buf, got))
			fail("client %ld: echo differs", i);
	}
	/* ... then all reset their connections mid-stream. */
	for (i = 0; i < n; i++)
		rst_close(fds[i]);
	pass("%ld clients reset mid-stream", n);
}

static void mode_hold(void)
{
	long n = opt_count, i, lost = 0;
	int *fds = calloc(n, sizeof(int));
	char why[160];
	double deadline = deadline_all();

	if (!fds)
		fail("out of memory");
	raise_nofile(n + 64);
	for (i = 0; i < n; i++) {
		if (should_stop())
			fail("told to stop with %ld of %ld connections open", i, n);
		fds[i] = fe_connect(i, ms_left(deadline));
		if (fds[i] < 0)
			fail("connection %ld of %ld: connect: %s", i + 1, n,
			     strerror(errno));
		if (probe_echo(fds[i], i, ms_left(deadline), why, sizeof(why)))
			fail("connection %ld of %ld: %s", i + 1, n, why);
	}
	printf("feclient hold: %ld connections open and echoing\n", n);
	fflush(stdout);
	touch(opt_ready);
	hold_until(deadline);
	/* How many did the server close while we held them? */
	for (i = 0; i < n; i++) {
		char c;
		ssize_t r = recv(fds[i], &c, 1, MSG_DONTWAIT);

		if (r == 0 || (r < 0 && errno != EAGAIN))
			lost++;
		close(fds[i]);
	}
	if (stop_flag || (opt_until && should_stop()))
		pass("%ld connections held; %ld closed by the server", n, lost);
	fail("not told to stop within %d s (held %ld, %ld closed by server)",
	     opt_timeout, n, lost);
}

/*
 * noread, sparse: say ready (-r), hold @n connections that sent @total
 * bytes and read none until told to stop, then close them and pass.
 */
static void hold_unread(int *fds, long n, size_t total, double deadline)
{
	long i;

	fflush(stdout);
	touch(opt_ready);
	hold_until(deadline);
	for (i = 0; i < n; i++)
		close(fds[i]);
	pass("%ld clients held (%zu bytes sent, none read)", n, total);
}

static void mode_noread(void)
{
	long n = opt_count, i;
	int *fds = calloc(n, sizeof(int));
	unsigned char buf[65536];
	size_t total = 0;
	double deadline = deadline_all();
	uint32_t seed = opt_seed;

	if (!fds)
		fail("out of memory");
	raise_nofile(n + 64);
	fill_random(buf, sizeof(buf), &seed);
	for (i = 0; i < n; i++) {
		fds[i] = fe_connect(i, ms_left(deadline));
		if (fds[i] < 0)
			fail("client %ld connect: %s", i, strerror(errno));
	}
	/*
	 * Send until nothing more goes in for a while (every buffer on the way
	 * is full), or -n bytes per client (default 16 MiB) are out.
	 */
	for (i = 0; i < n; i++) {
		size_t mine = 0, cap = opt_n > 0 ? (size_t)opt_n : 16 << 20;

		while (mine < cap) {
			ssize_t w = send(fds[i], buf, sizeof(buf), MSG_NOSIGNAL);

			if (w > 0) {
				total += w;
				mine += w;
				continue;
			}
			if (w < 0 && errno == EAGAIN &&
			    wait_fd(fds[i], POLLOUT, opt_patience) > 0)
				continue;
			break;
		}
	}
	printf("feclient noread: %ld clients sent %zu bytes and stopped reading\n",
	       n, total);
	hold_unread(fds, n, total, deadline);
}

/* Read and drop @fd's MSG_ZEROCOPY completions; false on an error. */
static int drain_errqueue(int fd)
{
	char ctl[256];
	struct msghdr msg = { .msg_control = ctl };

	for (;;) {
		msg.msg_controllen = sizeof(ctl);
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return errno == EAGAIN;
	}
}

/*
 * Send @len bytes of @buf on @fd in one write, with MSG_ZEROCOPY under -Z.
 * Return the bytes sent, 0 when nothing went in for @patience ms (the way
 * is full), -1 on an error.
 */
static ssize_t send_some(int fd, const char *buf, size_t len, long patience)
{
	int flags = MSG_NOSIGNAL | (opt_zerocopy ? MSG_ZEROCOPY : 0);
	double give_up = now() + patience / 1000.0;
	ssize_t w;

	for (;;) {
		w = send(fd, buf, len, flags);
		if (w > 0)
			return w;
		if (errno == ENOBUFS && opt_zerocopy && drain_errqueue(fd)) {
			/* Completions still owed: they come as data is acked. */
			if (now() > give_up)
				return 0;
			usleep(1000);
			continue;
		}
		if (errno != EAGAIN)
			return -1;
		if (wait_fd(fd, POLLOUT, patience) <= 0)
			return 0;
	}
}

static void mode_sparse(void)
{
	long n = opt_count, per = opt_n > 0 ? opt_n : 1000, i, j;
	long wlen = opt_write == 65536 ? 1 : opt_write;
	int *fds = calloc(n, sizeof(int));
	int one = 1, small = 1;
	double deadline = deadline_all();
	size_t total = 0;
	char buf[64];

	if (!fds)
		fail("out of memory");
	raise_nofile(n + 64);
	for (i = 0; i < n; i++) {
		const struct sockaddr_storage *ss = &hosts[i % nhosts];

		/* The receive buffer before connect: a small window from the start. */
		fds[i] = socket(ss->ss_family,
				SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &small,
			       sizeof(small)) ||
		    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) ||
		    (opt_zerocopy && setsockopt(fds[i], SOL_SOCKET,
						SO_ZEROCOPY, &one,
						sizeof(one))))
			fail("client %ld socket: %s", i, strerror(errno));
		if (connect(fds[i], (const struct sockaddr *)ss,
			    hostlens[i % nhosts]) < 0 &&
		    (errno != EINPROGRESS ||
		     wait_fd(fds[i], POLLOUT, ms_left(deadline)) <= 0 ||
		     fe_connect_result(fds[i]) < 0))
			fail("client %ld connect: %s", i, strerror(errno));
	}
	if (wlen > (long)sizeof(buf))
		wlen = sizeof(buf);
	memset(buf, 'z', sizeof(buf));
	for (i = 0; i < n; i++) {
		for (j = 0; j < per;) {
			ssize_t r = send_some(fds[i], buf,
					      per - j < wlen ? per - j : wlen,
					      opt_patience);

			if (r < 0)
				fail("client %ld send: %s", i, strerror(errno));
			if (!r)
				break;
			j += r;
		}
		total += j;
		if (opt_zerocopy && !drain_errqueue(fds[i]))
			fail("client %ld error queue: %s", i, strerror(errno));
	}
	printf("feclient sparse: %ld clients sent %zu bytes %ld at a time%s in %.1f s and stopped reading\n",
	       n, total, wlen, opt_zerocopy ? " (MSG_ZEROCOPY)" : "",
	       now() - t_start);
	hold_unread(fds, n, total, deadline);
}

/* -- threaded modes -- */

struct worker {
	pthread_t tid;
	int id;
	uint32_t seed;
	double end;
	/* results */
	long conns, completed, halfclosed, resets, aborts, refused, errors;
	unsigned long long bytes;
	char err[200];
	int stuck_fd;		/* the failed connection, kept open for -k */
};

/* Local port of @fd, to find it in /proc/net/fastecho. */
static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * A worker's connection failed: note why (with its local port), keep the
 * socket open when -k asks for it, and stop every other worker.
 */
static void worker_failed(struct worker *w, int fd, const char *what,
			  size_t len, const char *why)
{
	snprintf(w->err, sizeof(w->err), "%s of %zu bytes (local port %d): %s",
		 what, len, local_port(fd), why);
	if (opt_keep) {
		w->stuck_fd = fd;
	} else {
		close(fd);
	}
	stop_flag = 1;
}

static void *flood_worker(void *arg)
{
	struct worker *w = arg;
	char c = 'x';

	while (now() < w->end && !should_stop()) {
		int fd = fe_connect(w->id + (int)w->conns, 2000);

		if (fd < 0) {
			if (errno == ECONNREFUSED)
				w->refused++;
			else
				w->errors++;
			if (errno == EMFILE || errno == EADDRNOTAVAIL)
				usleep(10000);
			continue;
		}
		w->conns++;
		if (send(fd, &c, 1, MSG_NOSIGNAL) < 0)
			w->resets++;
		rst_close(fd);
	}
	return NULL;
}

static void *stream_worker(void *arg)
{
	struct worker *w = arg;
	unsigned char buf[16384];
	int fd;

	fd = fe_connect(w->id, ms_left(w->end));
	if (fd < 0) {
		snprintf(w->err, sizeof(w->err), "stream %d connect: %s", w->id,
			 strerror(errno));
		return NULL;
	}
	w->conns = 1;
	fill_random(buf, sizeof(buf), &w->seed);
	/* Keep a transfer in flight until the server goes away or we stop. */
	while (now() < w->end && !should_stop()) {
		struct xfer x = { 0 };
		enum xfer_res r;

		x.buf = buf;
		x.len = 1 + rnd(&w->seed) % sizeof(buf);
		x.chunk = 4096;
		/* a stall is 20 s without progress (debug kernels are slow) */
		x.deadline = w->end;
		x.idle = 20 * time_scale;
		r = do_xfer(fd, &x);
		w->bytes += x.recvd;
		if (r == XFER_OK) {
			w->completed++;
			continue;
		}
		if ((r == XFER_EOF || r == XFER_RESET) && w->completed) {
			w->resets++;	/* closed by the server: expected */
			break;
		}
		if (r == XFER_TIMEOUT && (should_stop() || now() >= w->end))
			break;
		worker_failed(w, fd, "stream", x.len, x.why);
		return NULL;
	}
	close(fd);
	return NULL;
}

static void *soak_worker(void *arg)
{
	struct worker *w = arg;
	size_t cap = 256 * 1024;
	unsigned char *buf = malloc(cap);
	unsigned char junk[4096];

	if (!buf) {
		snprintf(w->err, sizeof(w->err), "out of memory");
		return NULL;
	}
	fill_random(buf, cap, &w->seed);
	while (now() < w->end && !should_stop() && !w->err[0]) {
		uint32_t r = rnd(&w->seed);
		size_t len = 1 + rnd(&w->seed) % (r % 4 == 0 ? cap : 4096);
		size_t off = rnd(&w->seed) % (cap - len + 1);
		int kind = rnd(&w->seed) % 100, fd;
		struct xfer x = { 0 };
		enum xfer_res res;

		/* SYNs get lost on the real-network lane: retried 1, 3, 7 s */
		fd = fe_connect(w->id + (int)w->conns, limit_ms(30000));
		if (fd < 0) {
			snprintf(w->err, sizeof(w->err),
				 "connect #%ld: %s", w->conns, strerror(errno));
			break;
		}
		w->conns++;
		x.buf = buf + off;
		/* mostly big writes; sometimes tiny ones, on short messages */
		if (rnd(&w->seed) % 8 == 0) {
			x.chunk = 1 + rnd(&w->seed) % 64;
			if (len > 8192)
				len = 1 + len % 8192;
		} else {
			x.chunk = 512 + rnd(&w->seed) % 16384;
		}
		x.len = len;
		/* a stall is 60 s without progress; the run as a whole has -t */
		x.deadline = deadline_all();
		x.idle = 60 * time_scale;
		if (kind < 60) {
			/* complete echo, then a normal close */
			res = do_xfer(fd, &x);
			if (res != XFER_OK) {
				worker_failed(w, fd, "full echo", len, x.why);
				break;
			}
			w->completed++;
			w->bytes += len;
			close(fd);
		} else if (kind < 75) {
			/* half-close: everything back, then EOF */
			x.halfclose = x.expect_eof = 1;
			res = do_xfer(fd, &x);
			if (res != XFER_OK) {
				worker_failed(w, fd, "half-close", len, x.why);
				break;
			}
			w->halfclosed++;
			w->bytes += len;
			close(fd);
		} else {
			/* send part of it, maybe read a little, then go */
			ssize_t s = send(fd, x.buf, len / 2 + 1, MSG_NOSIGNAL);

			if (s > 0 && (r & 1) && wait_fd(fd, POLLIN, 200) > 0) {
				ssize_t g = recv(fd, junk, sizeof(junk),
						 MSG_DONTWAIT);

				if (g > 0 && memcmp(junk, x.buf, g))
					snprintf(w->err, sizeof(w->err),
						 "partial echo differs");
			}
			if (kind < 90) {
				rst_close(fd);
				w->resets++;
			} else {
				close(fd);
				w->aborts++;
			}
		}
	}
	free(buf);
	return NULL;
}

static struct worker *run_workers(long n, void *(*fn)(void *), double end)
{
	struct worker *ws = calloc(n, sizeof(*ws));
	long i;

	if (!ws)
		fail("out of memory");
	for (i = 0; i < n; i++) {
		ws[i].id = i;
		ws[i].seed = opt_seed * 7919 + i * 104729 + 1;
		ws[i].end = end;
		ws[i].stuck_fd = -1;
		if (pthread_create(&ws[i].tid, NULL, fn, &ws[i]))
			fail("pthread_create: %s", strerror(errno));
	}
	return ws;
}

static void join_workers(struct worker *ws, long n)
{
	long i;

	for (i = 0; i < n; i++)
		pthread_join(ws[i].tid, NULL);
}

/*
 * After the workers: with -k, if any connection failed, print every failure,
 * touch the -k file and keep the failed connections open until -u FILE
 * exists (at most 60 s), so that the server's side can be looked at.
 */
static void keep_failures(struct worker *ws, long n)
{
	long i, bad = 0;

	for (i = 0; i < n; i++) {
		if (!ws[i].err[0])
			continue;
		bad++;
		printf("feclient %s: worker %ld: %s\n", mode, i, ws[i].err);
	}
	if (!bad || !opt_keep)
		return;
	fflush(stdout);
	touch(opt_keep);
	stop_flag = 0;
	alarm(70 * time_scale);
	hold_until(now() + 60 * time_scale);
	for (i = 0; i < n; i++)
		if (ws[i].stuck_fd >= 0)
			close(ws[i].stuck_fd);
}

static void mode_flood(void)
{
	long n = opt_count < 1 ? 1 : opt_count, i, conns = 0, refused = 0,
	     errs = 0;
	double end = now() + opt_duration;
	struct worker *ws;

	if (end > deadline_all())
		end = deadline_all();
	raise_nofile(n * 4 + 64);
	ws = run_workers(n, flood_worker, end);
	touch(opt_ready);
	join_workers(ws, n);
	for (i = 0; i < n; i++) {
		conns += ws[i].conns;
		refused += ws[i].refused;
		errs += ws[i].errors;
	}
	pass("%ld connects in %.1f s (%ld refused, %ld other errors)", conns,
	     now() - t_start, refused, errs);
}

static void mode_stream(void)
{
	long n = opt_count, i, conns = 0, closed = 0, done = 0;
	unsigned long long bytes = 0;
	struct worker *ws;

	raise_nofile(n + 64);
	ws = run_workers(n, stream_worker, deadline_all());
	/* Ready once every stream has moved some data. */
	for (;;) {
		long moving = 0;

		for (i = 0; i < n; i++)
			moving += ws[i].completed > 0 || ws[i].err[0];
		if (moving == n || now() > deadline_all())
			break;
		usleep(20000);
	}
	printf("feclient stream: %ld transfers in flight\n", n);
	fflush(stdout);
	touch(opt_ready);
	join_workers(ws, n);
	keep_failures(ws, n);
	for (i = 0; i < n; i++) {
		if (ws[i].err[0])
			fail("%s", ws[i].err);
		conns += ws[i].conns;
		closed += ws[i].resets;
		done += ws[i].completed;
		bytes += ws[i].bytes;
	}
	if (conns != n)
		fail("only %ld of %ld streams connected", conns, n);
	pass("%ld streams, %ld echoes verified (%llu bytes), %ld closed by server",
	     n, done, bytes, closed);
}

static void mode_soak(void)
{
	long n = opt_count, i;
	struct worker tot = { 0 };
	struct worker *ws;
	double end = now() + opt_duration;

	if (end > deadline_all() - 25)
		end = deadline_all() - 25;
	raise_nofile(n + 64);
	ws = run_workers(n, soak_worker, end);
	join_workers(ws, n);
	keep_failures(ws, n);
	for (i = 0; i < n; i++) {
		if (ws[i].err[0])
			fail("worker %ld: %s", i, ws[i].err);
		tot.conns += ws[i].conns;
		tot.completed += ws[i].completed;
		tot.halfclosed += ws[i].halfclosed;
		tot.resets += ws[i].resets;
		tot.aborts += ws[i].aborts;
		tot.bytes += ws[i].bytes;
	}
	if (!tot.completed)
		fail("no connection completed in %.0f s", opt_duration);
	pass("%ld connections: %ld full echo, %ld half-close, %ld reset, "
	     "%ld early close; %llu bytes verified", tot.conns, tot.completed,
	     tot.halfclosed, tot.resets, tot.aborts, tot.bytes);
}

/* xfer: transfers still to start, shared by the workers. */
static long xfer_next;

/*
 * xfer and fault: a worker's buffer of random bytes, -n bytes long
 * (@dflt without -n), or NULL with the worker's error set.
 */
static unsigned char *xfer_buf(struct worker *w, size_t dflt, size_t *cap)
{
	unsigned char *buf;

	*cap = opt_n > 0 ? (size_t)opt_n : dflt;
	buf = malloc(*cap);
	if (!buf) {
		snprintf(w->err, sizeof(w->err), "out of memory");
		return NULL;
	}
	fill_random(buf, *cap, &w->seed);
	return buf;
}

/* The next transfer to run, into @id; false once -x have started. */
static int xfer_claim(long *id)
{
	if (should_stop())
		return 0;
	*id = __atomic_fetch_add(&xfer_next, 1, __ATOMIC_RELAXED);
	return *id < opt_maxserved;
}

static void *xfer_worker(void *arg)
{
	struct worker *w = arg;
	size_t cap;
	unsigned char *buf = xfer_buf(w, 200000, &cap);
	long id;

	if (!buf)
		return NULL;
	while (xfer_claim(&id)) {
		struct xfer x = { 0 };
		static const char *const kinds[] = { "half-close",
			"half-close after the echo", "full close" };
		const char *kind = kinds[id % 3];
		int fd;

		x.len = 1 + rnd(&w->seed) % cap;
		x.buf = buf;
		x.chunk = 1024 + rnd(&w->seed) % 32768;
		x.halfclose = id % 3 == 0;
		x.shut_after_echo = id % 3 == 1;
		x.expect_eof = id % 3 != 2;
		x.deadline = deadline_all();
		x.idle = 60 * time_scale;
		fd = fe_connect((int)id, limit_ms(30000));
		if (fd < 0) {
			w->errors++;
			printf("feclient xfer: transfer %ld: connect: %s\n", id,
			       strerror(errno));
			continue;
		}
		w->conns++;
		if (do_xfer(fd, &x) == XFER_OK) {
			w->completed += id % 3 == 2;
			w->halfclosed += id % 3 != 2;
			w->bytes += x.len;
		} else {
			w->errors++;
			printf("feclient xfer: transfer %ld (%s of %zu bytes, local port %d): %s\n",
			       id, kind, x.len, local_port(fd), x.why);
		}
		close(fd);
	}
	free(buf);
	return NULL;
}

/*
 * xfer and fault: -c workers run -x transfers (100 by default) of @fn
 * between them; a worker's own failure fails the run, and their counts
 * are summed into @sum.
 */
static void run_transfers(void *(*fn)(void *), struct worker *sum)
{
	long n = opt_count, i;
	struct worker *ws;

	if (opt_maxserved < 1)
		opt_maxserved = 100;
	raise_nofile(n + 64);
	ws = run_workers(n, fn, deadline_all());
	join_workers(ws, n);
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < n; i++) {
		if (ws[i].err[0])
			fail("worker %ld: %s", i, ws[i].err);
		sum->completed += ws[i].completed;
		sum->halfclosed += ws[i].halfclosed;
		sum->resets += ws[i].resets;
		sum->aborts += ws[i].aborts;
		sum->errors += ws[i].errors;
		sum->bytes += ws[i].bytes;
	}
}

static void mode_xfer(void)
{
	struct worker sum;
	long half, full, bad;
	unsigned long long bytes;

	run_transfers(xfer_worker, &sum);
	half = sum.halfclosed;
	full = sum.completed;
	bad = sum.errors;
	bytes = sum.bytes;
	if (half + full + bad < opt_maxserved)
		fail("only %ld of %ld transfers ran before -t (%ld failed)",
		     half + full + bad, opt_maxserved, bad);
	if (bad)
		fail("%ld of %ld transfers failed (%ld half-close, %ld full close ok)",
		     bad, opt_maxserved, half, full);
	pass("%ld transfers: %ld half-close, %ld full close; %llu bytes echoed and verified",
	     opt_maxserved, half, full, bytes);
}

/* fault: a transfer that the server cuts is fine, a wrong byte is not. */
static void *fault_worker(void *arg)
{
	struct worker *w = arg;
	size_t cap;
	unsigned char *buf = xfer_buf(w, 100000, &cap);
	int one = 1, two = 2, three = 3;
	long id;

	if (!buf)
		return NULL;
	while (xfer_claim(&id)) {
		struct xfer x = { 0 };
		enum xfer_res r;
		int fd;

		x.len = 1 + rnd(&w->seed) % cap;
		x.buf = buf;
		x.chunk = 1 + rnd(&w->seed) % 16384;
		x.halfclose = 1;
		x.deadline = deadline_all();
		x.idle = 60 * time_scale;
		fd = fe_connect((int)id, limit_ms(30000));
		if (fd < 0) {
			/* The server resets what it cannot serve. */
			if (errno == ECONNRESET || errno == ECONNREFUSED) {
				w->resets++;
				continue;
			}
			snprintf(w->err, sizeof(w->err),
				 "transfer %ld: connect: %s", id,
				 strerror(errno));
			stop_flag = 1;
			break;
		}
		/*
		 * A server that cannot allocate may close a socket without
		 * the reset reaching us (its skb failed too): a keepalive
		 * probe then draws one from its kernel, as for any client.
		 */
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &two, sizeof(two));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof(one));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &three, sizeof(three));
		w->conns++;
		r = do_xfer(fd, &x);
		if (r == XFER_OK) {
			w->bytes += x.len;
			if (wait_fd(fd, POLLIN, limit_ms(5000)) <= 0) {
				w->halfclosed++;
			} else {
				char c;
				ssize_t k = recv(fd, &c, 1, 0);

				if (k > 0) {
					snprintf(w->err, sizeof(w->err),
						 "transfer %ld: a byte more than the %zu sent",
						 id, x.len);
					close(fd);
					stop_flag = 1;
					break;
				}
				if (k == 0)
					w->completed++;
				else
					w->halfclosed++;
			}
		} else if (r == XFER_RESET) {
			w->resets++;
		} else if (r == XFER_EOF) {
			w->aborts++;
		} else {
			snprintf(w->err, sizeof(w->err),
				 "transfer %ld of %zu bytes (local port %d): %.120s",
				 id, x.len, local_port(fd), x.why);
			close(fd);
			stop_flag = 1;
			break;
		}
		close(fd);
	}
	free(buf);
	return NULL;
}

static void mode_fault(void)
{
	struct worker sum;
	long full, nofin, resets, eofs;
	unsigned long long bytes;

	run_transfers(fault_worker, &sum);
	full = sum.completed;
	nofin = sum.halfclosed;
	resets = sum.resets;
	eofs = sum.aborts;
	bytes = sum.bytes;
	if (full + nofin + resets + eofs < opt_maxserved)
		fail("only %ld of %ld transfers ran before -t",
		     full + nofin + resets + eofs, opt_maxserved);
	if (!opt_quiet)
		printf("full %ld nofin %ld cut %ld\n", full, nofin,
		       resets + eofs);
	pass("%ld transfers: %ld echoed whole and verified (%llu bytes), %ld of them without the server's FIN; %ld cut by the server (%ld reset, %ld early EOF)",
	     opt_maxserved, full + nofin, bytes, nofin, resets + eofs, resets,
	     eofs);
}

static void mode_maxconn(void)
{
	long n = opt_count, i, served = 0, rejected = 0, hung = 0, bad = 0;
	int *fds = calloc(n, sizeof(int));
	char why[160], lastwhy[160] = "";
	double deadline = deadline_all();

	if (!fds)
		fail("out of memory");
	raise_nofile(n + 64);
	for (i = 0; i < n; i++) {
		int r;

		if (should_stop())
			fail("told to stop after %ld of %ld attempts", i, n);
		fds[i] = fe_connect(i, ms_left(deadline));
		if (fds[i] < 0) {
			/* refused or reset during the handshake: not served */
			rejected++;
			continue;
		}
		r = probe_echo(fds[i], i, limit_ms(10000), why, sizeof(why));
		if (r == 0) {
			served++;
			continue;
		}
		if (r == -2) {
			rejected++;
		} else if (strstr(why, "timed out")) {
			hung++;
			snprintf(lastwhy, sizeof(lastwhy), "%s", why);
		} else {
			bad++;
			snprintf(lastwhy, sizeof(lastwhy), "%s", why);
		}
		close(fds[i]);
		fds[i] = -1;
	}
	/* The served ones must still echo. */
	for (i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		if (probe_echo(fds[i], i + n, limit_ms(10000), why, sizeof(why)))
			fail("served connection %ld stopped echoing: %s", i, why);
	}
	printf("feclient maxconn: served %ld rejected %ld hung %ld other %ld\n",
	       served, rejected, hung, bad);
	fflush(stdout);
	touch(opt_ready);
	if (opt_until)
		hold_until(deadline);
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (hung || bad)
		fail("%ld attempts left hanging, %ld failed oddly (%s)", hung, bad,
		     lastwhy);
	if (opt_maxserved >= 0 && served > opt_maxserved)
		fail("%ld served, more than %ld", served, opt_maxserved);
	pass("served %ld rejected %ld", served, rejected);
}

static void mode_idle(void)
{
	char why[160], c;
	double t0, waited;
	int fd;
	ssize_t r;

	fd = fe_connect(0, limit_ms(20000));
	if (fd < 0)
		fail("connect: %s", strerror(errno));
	if (probe_echo(fd, 1, limit_ms(10000), why, sizeof(why)))
		fail("first echo: %s", why);
	t0 = now();
	touch(opt_ready);
	if (wait_fd(fd, POLLIN, ms_left(deadline_all())) <= 0)
		fail("still open after %.1f s", now() - t0);
	waited = now() - t0;
	r = recv(fd, &c, 1, 0);
	if (r > 0)
		fail("unexpected data after %.1f s", waited);
	if (opt_min >= 0 && waited < opt_min)
		fail("closed after %.1f s, before %.1f s", waited, opt_min);
	if (opt_max >= 0 && waited > opt_max)
		fail("closed after %.1f s, after %.1f s", waited, opt_max);
	pass("closed by the server after %.1f s idle (%s)", waited,
	     r == 0 ? "EOF" : strerror(errno));
}

static void mode_busy(void)
{
	char why[160];
	double end = now() + opt_duration;
	long k = 0;
	int fd;

	fd = fe_connect(0, limit_ms(20000));
	if (fd < 0)
		fail("connect: %s", strerror(errno));
	touch(opt_ready);
	while (now() < end) {
		if (probe_echo(fd, k, limit_ms(10000), why, sizeof(why)))
			fail("echo %ld at %.1f s: %s", k, now() - t_start, why);
		k++;
		usleep(opt_interval * 1000);
	}
	close(fd);
	pass("%ld echoes over %.1f s, never closed", k, opt_duration);
}

static void mode_readloop(void)
{
	double end = now() + opt_duration;
	long reads = 0;
	char buf[4096];

	if (!opt_file)
		fail("no -f FILE");
	touch(opt_ready);
	while (now() < end && !should_stop()) {
		int fd = open(opt_file, O_RDONLY);
		ssize_t r;

		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			fail("open %s: %s", opt_file, strerror(errno));
		do
			r = read(fd, buf, sizeof(buf));
		while (r > 0);
		if (r < 0 && errno != EIO)
			fail("read %s: %s", opt_file, strerror(errno));
		close(fd);
		reads += !r;
	}
	pass("%ld reads of %s in %.1f s", reads, opt_file, now() - t_start);
}

static void mode_listen(void)
{
	int fd, one = 1, zero = 0;

	fd = socket(hosts[0].ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		fail("socket: %s", strerror(errno));
	if (hosts[0].ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	/* as any server would: TIME_WAIT leftovers must not block us */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&hosts[0], hostlens[0]))
		fail("bind: %s", strerror(errno));
	if (listen(fd, 16))
		fail("listen: %s", strerror(errno));
	printf("feclient listen: holding port %d\n", opt_port);
	fflush(stdout);
	touch(opt_ready);
	hold_until(deadline_all());
	close(fd);
	pass("released port %d", opt_port);
}

/* send() all of @buf on non-blocking @fd with @flags, by @deadline. */
static void send_all_by(int fd, const unsigned char *buf, size_t len,
			int flags, double deadline)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, buf + done, len - done, flags | MSG_NOSIGNAL);
		if (n > 0) {
			done += n;
			continue;
		}
		if (n < 0 && errno == EAGAIN &&
		    wait_fd(fd, POLLOUT, ms_left(deadline)) > 0)
			continue;
		fail("send after %zu of %zu bytes: %s", done, len,
		     n < 0 ? strerror(errno) : "nothing sent");
	}
}

static void mode_urgent(void)
{
	size_t n = opt_n < 0 ? 3 : opt_n, len = 2 * n + 1, got;
	unsigned char *buf = malloc(len), *echo;
	uint32_t seed = opt_seed;
	double deadline = deadline_all();
	long i;
	int fd;

	if (!buf)
		fail("out of memory");
	for (i = 0; i < opt_count; i++) {
		fd = fe_connect(i, ms_left(deadline));
		if (fd < 0)
			fail("connection %ld: connect: %s", i, strerror(errno));
		fill_random(buf, len, &seed);
		send_all_by(fd, buf, n, 0, deadline);
		send_all_by(fd, buf + n, 1, MSG_OOB, deadline);
		send_all_by(fd, buf + n + 1, n, 0, deadline);
		if (shutdown(fd, SHUT_WR))
			fail("shutdown: %s", strerror(errno));
		if (fcntl(fd, F_SETFL, 0) < 0)
			fail("fcntl: %s", strerror(errno));
		echo = read_all(fd, &got);
		if (got != len || memcmp(echo, buf, len)) {
			size_t at = 0;

			while (at < got && at < len && echo[at] == buf[at])
				at++;
			fail("connection %ld: %zu of %zu bytes back, first difference at byte %zu (urgent byte at %zu)",
			     i, got, len, at, n);
		}
		free(echo);
		close(fd);
	}
	pass("%ld x %zu bytes around an urgent byte, all back in line, then EOF",
	     opt_count, 2 * n);
}

static void mode_pause(void)
{
	unsigned char *buf = malloc(opt_msg);
	uint32_t seed = opt_seed;
	struct xfer x = { 0 };
	long i;
	int fd;

	if (!buf)
		fail("out of memory");
	fd = fe_connect(0, ms_left(deadline_all()));
	if (fd < 0)
		fail("connect: %s", strerror(errno));
	for (i = 0; i < opt_count; i++) {
		fill_random(buf, opt_msg, &seed);
		x.buf = buf;
		x.len = opt_msg;
		x.chunk = opt_msg;
		x.deadline = deadline_all();
		if (do_xfer(fd, &x) != XFER_OK)
			fail("round %ld: %s", i, x.why);
		usleep(opt_interval * 1000);
	}
	close(fd);
	pass("%ld rounds of %ld bytes, %ld ms apart", opt_count, opt_msg,
	     opt_interval);
}

static void mode_refused(void)
{
	int fd = fe_connect(0, limit_ms(20000));

	if (fd >= 0)
		fail("connected; expected ECONNREFUSED");
	if (errno != ECONNREFUSED)
		fail("connect failed with %s, expected ECONNREFUSED",
		     strerror(errno));
	pass("connection refused");
}

static const struct {
	const char *name;
	void (*fn)(void);
} modes[] = {
	{ "echo", mode_echo },		{ "pipeline", mode_pipeline },
	{ "halfclose", mode_halfclose },	{ "rst", mode_rst },
	{ "hold", mode_hold },		{ "noread", mode_noread },
	{ "sparse", mode_sparse },
	{ "stream", mode_stream },	{ "flood", mode_flood },
	{ "soak", mode_soak },		{ "maxconn", mode_maxconn },
	{ "idle", mode_idle },		{ "busy", mode_busy },
	{ "readloop", mode_readloop },
	{ "listen", mode_listen },	{ "refused", mode_refused },
	{ "xfer", mode_xfer },		{ "urgent", mode_urgent },
	{ "pause", mode_pause },		{ "fault", mode_fault },
};

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: feclient MODE [-h HOST] [-p PORT] [-t SEC] "
		"[-c N] [-n N] [-m N] [-w N] [-f FILE] [-d SEC] [-i MS] "
		"[-a SEC] [-b SEC] [-x N] [-r FILE] [-u FILE] [-k FILE] [-s SEED] [-l MS] [-B ADDR] [-q] [-Z]\n"
		"modes:");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		fprintf(stderr, " %s", modes[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *hostlist = "127.0.0.1";
	struct sigaction sa = { 0 };
	size_t i;
	int opt;

	if (argc < 2 || argv[1][0] == '-')
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "h:p:t:c:n:m:w:f:d:i:a:b:x:r:u:k:s:l:B:qZ")) != -1) {
		switch (opt) {
		case 'h': hostlist = optarg; break;
		case 'p': opt_port = atoi(optarg); break;
		case 't': opt_timeout = atoi(optarg); break;
		case 'c': opt_count = atol(optarg); break;
		case 'n': opt_n = atol(optarg); break;
		case 'm': opt_msg = atol(optarg); break;
		case 'w': opt_write = atol(optarg); break;
		case 'f': opt_file = optarg; break;
		case 'd': opt_duration = atof(optarg); break;
		case 'i': opt_interval = opt_patience = atol(optarg); break;
		case 'l': opt_late = atol(optarg); break;
		case 'a': opt_min = atof(optarg); break;
		case 'b': opt_max = atof(optarg); break;
		case 'x': opt_maxserved = atol(optarg); break;
		case 'r': opt_ready = optarg; break;
		case 'u': opt_until = optarg; break;
		case 'k': opt_keep = optarg; break;
		case 's': opt_seed = strtoul(optarg, NULL, 0); break;
		case 'q': opt_quiet = 1; break;
		case 'Z': opt_zerocopy = 1; break;
		case 'B':
			if (fe_parse_addr(optarg, 0, &opt_src, &opt_srclen)) {
				fprintf(stderr, "feclient: bad address '%s'\n", optarg);
				exit(2);
			}
			break;
		default: usage();
		}
	}
	if (getenv("FE_TIME_SCALE") && atof(getenv("FE_TIME_SCALE")) > 0)
		time_scale = atof(getenv("FE_TIME_SCALE"));
	opt_timeout *= time_scale;
	if (opt_max >= 0)
		opt_max *= time_scale;
	if (opt_timeout < 2)
		opt_timeout = 2;
	if (opt_count < 1)
		opt_count = 1;
	if (opt_write < 1)
		opt_write = 1;
	if (!opt_seed)
		opt_seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	parse_hosts(hostlist);
	set_port(opt_port);

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	/* The hard limit: a little past -t, for the mode's own clean-up. */
	alarm(opt_timeout + 5);
	t_start = now();

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(mode, modes[i].name)) {
			modes[i].fn();
			return 0;
		}
	}
	usage();
	return 2;
}
