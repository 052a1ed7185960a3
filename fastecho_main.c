// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho: an in-kernel TCP echo server.
 *
 * This file owns the module parameters, the order of init and exit, and the
 * stats file /proc/net/fastecho. The listener and the connection threads
 * live in fastecho_thread.c, socket helpers in fastecho_net.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "fastecho.h"

#define FASTECHO_VERSION "1.0.0"
#define FASTECHO_MAX_CONNS 1048576
#define FASTECHO_MAX_BACKLOG 65535
#define FASTECHO_MIN_BUFSIZE 64
#define FASTECHO_MAX_BUFSIZE (4 << 20)
/* An idle_timeout in jiffies must fit in a long, and a day is plenty. */
#define FASTECHO_MAX_IDLE (7 * 24 * 3600)
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

static int max_conns = 1024;
static unsigned int idle_timeout;
static unsigned int spare_threads = 32;
static unsigned int batch_conns = 2;

/* Set once init has validated everything: from then on, writes are checked. */
static bool fastecho_params_checked;

/*
 * Runtime writes to max_conns, idle_timeout, spare_threads and batch_conns
 * are refused when out of range. At insmod time only the syntax is checked
 * here: fastecho_init() checks the range and says which parameter is wrong
 * and why.
 */
static int fastecho_set_max_conns(const char *val,
				  const struct kernel_param *kp)
{
	int v, err;

	err = kstrtoint(val, 0, &v);
	if (err)
		return err;
	if (READ_ONCE(fastecho_params_checked) &&
	    (v < 1 || v > FASTECHO_MAX_CONNS))
		return -EINVAL;
	WRITE_ONCE(max_conns, v);
	return 0;
}

/* The largest value each unsigned runtime-writable parameter takes. */
static unsigned int fastecho_uint_max(const unsigned int *param)
{
	if (param == &idle_timeout)
		return FASTECHO_MAX_IDLE;
	if (param == &spare_threads)
		return FASTECHO_MAX_SPARE;
	return FASTECHO_MAX_CONNS; /* batch_conns */
}

/* A write to an unsigned parameter, refused above its maximum once loaded. */
static int fastecho_set_uint(const char *val, const struct kernel_param *kp)
{
	unsigned int v, *dst = kp->arg;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err)
		return err;
	if (READ_ONCE(fastecho_params_checked) && v > fastecho_uint_max(dst))
		return -EINVAL;
	WRITE_ONCE(*dst, v);
	return 0;
}

static const struct kernel_param_ops fastecho_max_conns_ops = {
	.set = fastecho_set_max_conns,
	.get = param_get_int,
};

static const struct kernel_param_ops fastecho_uint_ops = {
	.set = fastecho_set_uint,
	.get = param_get_uint,
};

module_param_cb(max_conns, &fastecho_max_conns_ops, &max_conns, 0644);
MODULE_PARM_DESC(max_conns, "Most connections at once, 1-1048576 (int)");

module_param_cb(idle_timeout, &fastecho_uint_ops, &idle_timeout, 0644);
MODULE_PARM_DESC(idle_timeout, "Idle/stalled seconds to close, 0=off (uint)");

module_param_cb(spare_threads, &fastecho_uint_ops, &spare_threads, 0644);
MODULE_PARM_DESC(spare_threads, "Idle threads kept for new connections (uint)");

module_param_cb(batch_conns, &fastecho_uint_ops, &batch_conns, 0644);
MODULE_PARM_DESC(batch_conns, "SCHED_BATCH from this many conns, 0=off (uint)");

int fastecho_max_conns(void)
{
	return READ_ONCE(max_conns);
}

unsigned int fastecho_idle_timeout(void)
{
	return READ_ONCE(idle_timeout);
}

unsigned int fastecho_spare_threads(void)
{
	return READ_ONCE(spare_threads);
}

unsigned int fastecho_batch_conns(void)
{
	return READ_ONCE(batch_conns);
}

/**
 * fastecho_parse_params() - check every parameter, build the config
 * @cfg: filled in on success
 *
 * Return: 0, or -EINVAL after one line naming the parameter and the reason.
 */
static int fastecho_parse_params(struct fastecho_config *cfg)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->addr;
	char portstr[8];

	if (port < 1 || port > 65535) {
		pr_err("invalid port=%d: must be 1-65535\n", port);
		return -EINVAL;
	}
	if (backlog < 1 || backlog > FASTECHO_MAX_BACKLOG) {
		pr_err("invalid backlog=%d: must be 1-%d\n", backlog,
		       FASTECHO_MAX_BACKLOG);
		return -EINVAL;
	}
	if (max_conns < 1 || max_conns > FASTECHO_MAX_CONNS) {
		pr_err("invalid max_conns=%d: must be 1-%d\n", max_conns,
		       FASTECHO_MAX_CONNS);
		return -EINVAL;
	}
	if (idle_timeout > FASTECHO_MAX_IDLE) {
		pr_err("invalid idle_timeout=%u: must be 0-%d seconds\n",
		       idle_timeout, FASTECHO_MAX_IDLE);
		return -EINVAL;
	}
	if (spare_threads > FASTECHO_MAX_SPARE) {
		pr_err("invalid spare_threads=%u: must be 0-%d\n",
		       spare_threads, FASTECHO_MAX_SPARE);
		return -EINVAL;
	}
	if (batch_conns > FASTECHO_MAX_CONNS) {
		pr_err("invalid batch_conns=%u: must be 0-%d\n", batch_conns,
		       FASTECHO_MAX_CONNS);
		return -EINVAL;
	}
	if (bufsize < FASTECHO_MIN_BUFSIZE || bufsize > FASTECHO_MAX_BUFSIZE) {
		pr_err("invalid bufsize=%u: must be %d-%d bytes\n", bufsize,
		       FASTECHO_MIN_BUFSIZE, FASTECHO_MAX_BUFSIZE);
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

	if (!addr || !*addr) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		cfg->any = true;
		return 0;
	}

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (inet_pton_with_scope(&init_net, AF_UNSPEC, addr, portstr,
				 &cfg->addr)) {
		pr_err("invalid addr=%s: not an IPv4 or IPv6 address\n", addr);
		return -EINVAL;
	}
	return 0;
}

static int fastecho_stats_show(struct seq_file *m, void *v)
{
	struct fastecho_stats st;

	fastecho_server_stats(&st);
	seq_printf(m, "active %llu\n", st.active);
	seq_printf(m, "accepted %llu\n", st.accepted);
	seq_printf(m, "rejected %llu\n", st.rejected);
	seq_printf(m, "idle_timeouts %llu\n", st.idle_timeouts);
	seq_printf(m, "bytes_in %llu\n", st.bytes_in);
	seq_printf(m, "bytes_out %llu\n", st.bytes_out);
	seq_printf(m, "errors %llu\n", st.errors);
	seq_printf(m, "resets %llu\n", st.resets);
	seq_printf(m, "peer_timeouts %llu\n", st.peer_timeouts);
	seq_printf(m, "bytes_dropped %llu\n", st.bytes_dropped);
	seq_printf(m, "spare %llu\n", st.spare);
	fastecho_server_show_conns(m);
	return 0;
}

static int __init fastecho_init(void)
{
	struct sockaddr_storage bound;
	struct fastecho_config cfg;
	struct proc_dir_entry *pde;
	int err;

	err = fastecho_parse_params(&cfg);
	if (err)
		return err;

	pde = proc_create_single(KBUILD_MODNAME, 0444, init_net.proc_net,
				 fastecho_stats_show);
	if (!pde)
		return -ENOMEM;

	err = fastecho_server_start(&cfg, &bound);
	if (err)
		goto out_remove_proc;

	WRITE_ONCE(fastecho_params_checked, true);
	pr_info("listening on %pISpc (backlog %d, max_conns %d, idle_timeout %us, bufsize %u%s)\n",
		&bound, backlog, max_conns, idle_timeout, bufsize,
		zerocopy ? ", zerocopy" : "");
	return 0;

out_remove_proc:
	remove_proc_entry(KBUILD_MODNAME, init_net.proc_net);
	return err;
}

static void __exit fastecho_exit(void)
{
	struct fastecho_stats st;

	remove_proc_entry(KBUILD_MODNAME, init_net.proc_net);
	fastecho_server_stop();
	fastecho_server_stats(&st);
	pr_info("unloaded: %llu connections served, %llu bytes echoed\n",
		st.accepted, st.bytes_out);
}

module_init(fastecho_init);
module_exit(fastecho_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The fastecho developers");
MODULE_DESCRIPTION("In-kernel TCP echo server: one kthread per connection");
MODULE_VERSION(FASTECHO_VERSION);
