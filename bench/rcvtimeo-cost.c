// SPDX-License-Identifier: GPL-2.0
/*
 * rcvtimeo-cost: what a receive timeout adds to a blocking receive that
 * waits. A 64-byte ping-pong over TCP loopback between two processes, the
 * echo side in blocking recv() with SO_RCVTIMEO of T seconds (0: none,
 * sk_wait_data() then sleeps without a timer), the other side sending
 * and waiting in blocking recv() too. Prints guest ns per round trip;
 * on the instruction clock (scripts/vm.sh --icount, one vCPU) that is
 * instructions per round trip, and the difference between T=0 and T>0 is
 * the timer that schedule_timeout() arms and deletes on every wait.
 *   rcvtimeo-cost PORT ROUNDS T
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void full(int fd, char *b, int n, int rd)
{
	int d = 0, r;

	while (d < n) {
		r = rd ? recv(fd, b + d, n - d, 0) : send(fd, b + d, n - d, 0);
		if (r <= 0)
			exit(1);
		d += r;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int port, rounds, t, l, s, c, one = 1, i;
	struct timespec t0, t1;
	char b[64] = { 0 };
	pid_t p;

	if (argc != 4)
		return 2;
	port = atoi(argv[1]);
	rounds = atoi(argv[2]);
	t = atoi(argv[3]);
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (void *)&a, sizeof(a)) || listen(l, 1))
		return 1;
	p = fork();
	if (!p) {
		struct timeval tv = { .tv_sec = t };

		s = accept(l, NULL, NULL);
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (t)
			setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		for (;;) {
			int r = recv(s, b, sizeof(b), 0);

			if (r <= 0)
				_exit(0);
			full(s, b, r, 0);
		}
	}
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (void *)&a, sizeof(a)))
		return 1;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (i = 0; i < 1000; i++) {	/* warm-up */
		full(c, b, sizeof(b), 0);
		full(c, b, sizeof(b), 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < rounds; i++) {
		full(c, b, sizeof(b), 0);
		full(c, b, sizeof(b), 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(c);
	waitpid(p, NULL, 0);
	printf("RCVTIMEO t=%d rounds=%d ns_per_round=%.1f\n", t, rounds,
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / rounds);
	return 0;
}
