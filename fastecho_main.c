// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho: an in-kernel TCP echo server.
 *
 * This file owns the module parameters and the order of init and exit. It
 * checks every parameter and tells fastecho_netns.c when a runtime one
 * changes (fastecho_netns_limits_changed()), which never calls back. The
 * server of each network namespace, its sysctls and its stats file are in
 * fastecho_netns.c; the parameters configure the initial namespace's
 * server, and give every other namespace's its global settings. The
 * stats file is in fastecho_stats.c, the listener and the connection
 * threads in fastecho_thread.c, socket helpers in fastecho_net.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/threads.h>
#include <net/net_namespace.h>

#include "fastecho.h"

#define FASTECHO_VERSION "1.0.0"
#define FASTECHO_MIN_BUFSIZE 64
#define FASTECHO_MAX_BUFSIZE (4 << 20)
#define FASTECHO_MAX_SPARE 4096
/* TCP's own limits for TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT. */
#define FASTECHO_MAX_KEEPIDLE 32767
#define FASTECHO_MAX_KEEPCNT 127

static int port = 12345;
module_param(port, int, 0444);
MODULE_PARM_DESC(port, "TCP port to listen on, 1-65535");

static char *addr;
module_param(addr, charp, 0444);
MODULE_PARM_DESC(addr, "Bind address, IPv4 or IPv6 (default: all, both)");

static int backlog = 1024;
module_param(backlog, int, 0444);
MODULE_PARM_DESC(backlog, "listen() backlog, 1-65535");

static unsigned int bufsize = 16384;
module_param(bufsize, uint, 0444);
MODULE_PARM_DESC(bufsize, "Echo buffer per connection, 64-4194304 bytes");

static unsigned int keepalive_idle = 60;
module_param(keepalive_idle, uint, 0444);
MODULE_PARM_DESC(keepalive_idle,
		 "Seconds quiet before keepalive probes, 0=no keepalive (60)");

static unsigned int keepalive_intvl = 10;
module_param(keepalive_intvl, uint, 0444);
MODULE_PARM_DESC(keepalive_intvl, "Seconds between keepalive probes (10)");

static unsigned int keepalive_cnt = 6;
module_param(keepalive_cnt, uint, 0444);
MODULE_PARM_DESC(keepalive_cnt, "Unanswered probes that end a connection (6)");

static unsigned int user_timeout = 120;
module_param(user_timeout, uint, 0444);
MODULE_PARM_DESC(user_timeout,
		 "Seconds unacked or window shut to close, 0=TCP's (120)");

static bool zerocopy;
module_param(zerocopy, bool, 0444);
MODULE_PARM_DESC(zerocopy,
		 "Echo the received pages, no copy through a buffer (0)");

static struct fastecho_limits fastecho_limits = {
	.max_conns = 1024,
	.max_per_source = 64,
	.idle_timeout = 300,
	.spare_threads = 32,
	.batch_conns = 2,
};

/* The initial namespace's server's counters, once it has stopped. */
static struct fastecho_stats fastecho_final;

static struct fastecho_globals fastecho_globals = {
	.limits = &fastecho_limits,
	.final = &fastecho_final,
};

/*
 * What a connection costs besides its kernel stack, measured: make bench's
 * idle table (bench/results.md) has 10 000 idle connections on 6.1 at
 * 39 565 B of Slab+KernelStack and a 40 740 B MemFree drop each (both
 * ends of the connection counted), of which 16 KiB is the stack: the rest,
 * task_struct, signal structures, two sockets and struct fastecho_conn,
 * is under 24 KiB. A busy connection adds its bufsize buffer and the
 * page TCP keeps for the thread's sends (up to 32 KiB). A spare thread
 * has the stack, the rest and the send page of its last connection, and
 * no socket.
 */
#define FASTECHO_CONN_BASE (24 << 10)
#define FASTECHO_CONN_FRAG (32 << 10)

/**
 * fastecho_host_max_conns() - the most connections this host can give
 * @bufsize: the echo buffer each busy connection holds
 * @spare:   spare threads kept besides the connections
 *
 * Every connection is a task with a kernel stack, and a busy one holds a
 * buffer of @bufsize bytes and a send page. The kernel's pid_max and
 * threads-max are not visible to modules, so the bound is taken from
 * their defaults: threads-max defaults to a task per eight kernel stacks'
 * worth of memory, and pid_max to PID_MAX_DEFAULT on small machines.
 * Connections and spare threads together take at most 3/4 of each, and
 * at most half the memory, every connection busy (FASTECHO_CONN_BASE).
 *
 * Return: at least 1, at most FASTECHO_MAX_CONNS.
 */
static int fastecho_host_max_conns(unsigned int bufsize, unsigned int spare)
{
	u64 ram = (u64)totalram_pages() << PAGE_SHIFT;
	u64 thread = (u64)THREAD_SIZE + FASTECHO_CONN_BASE;
	u64 idle = thread + FASTECHO_CONN_FRAG;
	u64 tasks = div64_u64(ram, 8 * (u64)THREAD_SIZE) * 3 / 4;
	u64 pids = (u64)PID_MAX_DEFAULT * 3 / 4;
	u64 mem = ram / 2;
	u64 n;

	if (tasks <= spare || pids <= spare || mem <= spare * idle)
		return 1;
	n = min3(tasks - spare, pids - spare,
		 div64_u64(mem - spare * idle,
			   thread + FASTECHO_CONN_FRAG + bufsize));
	return clamp_t(u64, n, 1, FASTECHO_MAX_CONNS);
}

/*
 * Runtime writes and insmod's own values alike are checked here, at any
 * time: the parameter files exist before fastecho_init() runs. A value
 * taken is pushed to the servers at once. The kernel serialises every
 * parameter write (kernel_param_lock()), so max_conns and spare_threads
 * are checked against each other's value in force. The bound on
 * max_conns is kept for the sysctls of every namespace too.
 */
static void fastecho_update_bound(void)
{
	unsigned int spare = READ_ONCE(fastecho_limits.spare_threads);

	WRITE_ONCE(fastecho_globals.max_conns_bound,
		   fastecho_host_max_conns(READ_ONCE(bufsize), spare));
}

static int fastecho_set_max_conns(const char *val,
				  const struct kernel_param *kp)
{
	int v, err;

	err = kstrtoint(val, 0, &v);
	if (err)
		return err;
	if (v < 1 || v > fastecho_host_max_conns(READ_ONCE(bufsize),
						 fastecho_limits.spare_threads))
		return -EINVAL;
	WRITE_ONCE(fastecho_limits.max_conns, v);
	fastecho_netns_limits_changed();
	return 0;
}

static int fastecho_set_spare(const char *val, const struct kernel_param *kp)
{
	unsigned int v;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err)
		return err;
	if (v > FASTECHO_MAX_SPARE ||
	    fastecho_limits.max_conns >
		    fastecho_host_max_conns(READ_ONCE(bufsize), v))
		return -EINVAL;
	WRITE_ONCE(fastecho_limits.spare_threads, v);
	fastecho_update_bound();
	fastecho_netns_limits_changed();
	return 0;
}

/* The largest value each unsigned runtime-writable parameter takes. */
static unsigned int fastecho_uint_max(const unsigned int *param)
{
	if (param == &fastecho_limits.idle_timeout)
		return FASTECHO_MAX_IDLE;
	return FASTECHO_MAX_CONNS; /* max_per_source, batch_conns */
}

static int fastecho_set_uint(const char *val, const struct kernel_param *kp)
{
	int err;

	err = param_set_uint_minmax(val, kp, 0, fastecho_uint_max(kp->arg));
	if (err)
		return err;
	fastecho_netns_limits_changed();
	return 0;
}

static const struct kernel_param_ops fastecho_max_conns_ops = {
	.set = fastecho_set_max_conns,
	.get = param_get_int,
};

static const struct kernel_param_ops fastecho_spare_ops = {
	.set = fastecho_set_spare,
	.get = param_get_uint,
};

static const struct kernel_param_ops fastecho_uint_ops = {
	.set = fastecho_set_uint,
	.get = param_get_uint,
};

module_param_cb(max_conns, &fastecho_max_conns_ops, &fastecho_limits.max_conns,
		0644);
MODULE_PARM_DESC(max_conns,
		 "Most connections at once, as tasks/memory allow (int)");

module_param_cb(max_per_source, &fastecho_uint_ops,
		&fastecho_limits.max_per_source, 0644);
MODULE_PARM_DESC(max_per_source,
		 "Most conns from one IPv4 address or IPv6 /64, 0=any (64)");

module_param_cb(idle_timeout, &fastecho_uint_ops, &fastecho_limits.idle_timeout,
		0644);
MODULE_PARM_DESC(idle_timeout, "Idle/stalled seconds to close, 0=off (300)");

module_param_cb(spare_threads, &fastecho_spare_ops,
		&fastecho_limits.spare_threads, 0644);
MODULE_PARM_DESC(spare_threads,
		 "Idle threads kept for new connections, 0-4096 (uint)");

module_param_cb(batch_conns, &fastecho_uint_ops, &fastecho_limits.batch_conns,
		0644);
MODULE_PARM_DESC(batch_conns, "SCHED_BATCH from this many conns, 0=off (uint)");

/**
 * fastecho_parse_params() - check every parameter, build the config
 * @cfg: filled in on success, but for the address: the port, address and
 *       backlog are each namespace's own (fastecho_netns.c checks addr)
 *
 * Return: 0, or -EINVAL after one line naming the parameter and the reason.
 */
static int fastecho_parse_params(struct fastecho_config *cfg)
{
	unsigned int spare;
	int max;

	if (port < 1 || port > 65535) {
		pr_err("invalid port=%d: must be 1-65535\n", port);
		return -EINVAL;
	}
	if (backlog < 1 || backlog > FASTECHO_MAX_BACKLOG) {
		pr_err("invalid backlog=%d: must be 1-%d\n", backlog,
		       FASTECHO_MAX_BACKLOG);
		return -EINVAL;
	}
	if (bufsize < FASTECHO_MIN_BUFSIZE || bufsize > FASTECHO_MAX_BUFSIZE) {
		pr_err("invalid bufsize=%u: must be %d-%d bytes\n", bufsize,
		       FASTECHO_MIN_BUFSIZE, FASTECHO_MAX_BUFSIZE);
		return -EINVAL;
	}
	/* max_conns was checked against the default bufsize, if it came first. */
	spare = READ_ONCE(fastecho_limits.spare_threads);
	max = fastecho_host_max_conns(bufsize, spare);
	if (READ_ONCE(fastecho_limits.max_conns) > max) {
		pr_err("invalid max_conns=%d: this host can give at most %d with bufsize=%u spare_threads=%u\n",
		       READ_ONCE(fastecho_limits.max_conns), max, bufsize,
		       spare);
		return -EINVAL;
	}
	if (keepalive_idle > FASTECHO_MAX_KEEPIDLE) {
		pr_err("invalid keepalive_idle=%u: must be 0-%d seconds\n",
		       keepalive_idle, FASTECHO_MAX_KEEPIDLE);
		return -EINVAL;
	}
	if (keepalive_intvl < 1 || keepalive_intvl > FASTECHO_MAX_KEEPIDLE) {
		pr_err("invalid keepalive_intvl=%u: must be 1-%d seconds\n",
		       keepalive_intvl, FASTECHO_MAX_KEEPIDLE);
		return -EINVAL;
	}
	if (keepalive_cnt < 1 || keepalive_cnt > FASTECHO_MAX_KEEPCNT) {
		pr_err("invalid keepalive_cnt=%u: must be 1-%d\n",
		       keepalive_cnt, FASTECHO_MAX_KEEPCNT);
		return -EINVAL;
	}
	if (user_timeout > FASTECHO_MAX_IDLE) {
		pr_err("invalid user_timeout=%u: must be 0-%d seconds\n",
		       user_timeout, FASTECHO_MAX_IDLE);
		return -EINVAL;
	}

	memset(cfg, 0, sizeof(*cfg));
	cfg->backlog = backlog;
	cfg->bufsize = bufsize;
	cfg->keepalive_idle = keepalive_idle;
	cfg->keepalive_intvl = keepalive_intvl;
	cfg->keepalive_cnt = keepalive_cnt;
	cfg->user_timeout = user_timeout;
	cfg->zerocopy = zerocopy;
	return 0;
}

/*
 * Init: check the parameters, then give every network namespace its
 * server, sysctls and stats file; the initial namespace's server starts
 * on the port given. Exit stops them all.
 */
static int __init fastecho_init(void)
{
	int err;

	err = fastecho_parse_params(&fastecho_globals.cfg);
	if (err)
		return err;
	fastecho_globals.port = port;
	fastecho_globals.addr = addr;
	fastecho_update_bound();
	return fastecho_netns_register(&fastecho_globals);
}

static void __exit fastecho_exit(void)
{
	fastecho_netns_unregister();
	pr_info("unloaded: %llu connections served, %llu bytes echoed (%llu reset by peers, %llu errors)\n",
		fastecho_final.accepted, fastecho_final.bytes_out,
		fastecho_final.resets, fastecho_final.errors);
}

module_init(fastecho_init);
module_exit(fastecho_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The fastecho developers");
MODULE_DESCRIPTION("In-kernel TCP echo server: one kthread per connection");
MODULE_VERSION(FASTECHO_VERSION);
