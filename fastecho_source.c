// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho: live connections counted per peer source, for max_per_source.
 *
 * A source is what one client host usually owns: an IPv4 address, or the
 * /64 prefix of an IPv6 address (an IPv6 host picks addresses from its
 * /64 at will, so counting whole addresses would limit nothing). An IPv4
 * peer on the dual-stack listener arrives here as plain IPv4
 * (fastecho_net_peer() unmaps it). Entries exist only while their source
 * has a live connection, so the table is never larger than max_conns.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "fastecho_source.h"

/**
 * struct fastecho_source - one source and its live connections
 * @node:   in fastecho_sources.table
 * @family: AF_INET, AF_INET6, or 0 for a peer whose address is unknown
 * @prefix: the IPv4 address, or the first 64 bits of the IPv6 address
 * @count:  live connections from this source
 */
struct fastecho_source {
	struct hlist_node node;
	sa_family_t family;
	u64 prefix;
	unsigned int count;
};

static u64 fastecho_source_prefix(const struct sockaddr_storage *peer)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)peer;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)peer;
	u64 prefix = 0;

	if (peer->ss_family == AF_INET)
		prefix = (__force u32)sin->sin_addr.s_addr;
	else if (peer->ss_family == AF_INET6)
		memcpy(&prefix, &sin6->sin6_addr, sizeof(prefix));
	return prefix;
}

/**
 * fastecho_source_get() - count one more connection from @peer
 * @s:     the table
 * @peer:  the connection's peer address
 * @limit: most live connections one source may have; 0 for no limit
 *
 * Return: the source, to be given back with fastecho_source_put() when
 * the connection ends; ERR_PTR(-EBUSY) when the source already has @limit
 * connections, ERR_PTR(-ENOMEM) when a new source cannot be recorded.
 */
struct fastecho_source *fastecho_source_get(struct fastecho_sources *s,
					    const struct sockaddr_storage *peer,
					    unsigned int limit)
{
	sa_family_t family = peer->ss_family;
	u64 prefix = fastecho_source_prefix(peer);
	struct fastecho_source *src;

	hash_for_each_possible(s->table, src, node, prefix ^ family) {
		if (src->family != family || src->prefix != prefix)
			continue;
		if (limit && src->count >= limit)
			return ERR_PTR(-EBUSY);
		src->count++;
		return src;
	}

	src = kmalloc(sizeof(*src), GFP_KERNEL);
	if (!src)
		return ERR_PTR(-ENOMEM);
	src->family = family;
	src->prefix = prefix;
	src->count = 1;
	hash_add(s->table, &src->node, prefix ^ family);
	return src;
}

/**
 * fastecho_source_put() - one connection from @src has ended
 * @s:   the table
 * @src: what fastecho_source_get() returned for it
 */
void fastecho_source_put(struct fastecho_sources *s,
			 struct fastecho_source *src)
{
	if (--src->count)
		return;
	hash_del(&src->node);
	kfree(src);
}

/**
 * fastecho_sources_clear() - forget every source, at teardown
 * @s: the table; empty afterwards
 */
void fastecho_sources_clear(struct fastecho_sources *s)
{
	struct fastecho_source *src;
	struct hlist_node *tmp;
	int bkt;

	hash_for_each_safe(s->table, bkt, tmp, src, node) {
		hash_del(&src->node);
		kfree(src);
	}
}
