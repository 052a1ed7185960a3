/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastecho: what fastecho_main.c (parameters, init/exit, stats file) and
 * fastecho_thread.c (listener, connection threads, registry) share.
 */
#ifndef _FASTECHO_H
#define _FASTECHO_H

#include <linux/seq_file.h>
#include <linux/socket.h>
#include <linux/types.h>

/**
 * struct fastecho_config - what the listener needs, fixed at load time
 * @addr:     address and port to bind
 * @any:      @addr is the default wildcard: fall back to IPv4 when the
 *            kernel has no IPv6
 * @backlog:  listen() backlog
 * @bufsize:  per-connection echo buffer, in bytes
 * @keepalive_idle:  seconds of silence before the first keepalive probe,
 *                   0 for no keepalive
 * @keepalive_intvl: seconds between probes
 * @keepalive_cnt:   unanswered probes that end a connection
 * @user_timeout:    seconds data may stay unacknowledged (or the peer's
 *                   window closed) before a connection ends, 0 for the
 *                   kernel's default
 * @zerocopy:        echo the received pages themselves rather than copy
 *                   them through a buffer
 */
struct fastecho_config {
	struct sockaddr_storage addr;
	bool any;
	int backlog;
	unsigned int bufsize;
	unsigned int keepalive_idle;
	unsigned int keepalive_intvl;
	unsigned int keepalive_cnt;
	unsigned int user_timeout;
	bool zerocopy;
};

/**
 * struct fastecho_stats - counters since load, as shown in the stats file
 *
 * @spare is a level, not a counter: threads waiting for a connection.
 * @bytes_dropped counts bytes received but never echoed because their
 * connection ended first (reset, timeout, error, rmmod): bytes_in is
 * always bytes_out + bytes_dropped + what live connections are echoing.
 */
struct fastecho_stats {
	u64 active;
	u64 accepted;
	u64 rejected;
	u64 idle_timeouts;
	u64 resets;
	u64 peer_timeouts;
	u64 errors;
	u64 spare;
	u64 bytes_in;
	u64 bytes_out;
	u64 bytes_dropped;
};

/* fastecho_main.c: runtime-tunable parameters */
int fastecho_max_conns(void);
unsigned int fastecho_idle_timeout(void);
unsigned int fastecho_spare_threads(void);
unsigned int fastecho_batch_conns(void);

/* fastecho_thread.c */
int fastecho_server_start(const struct fastecho_config *cfg,
			  struct sockaddr_storage *bound);
void fastecho_server_stop(void);
void fastecho_server_stats(struct fastecho_stats *st);
void fastecho_server_show_conns(struct seq_file *m);

#endif /* _FASTECHO_H */
