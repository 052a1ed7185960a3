/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastecho: kernel socket helpers. They know nothing of threads or module
 * parameters. Kernel-version differences in the socket API live here.
 */
#ifndef _FASTECHO_NET_H
#define _FASTECHO_NET_H

#include <linux/bvec.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/types.h>

/**
 * struct fastecho_net_opts - how the listener, and so every connection
 * accepted from it, is tuned
 * @keepidle:     seconds of silence before the first keepalive probe;
 *                0 turns keepalive off
 * @keepintvl:    seconds between keepalive probes
 * @keepcnt:      unanswered probes that end the connection
 * @user_timeout: seconds sent data may stay unacknowledged, or the peer's
 *                window closed, before the connection ends (TCP_USER_TIMEOUT);
 *                0 leaves it to the kernel (tcp_retries2)
 */
struct fastecho_net_opts {
	unsigned int keepidle;
	unsigned int keepintvl;
	unsigned int keepcnt;
	unsigned int user_timeout;
};

/* Most page runs one zero-copy round holds */
#define FASTECHO_NET_ZC_VECS 32

/**
 * struct fastecho_net_zc - received data held as page references
 * @nr:  runs in use in @vec
 * @len: bytes held, the sum of the runs' lengths
 * @copied: of those, bytes that had to be copied (a linear head, or a
 *       page sendpage_ok() refuses) rather than taken by reference
 * @tail_page: the page of the last run taken, from round to round; only
 *       compared, never dereferenced
 * @tail_end: where in @tail_page that run ended
 * @queue: the receive queue being read, for a look at the next skb
 * @vec: each run is a page, an offset into it and a length; one page
 *       reference is held per run
 *
 * Set up once by fastecho_net_zc_init(), filled by fastecho_net_zc_recv(),
 * emptied by fastecho_net_zc_send(). Between the two nothing else may
 * touch it.
 */
struct fastecho_net_zc {
	unsigned int nr;
	size_t len;
	size_t copied;
	struct page *tail_page;
	unsigned int tail_end;
	const struct sk_buff_head *queue;
	struct bio_vec vec[FASTECHO_NET_ZC_VECS];
};

/* Ready @zc for a connection's first fastecho_net_zc_recv(). */
static inline void fastecho_net_zc_init(struct fastecho_net_zc *zc)
{
	zc->tail_page = NULL;
	zc->tail_end = 0;
}

struct net;

int fastecho_net_listen(struct net *net, struct socket **res,
			const struct sockaddr_storage *addr, int backlog,
			const struct fastecho_net_opts *opts);
int fastecho_net_accept(struct socket *lsock, struct socket **res);
void fastecho_net_set_sndtimeo(struct socket *sock, long timeo);
void fastecho_net_release_frag(void);
int fastecho_net_recv(struct socket *sock, void *buf, size_t len);
int fastecho_net_send_all(struct socket *sock, const void *buf, size_t len,
			  size_t *sent);
int fastecho_net_zc_recv(struct socket *sock, struct fastecho_net_zc *zc);
int fastecho_net_zc_send(struct socket *sock, struct fastecho_net_zc *zc,
			 size_t *sent);
void fastecho_net_shutdown(struct socket *sock);
void fastecho_net_abort(struct socket *sock);
void fastecho_net_release(struct socket *sock);
int fastecho_net_local(struct socket *sock, struct sockaddr_storage *ss);
int fastecho_net_peer(struct socket *sock, struct sockaddr_storage *ss);
void fastecho_net_ipv4_any(struct sockaddr_storage *ss);
u16 fastecho_net_port(const struct sockaddr_storage *ss);

#endif /* _FASTECHO_NET_H */
