/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastecho: what the module's files share. Calls go one way only:
 * fastecho_main.c (parameters, init and exit) calls fastecho_netns.c (a
 * server, its sysctls and its stats file in every network namespace),
 * which calls fastecho_stats.c (the stats file) and fastecho_thread.c
 * (the listener and the connection threads); fastecho_stats.c calls
 * fastecho_thread.c; fastecho_thread.c
 * calls fastecho_source.c (connections per peer source) and
 * fastecho_net.c (sockets), which call nothing of ours, and fires the
 * trace events of fastecho_trace.h.
 */
#ifndef _FASTECHO_H
#define _FASTECHO_H

#include <linux/socket.h>
#include <linux/types.h>

#define FASTECHO_MAX_CONNS 1048576
#define FASTECHO_MAX_BACKLOG 65535
/* An idle_timeout in jiffies must fit in a long, and a day is plenty. */
#define FASTECHO_MAX_IDLE (7 * 24 * 3600)

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
 * @listening and @bound say whether the server listens now, and where.
 * @spare is a level, not a counter: threads waiting for a connection.
 * @bytes_dropped counts bytes received but never echoed because their
 * connection ended first (reset, timeout, error, rmmod): bytes_in is
 * always bytes_out + bytes_dropped + what live connections are echoing.
 * @bytes_copied counts the bytes of bytes_in that the zero-copy path
 * (zerocopy=1) could not send back by page reference and copied: an skb's
 * linear head, or a page sendpage_ok() refuses. Always 0 with zerocopy=0.
 * @rejected counts connections reset over max_conns, @rejected_source
 * those reset over max_per_source. @idle_timeouts counts connections
 * closed because nothing came for idle_timeout, @send_timeouts those
 * closed because the peer took nothing of the echo for as long. @trims
 * counts the times a connection gave back its big buffer after a quiet
 * second (at most one per FASTECHO_TRIM_GAP per connection).
 */
struct fastecho_stats {
	bool listening;
	struct sockaddr_storage bound;
	u64 active;
	u64 accepted;
	u64 rejected;
	u64 rejected_source;
	u64 idle_timeouts;
	u64 send_timeouts;
	u64 resets;
	u64 peer_timeouts;
	u64 errors;
	u64 trims;
	u64 spare;
	u64 bytes_in;
	u64 bytes_out;
	u64 bytes_dropped;
	u64 bytes_copied;
};

/**
 * struct fastecho_limits - what may change while the module is loaded
 * @max_conns:     most connections served at once; more are reset
 * @max_per_source: most connections served at once from one source (an
 *                 IPv4 address or an IPv6 /64); more are reset; 0 for no
 *                 limit
 * @idle_timeout:  seconds a connection may be idle or stalled, 0 for no
 *                 limit; applies to connections accepted from then on
 * @spare_threads: most threads kept waiting for the next connection
 * @batch_conns:   busy connections' threads run SCHED_BATCH while at least
 *                 this many connections are open; 0 for never
 */
struct fastecho_limits {
	int max_conns;
	unsigned int max_per_source;
	unsigned int idle_timeout;
	unsigned int spare_threads;
	unsigned int batch_conns;
};

/**
 * struct fastecho_globals - the module parameters, as fastecho_netns.c
 * reads them
 * @cfg:     every server's configuration, but for its address, port and
 *           backlog (@cfg.backlog is where a namespace's starts)
 * @port:    the initial namespace's port, from insmod
 * @addr:    the initial namespace's address, from insmod, or NULL
 * @limits:  the runtime parameters; max_conns, max_per_source and
 *           idle_timeout are the initial namespace's (and where the
 *           others' start), spare_threads and batch_conns every server's
 * @max_conns_bound: the most max_conns this host can give a server
 * @final:   the initial namespace's counters, filled in when it stops
 */
struct fastecho_globals {
	struct fastecho_config cfg;
	int port;
	const char *addr;
	struct fastecho_limits *limits;
	int max_conns_bound;
	struct fastecho_stats *final;
};

/**
 * struct fastecho_conn_info - one live connection, as the stats file shows it
 * @id:        connection number
 * @peer:      the client's address
 * @bytes_in:  bytes received
 * @bytes_out: bytes sent back
 * @age:       seconds since accept
 * @pid:       the connection thread
 */
struct fastecho_conn_info {
	unsigned long id;
	struct sockaddr_storage peer;
	u64 bytes_in;
	u64 bytes_out;
	unsigned long age;
	pid_t pid;
};

struct fastecho_server;
struct net;

/* fastecho_netns.c: a server and its settings in every network namespace */
int fastecho_netns_register(const struct fastecho_globals *g);
void fastecho_netns_unregister(void);
void fastecho_netns_limits_changed(void);

/* fastecho_stats.c: /proc/net/fastecho, in each namespace */
int fastecho_stats_create(struct net *net, struct fastecho_server *srv);
void fastecho_stats_remove(struct net *net);

/* fastecho_thread.c: the listener and the connection threads */
struct fastecho_server *fastecho_server_alloc(void);
void fastecho_server_free(struct fastecho_server *srv);
bool fastecho_server_running(struct fastecho_server *srv);
int fastecho_server_start(struct fastecho_server *srv, struct net *net,
			  const struct fastecho_config *cfg,
			  struct sockaddr_storage *bound);
void fastecho_server_stop(struct fastecho_server *srv);
void fastecho_server_set_limits(struct fastecho_server *srv,
				const struct fastecho_limits *lim);
void fastecho_server_stats(struct fastecho_server *srv,
			   struct fastecho_stats *st);
bool fastecho_server_conn_info(struct fastecho_server *srv, unsigned long id,
			       struct fastecho_conn_info *info);

#endif /* _FASTECHO_H */
