// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho: a server in every network namespace, and its settings.
 *
 * Every namespace gets, from its pernet init on (or from module load for
 * the namespaces that exist then): a server (struct fastecho_server, not
 * running unless a port is set), its /proc/net/fastecho, and sysctls under
 * net.fastecho, configured the way the stack's own settings are:
 *
 *   port            0-65535; writing another port (re)starts the server on
 *                   it, 0 stops it
 *   addr            bind address, empty for every address of both
 *                   families; read when port is written
 *   backlog         listen() backlog; read when port is written
 *   max_conns       most connections at once
 *   max_per_source  most connections from one IPv4 address or IPv6 /64
 *   idle_timeout    seconds a connection may be idle or stalled
 *
 * The initial namespace's server is the one the module parameters
 * configure: it starts at load on the parameter port, and its
 * max_conns, max_per_source and idle_timeout sysctls are the module
 * parameters themselves (one value, two files). Other namespaces start
 * with no server and with those three copied from the parameters. What
 * is global: bufsize, keepalive_*, user_timeout, zerocopy, spare_threads,
 * batch_conns (module parameters).
 *
 * Writing any of them needs CAP_NET_ADMIN in the initial user namespace:
 * a server is kernel threads, which a container's root must not be able
 * to start.
 *
 * Lifetimes. The listener and the live connections hold no reference on
 * their namespace (fastecho_net.c), so `ip netns del` of a namespace with
 * a server and live connections frees it: its pernet pre_exit stops the
 * server, which resets the connections, and its exit removes the file and
 * the sysctls. A connection that ends while its namespace lives takes a
 * reference just before its socket is released, so TCP still delivers
 * the end of the echo and the FIN, and the namespace waits for that.
 * rmmod (unregister_pernet_subsys()) runs the same pre_exit and exit in
 * every namespace. See docs/design.md, "Network namespaces".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/inet.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sysctl.h>
#include <linux/version.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "fastecho.h"

/* Long enough for any IPv6 address with a scope, and its NUL. */
#define FASTECHO_ADDR_LEN 64

#if KERNEL_VERSION(6, 11, 0) <= LINUX_VERSION_CODE
#define FASTECHO_CTL_TABLE const struct ctl_table
#else
#define FASTECHO_CTL_TABLE struct ctl_table
#endif

/**
 * struct fastecho_netns - fastecho's part of one network namespace
 * @node:    on fastecho_netns_list
 * @net:     the namespace
 * @lock:    serialises sysctl writes, start and stop
 * @srv:     the server; lives as long as the namespace does here
 * @dying:   pre_exit has run: no more starts
 * @port:    net.fastecho.port; 0 while no server runs
 * @backlog: net.fastecho.backlog
 * @addr:    net.fastecho.addr
 * @limits:  where max_conns, max_per_source and idle_timeout live: the
 *           module parameters' own struct for the initial namespace,
 *           @own for the others
 * @own:     those limits, outside the initial namespace
 * @sysctl:  the registered table
 * @table:   its entries, a copy of fastecho_netns_template per namespace
 */
struct fastecho_netns {
	struct list_head node;
	struct net *net;
	struct mutex lock; /* see above */
	struct fastecho_server *srv;
	bool dying;
	int port;
	int backlog;
	char addr[FASTECHO_ADDR_LEN];
	struct fastecho_limits *limits;
	struct fastecho_limits own;
	struct ctl_table_header *sysctl;
	struct ctl_table *table;
};

static unsigned int fastecho_netns_id __read_mostly;
static const struct fastecho_globals *fastecho_g;
/* Every struct fastecho_netns, for changes of the global parameters. */
static LIST_HEAD(fastecho_netns_list);
static DEFINE_MUTEX(fastecho_netns_list_lock);

/* The limits a server gets: its namespace's own, and the global ones. */
static void fastecho_netns_push(struct fastecho_netns *ns)
{
	struct fastecho_limits lim = {
		.max_conns = READ_ONCE(ns->limits->max_conns),
		.max_per_source = READ_ONCE(ns->limits->max_per_source),
		.idle_timeout = READ_ONCE(ns->limits->idle_timeout),
		.spare_threads = READ_ONCE(fastecho_g->limits->spare_threads),
		.batch_conns = READ_ONCE(fastecho_g->limits->batch_conns),
	};

	lockdep_assert_held(&ns->lock);
	fastecho_server_set_limits(ns->srv, &lim);
}

/*
 * The configuration to start @ns's server with: the global one, and the
 * namespace's port, address and backlog.
 */
static int fastecho_netns_config(struct fastecho_netns *ns,
				 struct fastecho_config *cfg)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->addr;
	char portstr[8];

	*cfg = fastecho_g->cfg;
	cfg->backlog = ns->backlog;
	if (!ns->addr[0]) {
		memset(&cfg->addr, 0, sizeof(cfg->addr));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(ns->port);
		cfg->any = true;
		return 0;
	}
	cfg->any = false;
	snprintf(portstr, sizeof(portstr), "%d", ns->port);
	if (inet_pton_with_scope(ns->net, AF_UNSPEC, ns->addr, portstr,
				 &cfg->addr)) {
		pr_err("invalid addr=%s: not an IPv4 or IPv6 address\n",
		       ns->addr);
		return -EINVAL;
	}
	return 0;
}

/* Start @ns's server on ns->port. Called with ns->lock. */
static int fastecho_netns_start(struct fastecho_netns *ns)
{
	struct sockaddr_storage bound;
	struct fastecho_config cfg;
	int err;

	lockdep_assert_held(&ns->lock);
	err = fastecho_netns_config(ns, &cfg);
	if (err)
		return err;
	fastecho_netns_push(ns);
	err = fastecho_server_start(ns->srv, ns->net, &cfg, &bound);
	if (err)
		return err;

	if (net_eq(ns->net, &init_net))
		pr_info("listening on %pISpc (backlog %d, max_conns %d, max_per_source %u, idle_timeout %us, bufsize %u%s)\n",
			&bound, cfg.backlog, READ_ONCE(ns->limits->max_conns),
			READ_ONCE(ns->limits->max_per_source),
			READ_ONCE(ns->limits->idle_timeout), cfg.bufsize,
			cfg.zerocopy ? ", zerocopy" : "");
	else
		pr_info("listening on %pISpc in netns %u\n", &bound,
			ns->net->ns.inum);
	return 0;
}

/* Stop @ns's server if it runs. Called with ns->lock. */
static void fastecho_netns_stop(struct fastecho_netns *ns)
{
	lockdep_assert_held(&ns->lock);
	if (!fastecho_server_running(ns->srv))
		return;
	fastecho_server_stop(ns->srv);
	if (!net_eq(ns->net, &init_net))
		pr_info("stopped the server of netns %u\n", ns->net->ns.inum);
}

/* ---- Sysctls ------------------------------------------------------------ */

enum fastecho_knob {
	FASTECHO_KNOB_PORT,
	FASTECHO_KNOB_BACKLOG,
	FASTECHO_KNOB_MAX_CONNS,
	FASTECHO_KNOB_MAX_PER_SOURCE,
	FASTECHO_KNOB_IDLE_TIMEOUT,
	FASTECHO_KNOB_ADDR,
	FASTECHO_NR_KNOBS
};

static struct fastecho_netns *fastecho_netns_of(FASTECHO_CTL_TABLE *ctl)
{
	return ctl->extra1;
}

/* Where the integer knob @knob of @ns lives. */
static int *fastecho_netns_int(struct fastecho_netns *ns,
			       enum fastecho_knob knob)
{
	switch (knob) {
	case FASTECHO_KNOB_PORT:
		return &ns->port;
	case FASTECHO_KNOB_BACKLOG:
		return &ns->backlog;
	case FASTECHO_KNOB_MAX_CONNS:
		return &ns->limits->max_conns;
	case FASTECHO_KNOB_MAX_PER_SOURCE:
		return (int *)&ns->limits->max_per_source;
	default:
		return (int *)&ns->limits->idle_timeout;
	}
}

/* The range of the integer knob @knob. */
static void fastecho_netns_range(enum fastecho_knob knob, int *min, int *max)
{
	*min = 0;
	switch (knob) {
	case FASTECHO_KNOB_PORT:
		*max = 65535;
		break;
	case FASTECHO_KNOB_BACKLOG:
		*min = 1;
		*max = FASTECHO_MAX_BACKLOG;
		break;
	case FASTECHO_KNOB_MAX_CONNS:
		*min = 1;
		*max = READ_ONCE(fastecho_g->max_conns_bound);
		break;
	case FASTECHO_KNOB_MAX_PER_SOURCE:
		*max = FASTECHO_MAX_CONNS;
		break;
	default:
		*max = FASTECHO_MAX_IDLE;
		break;
	}
}

/*
 * Apply a new port: stop the server, and start it again on the new port
 * unless it is 0. The port it already serves changes nothing (so a
 * `sysctl -p` does not reset every connection). A start that fails
 * leaves no server and port 0.
 */
static int fastecho_netns_set_port(struct fastecho_netns *ns, int port)
{
	int err;

	if (ns->dying)
		return -ENODEV;
	if (port && port == ns->port && fastecho_server_running(ns->srv))
		return 0;
	fastecho_netns_stop(ns);
	WRITE_ONCE(ns->port, port);
	if (!port)
		return 0;
	err = fastecho_netns_start(ns);
	if (err)
		WRITE_ONCE(ns->port, 0);
	return err;
}

/*
 * The handler of every integer knob: read or write a copy, check its
 * range, then store and apply it under the namespace's lock.
 */
static int fastecho_netns_sysctl_int(FASTECHO_CTL_TABLE *ctl, int write,
				     void *buffer, size_t *lenp, loff_t *ppos)
{
	struct fastecho_netns *ns = fastecho_netns_of(ctl);
	enum fastecho_knob knob = (uintptr_t)ctl->extra2;
	int *where = fastecho_netns_int(ns, knob);
	int val = READ_ONCE(*where);
	int min, max, err;
	struct ctl_table tmp = {
		.procname = ctl->procname,
		.data = &val,
		.maxlen = sizeof(val),
		.mode = ctl->mode,
		.extra1 = &min,
		.extra2 = &max,
	};

	if (write && !capable(CAP_NET_ADMIN))
		return -EPERM;
	fastecho_netns_range(knob, &min, &max);
	err = proc_dointvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (err || !write)
		return err;

	mutex_lock(&ns->lock);
	if (knob == FASTECHO_KNOB_PORT) {
		err = fastecho_netns_set_port(ns, val);
	} else {
		WRITE_ONCE(*where, val);
		fastecho_netns_push(ns);
	}
	mutex_unlock(&ns->lock);
	return err;
}

/* net.fastecho.addr: checked when the port is written, not here. */
static int fastecho_netns_sysctl_addr(FASTECHO_CTL_TABLE *ctl, int write,
				      void *buffer, size_t *lenp, loff_t *ppos)
{
	struct fastecho_netns *ns = fastecho_netns_of(ctl);
	char val[FASTECHO_ADDR_LEN];
	struct ctl_table tmp = {
		.procname = ctl->procname,
		.data = val,
		.maxlen = sizeof(val),
		.mode = ctl->mode,
	};
	int err;

	if (write && !capable(CAP_NET_ADMIN))
		return -EPERM;
	mutex_lock(&ns->lock);
	strscpy(val, ns->addr, sizeof(val));
	mutex_unlock(&ns->lock);
	err = proc_dostring(&tmp, write, buffer, lenp, ppos);
	if (err || !write)
		return err;

	mutex_lock(&ns->lock);
	strscpy(ns->addr, strim(val), sizeof(ns->addr));
	mutex_unlock(&ns->lock);
	return 0;
}

#define FASTECHO_KNOB(_name, _knob)                                     \
	{                                                               \
		.procname = _name, .maxlen = sizeof(int), .mode = 0644, \
		.proc_handler = fastecho_netns_sysctl_int,              \
		.extra2 = (void *)(_knob),                              \
	}

/* extra1 is set to the namespace's struct fastecho_netns in each copy. */
static struct ctl_table fastecho_netns_template[] = {
	FASTECHO_KNOB("port", FASTECHO_KNOB_PORT),
	FASTECHO_KNOB("backlog", FASTECHO_KNOB_BACKLOG),
	FASTECHO_KNOB("max_conns", FASTECHO_KNOB_MAX_CONNS),
	FASTECHO_KNOB("max_per_source", FASTECHO_KNOB_MAX_PER_SOURCE),
	FASTECHO_KNOB("idle_timeout", FASTECHO_KNOB_IDLE_TIMEOUT),
	{
		.procname = "addr",
		.maxlen = FASTECHO_ADDR_LEN,
		.mode = 0644,
		.proc_handler = fastecho_netns_sysctl_addr,
	},
	{}
};

static int fastecho_netns_sysctl_register(struct fastecho_netns *ns)
{
	int i;

	ns->table = kmemdup(fastecho_netns_template,
			    sizeof(fastecho_netns_template), GFP_KERNEL);
	if (!ns->table)
		return -ENOMEM;
	for (i = 0; i < FASTECHO_NR_KNOBS; i++)
		ns->table[i].extra1 = ns;
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
	ns->sysctl = register_net_sysctl_sz(ns->net, "net/fastecho", ns->table,
					    FASTECHO_NR_KNOBS);
#else
	ns->sysctl = register_net_sysctl(ns->net, "net/fastecho", ns->table);
#endif
	if (!ns->sysctl) {
		kfree(ns->table);
		return -ENOMEM;
	}
	return 0;
}

static void fastecho_netns_sysctl_unregister(struct fastecho_netns *ns)
{
	unregister_net_sysctl_table(ns->sysctl);
	kfree(ns->table);
}

/* ---- Pernet operations -------------------------------------------------- */

static int __net_init fastecho_netns_init(struct net *net)
{
	struct fastecho_netns *ns = net_generic(net, fastecho_netns_id);
	bool initial = net_eq(net, &init_net);
	int err;

	ns->net = net;
	mutex_init(&ns->lock);
	ns->backlog = fastecho_g->cfg.backlog;
	ns->limits = &ns->own;
	if (initial) {
		ns->limits = fastecho_g->limits;
		if (fastecho_g->addr)
			strscpy(ns->addr, fastecho_g->addr, sizeof(ns->addr));
	} else {
		ns->own.max_conns = READ_ONCE(fastecho_g->limits->max_conns);
		ns->own.max_per_source =
			READ_ONCE(fastecho_g->limits->max_per_source);
		ns->own.idle_timeout =
			READ_ONCE(fastecho_g->limits->idle_timeout);
	}
	ns->srv = fastecho_server_alloc();
	if (!ns->srv)
		return -ENOMEM;

	if (initial) {
		mutex_lock(&ns->lock);
		err = fastecho_netns_set_port(ns, fastecho_g->port);
		mutex_unlock(&ns->lock);
		if (err)
			goto out_free_server;
	}
	err = fastecho_stats_create(net, ns->srv);
	if (err)
		goto out_stop_server;
	err = fastecho_netns_sysctl_register(ns);
	if (err)
		goto out_remove_stats;

	mutex_lock(&fastecho_netns_list_lock);
	list_add_tail(&ns->node, &fastecho_netns_list);
	mutex_unlock(&fastecho_netns_list_lock);
	return 0;

out_remove_stats:
	fastecho_stats_remove(net);
out_stop_server:
	mutex_lock(&ns->lock);
	fastecho_netns_stop(ns);
	mutex_unlock(&ns->lock);
out_free_server:
	fastecho_server_free(ns->srv);
	return err;
}

/*
 * The namespace is going (its last reference is gone), or the module is:
 * stop the server while the namespace's devices are still there. Its
 * connections hold no reference on the namespace (a dying one gives them
 * none), so each is reset as its thread releases it.
 */
static void __net_exit fastecho_netns_pre_exit(struct net *net)
{
	struct fastecho_netns *ns = net_generic(net, fastecho_netns_id);

	mutex_lock(&ns->lock);
	ns->dying = true;
	fastecho_netns_stop(ns);
	mutex_unlock(&ns->lock);
}

static void __net_exit fastecho_netns_exit(struct net *net)
{
	struct fastecho_netns *ns = net_generic(net, fastecho_netns_id);

	mutex_lock(&fastecho_netns_list_lock);
	list_del(&ns->node);
	mutex_unlock(&fastecho_netns_list_lock);
	fastecho_netns_sysctl_unregister(ns);
	fastecho_stats_remove(net);
	if (net_eq(net, &init_net) && fastecho_g->final)
		fastecho_server_stats(ns->srv, fastecho_g->final);
	fastecho_server_free(ns->srv);
	mutex_destroy(&ns->lock);
}

static struct pernet_operations fastecho_netns_ops = {
	.init = fastecho_netns_init,
	.pre_exit = fastecho_netns_pre_exit,
	.exit = fastecho_netns_exit,
	.id = &fastecho_netns_id,
	.size = sizeof(struct fastecho_netns),
};

/**
 * fastecho_netns_register() - a server and its settings in every namespace
 * @g: the module parameters; must stay valid until
 *     fastecho_netns_unregister() returns
 *
 * Starts the initial namespace's server on @g->port.
 *
 * Return: 0, or why the initial namespace's server could not start
 * (-EADDRINUSE, -EINVAL for a bad address, ...), with nothing left behind.
 */
int fastecho_netns_register(const struct fastecho_globals *g)
{
	fastecho_g = g;
	return register_pernet_subsys(&fastecho_netns_ops);
}

/**
 * fastecho_netns_unregister() - stop every server, remove every file
 *
 * The initial namespace's final counters go to the globals' @final.
 */
void fastecho_netns_unregister(void)
{
	unregister_pernet_subsys(&fastecho_netns_ops);
}

/**
 * fastecho_netns_limits_changed() - a runtime module parameter changed
 *
 * Gives every server the new global limits, and the initial namespace's
 * server its new ones.
 */
void fastecho_netns_limits_changed(void)
{
	struct fastecho_netns *ns;

	mutex_lock(&fastecho_netns_list_lock);
	list_for_each_entry(ns, &fastecho_netns_list, node) {
		mutex_lock(&ns->lock);
		fastecho_netns_push(ns);
		mutex_unlock(&ns->lock);
	}
	mutex_unlock(&fastecho_netns_list_lock);
}
