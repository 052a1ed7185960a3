/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastecho: live connections counted per peer source, for max_per_source.
 * The table takes no lock of its own: its user serialises every call.
 */
#ifndef _FASTECHO_SOURCE_H
#define _FASTECHO_SOURCE_H

#include <linux/hashtable.h>
#include <linux/socket.h>

#define FASTECHO_SOURCE_BITS 8

struct fastecho_source;

/**
 * struct fastecho_sources - the sources with at least one live connection
 * @table: hashed by source; empty when zeroed, so it needs no init
 */
struct fastecho_sources {
	DECLARE_HASHTABLE(table, FASTECHO_SOURCE_BITS);
};

struct fastecho_source *fastecho_source_get(struct fastecho_sources *s,
					    const struct sockaddr_storage *peer,
					    unsigned int limit);
void fastecho_source_put(struct fastecho_sources *s,
			 struct fastecho_source *src);
void fastecho_sources_clear(struct fastecho_sources *s);

#endif /* _FASTECHO_SOURCE_H */
