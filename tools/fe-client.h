/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fe-client.h: what the two clients, tests/feclient.c and
 * tools/fastecho-bench.c, share: numeric addresses, non-blocking connects
 * with or without a deadline, and enough file descriptors. User space
 * only; nothing here is shared with the module.
 */
#ifndef FE_CLIENT_H
#define FE_CLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * fe_parse_addr() - a numeric IPv4 or IPv6 address (127.0.0.1, ::1, [::1])
 * and a port into @ss and @len. Static binaries have no resolver.
 * Returns 0, or -1 when @host is not such an address.
 */
static inline int fe_parse_addr(const char *host, int port,
				struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	char h[INET6_ADDRSTRLEN + 2];
	size_t hl = strlen(host);

	if (hl >= sizeof(h))
		return -1;
	memcpy(h, host, hl + 1);
	if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		memmove(h, h + 1, hl - 1);
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

/*
 * fe_connect_from() - a non-blocking TCP_NODELAY socket with its connect
 * to @ss under way, bound first to @src (any port) unless @src is NULL.
 * Returns the fd, or -1 with errno.
 */
static inline int fe_connect_from(const struct sockaddr_storage *ss,
				  socklen_t len,
				  const struct sockaddr_storage *src,
				  socklen_t srclen)
{
	int one = 1, fd, err;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((src && bind(fd, (const struct sockaddr *)src, srclen) < 0) ||
	    (connect(fd, (const struct sockaddr *)ss, len) < 0 &&
	     errno != EINPROGRESS)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static inline int fe_connect_start(const struct sockaddr_storage *ss,
				   socklen_t len)
{
	return fe_connect_from(ss, len, NULL, 0);
}

/* fe_connect_result() - how a started connect ended: 0, or -1 with errno. */
static inline int fe_connect_result(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * fe_connect_wait_from() - connect to @ss from @src (NULL: any) within @ms
 * milliseconds. Returns a non-blocking fd, or -1 with errno (ETIMEDOUT
 * when @ms passed).
 */
static inline int fe_connect_wait_from(const struct sockaddr_storage *ss,
				       socklen_t len,
				       const struct sockaddr_storage *src,
				       socklen_t srclen, int ms)
{
	struct pollfd pfd = { .events = POLLOUT };
	int n, err;

	pfd.fd = fe_connect_from(ss, len, src, srclen);
	if (pfd.fd < 0)
		return -1;
	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		errno = ETIMEDOUT;
	if (n <= 0 || fe_connect_result(pfd.fd) < 0) {
		err = errno;
		close(pfd.fd);
		errno = err;
		return -1;
	}
	return pfd.fd;
}

static inline int fe_connect_wait(const struct sockaddr_storage *ss,
				  socklen_t len, int ms)
{
	return fe_connect_wait_from(ss, len, NULL, 0, ms);
}

/*
 * fe_raise_nofile() - at least @want open files, raising the hard limit
 * too where we may (root); else as many as the hard limit allows.
 * Returns the soft limit in force afterwards.
 */
static inline long fe_raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if ((long)rl.rlim_cur >= want)
		return (long)rl.rlim_cur;
	rl.rlim_cur = want;
	if ((long)rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return (long)rl.rlim_cur;
}

#endif /* FE_CLIENT_H */
