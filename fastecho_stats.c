// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho: the stats file, /proc/net/fastecho.
 *
 * Where the server listens ("listen none" when it does not) and the
 * counters first, then one row per live connection, in id order. Each
 * row is copied out of the server on its own (fastecho_server_conn_info())
 * and printed from the copy, so a reader never holds a lock that accept or
 * close wait for, and never while it prints. The file position is the id
 * to look for next: a read that resumes where the last one stopped finds
 * its place with one lookup, and prints nothing twice.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/net_namespace.h>

#include "fastecho.h"

/* The server whose file this is. */
static struct fastecho_server *fastecho_stats_server(struct seq_file *m)
{
	return pde_data(file_inode(m->file));
}

/* Position 0 is the counters; position N the first connection from id N. */
static void *fastecho_stats_find(struct seq_file *m, loff_t *pos)
{
	struct fastecho_conn_info *info = m->private;

	if (!fastecho_server_conn_info(fastecho_stats_server(m), *pos, info))
		return NULL;
	*pos = info->id;
	return info;
}

static void *fastecho_stats_start(struct seq_file *m, loff_t *pos)
{
	if (!*pos)
		return SEQ_START_TOKEN;
	return fastecho_stats_find(m, pos);
}

static void *fastecho_stats_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct fastecho_conn_info *info = v;

	*pos = v == SEQ_START_TOKEN ? 1 : info->id + 1;
	return fastecho_stats_find(m, pos);
}

static void fastecho_stats_stop(struct seq_file *m, void *v)
{
}

static void fastecho_stats_show_counters(struct seq_file *m)
{
	struct fastecho_stats st;

	fastecho_server_stats(fastecho_stats_server(m), &st);
	if (st.listening)
		seq_printf(m, "listen %pISpc\n", &st.bound);
	else
		seq_puts(m, "listen none\n");
	seq_printf(m, "active %llu\n", st.active);
	seq_printf(m, "accepted %llu\n", st.accepted);
	seq_printf(m, "rejected %llu\n", st.rejected);
	seq_printf(m, "rejected_source %llu\n", st.rejected_source);
	seq_printf(m, "idle_timeouts %llu\n", st.idle_timeouts);
	seq_printf(m, "send_timeouts %llu\n", st.send_timeouts);
	seq_printf(m, "bytes_in %llu\n", st.bytes_in);
	seq_printf(m, "bytes_out %llu\n", st.bytes_out);
	seq_printf(m, "errors %llu\n", st.errors);
	seq_printf(m, "resets %llu\n", st.resets);
	seq_printf(m, "peer_timeouts %llu\n", st.peer_timeouts);
	seq_printf(m, "bytes_dropped %llu\n", st.bytes_dropped);
	seq_printf(m, "bytes_copied %llu\n", st.bytes_copied);
	seq_printf(m, "trims %llu\n", st.trims);
	seq_printf(m, "spare %llu\n", st.spare);
	seq_printf(m, "%5s %-47s %16s %16s %7s %7s\n", "id", "peer", "bytes_in",
		   "bytes_out", "age_s", "pid");
}

/*
 * The peer is formatted on its own and then padded as a string: a field
 * width on %pISpc itself is applied to the port inside vsprintf's small
 * address buffer, and overruns it.
 */
static int fastecho_stats_show(struct seq_file *m, void *v)
{
	struct fastecho_conn_info *info = v;
	char peer[64];

	if (v == SEQ_START_TOKEN) {
		fastecho_stats_show_counters(m);
		return 0;
	}
	snprintf(peer, sizeof(peer), "%pISpc", &info->peer);
	seq_printf(m, "%5lu %-47s %16llu %16llu %7lu %7d\n", info->id, peer,
		   info->bytes_in, info->bytes_out, info->age, info->pid);
	return 0;
}

static const struct seq_operations fastecho_stats_ops = {
	.start = fastecho_stats_start,
	.next = fastecho_stats_next,
	.stop = fastecho_stats_stop,
	.show = fastecho_stats_show,
};

/**
 * fastecho_stats_create() - make /proc/net/fastecho appear in @net
 * @net: the namespace
 * @srv: its server, running or not; it must outlive the file
 *
 * A reader may come at once. The file takes no reference on @net: it is
 * removed in the namespace's pernet exit, before @net goes.
 *
 * Return: 0 or -ENOMEM.
 */
int fastecho_stats_create(struct net *net, struct fastecho_server *srv)
{
	if (!proc_create_seq_private(KBUILD_MODNAME, 0444, net->proc_net,
				     &fastecho_stats_ops,
				     sizeof(struct fastecho_conn_info), srv))
		return -ENOMEM;
	return 0;
}

/**
 * fastecho_stats_remove() - remove /proc/net/fastecho from @net
 * @net: the namespace
 *
 * Returns once no reader is inside the file's operations: the server may
 * be freed after it.
 */
void fastecho_stats_remove(struct net *net)
{
	remove_proc_entry(KBUILD_MODNAME, net->proc_net);
}
