// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho: kernel socket helpers.
 *
 * Listening, accepting, tuning, receiving and sending on kernel sockets.
 * Nothing here knows about threads, the connection registry or module
 * parameters: every function takes what it needs as arguments.
 *
 * Kernel API notes:
 *
 * - Network namespace references. A socket made by sock_create_kern()
 *   holds none (sk->sk_net_refcnt == 0), and its accepted sockets inherit
 *   that; one that holds a reference keeps its namespace alive, so a
 *   listener holding one could never let its namespace go. But
 *   tcp_close() of a socket without one stops all of its TCP timers at
 *   once (inet_csk_clear_xmit_timers_sync(), since "tcp: properly
 *   terminate timers for kernel sockets"): an echo still in flight when
 *   the connection is released would never be retransmitted, and one
 *   lost segment would leave the client waiting forever. So the listener
 *   and live connections hold no reference, and fastecho_net_release()
 *   gives a connection one just before it is released, while the
 *   namespace lives: from then on the socket is a user socket's equal,
 *   and its namespace waits for its last retransmission. In a namespace
 *   already going away, the connection is reset instead.
 * - kernel_setsockopt() is gone: options are set with the sock_set_*()
 *   and tcp_sock_set_*() helpers.
 * - Sends and receives may be short, or fail with -EAGAIN (timeout),
 *   -EINTR or -ERESTARTSYS (a signal; kthreads take none unless they
 *   allow it).
 * - Urgent data: an echo sends back every byte, so the listener sets
 *   SOCK_URGINLINE (accepted sockets inherit it) and the byte at the
 *   urgent mark is read in line, where without it tcp_recvmsg() would
 *   skip it. tcp_read_sock() stops at the mark whatever the flag says;
 *   the zero-copy receive reads that one byte with kernel_recvmsg().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/tcp.h>
#include <linux/uio.h>
#include <linux/version.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "fastecho_net.h"

static int fastecho_net_addrlen(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

/*
 * A wildcard IPv6 listener also takes IPv4 connections, whatever the
 * net.ipv6.bindv6only sysctl says.
 */
static int fastecho_net_set_dual_stack(struct socket *sock)
{
	int off = 0;

	return sock->ops->setsockopt(sock, SOL_IPV6, IPV6_V6ONLY,
				     KERNEL_SOCKPTR(&off), sizeof(off));
}

/*
 * Socket options for the listener, and so for every connection accepted
 * from it.
 *
 * An accepted socket starts as a copy of its listener (sk_clone_lock()),
 * TCP's options and SOCK_KEEPOPEN included, and tcp_create_openreq_child()
 * arms its keepalive timer from them: set once here, they cost nothing
 * per connection.
 *
 * TCP_NODELAY: an echo is a reply, and must not wait for Nagle. Keepalive
 * finds a peer that vanished while the connection was quiet; the user
 * timeout one that vanished with data in flight, or that keeps its window
 * closed: either then fails the next receive or send with -ETIMEDOUT. How
 * long a send may wait is set per connection, with
 * fastecho_net_set_sndtimeo(); receives wait until data, the end of the
 * stream, an error or a signal.
 */
static void fastecho_net_tune(struct socket *sock,
			      const struct fastecho_net_opts *opts)
{
	struct sock *sk = sock->sk;

	tcp_sock_set_nodelay(sk);
	if (opts->keepidle) {
		tcp_sock_set_keepidle(sk, opts->keepidle);
		tcp_sock_set_keepintvl(sk, opts->keepintvl);
		tcp_sock_set_keepcnt(sk, opts->keepcnt);
		sock_set_keepalive(sk);
	}
	if (opts->user_timeout)
		tcp_sock_set_user_timeout(sk,
					  opts->user_timeout * MSEC_PER_SEC);
}

/**
 * fastecho_net_listen() - create a TCP socket, bind, listen
 * @net:     the network namespace to listen in
 * @res:     the listening socket, on success
 * @addr:    address and port to bind (AF_INET or AF_INET6)
 * @backlog: listen() backlog
 * @opts:    options every accepted connection inherits, set before listen()
 *
 * SO_REUSEADDR is set so that the module can be loaded again on the same
 * port at once while the previous instance's connections sit in TIME_WAIT;
 * SOCK_URGINLINE so that urgent data is echoed in line (see above).
 *
 * Return: 0, or a negative errno (-EADDRINUSE when the port is taken,
 * -EAFNOSUPPORT when the family is not available).
 */
int fastecho_net_listen(struct net *net, struct socket **res,
			const struct sockaddr_storage *addr, int backlog,
			const struct fastecho_net_opts *opts)
{
	struct socket *sock;
	int err;

	/* No reference on @net: see above. */
	err = sock_create_kern(net, addr->ss_family, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;

	sock_set_reuseaddr(sock->sk);
	lock_sock(sock->sk);
	sock_set_flag(sock->sk, SOCK_URGINLINE);
	release_sock(sock->sk);
	if (addr->ss_family == AF_INET6) {
		err = fastecho_net_set_dual_stack(sock);
		if (err)
			goto out_release;
	}

	err = kernel_bind(sock, (struct sockaddr *)addr,
			  fastecho_net_addrlen(addr));
	if (err)
		goto out_release;

	fastecho_net_tune(sock, opts);
	err = kernel_listen(sock, backlog);
	if (err)
		goto out_release;

	*res = sock;
	return 0;

out_release:
	sock_release(sock);
	return err;
}

/**
 * fastecho_net_accept() - wait for the next connection
 * @lsock: listening socket
 * @res:   the new connection, on success
 *
 * Blocks until a connection arrives. fastecho_net_shutdown() on @lsock
 * from another thread makes it return an error at once. Like @lsock, the
 * new socket holds no reference on its network namespace: release it
 * with fastecho_net_release() or fastecho_net_abort().
 *
 * Return: 0 or a negative errno.
 */
int fastecho_net_accept(struct socket *lsock, struct socket **res)
{
	return kernel_accept(lsock, res, 0);
}

/**
 * fastecho_net_set_sndtimeo() - how long a send may make no progress
 * @sock:  a connection no thread sends on yet
 * @timeo: in jiffies; MAX_SCHEDULE_TIMEOUT (the default) waits forever
 *
 * A send that times out returns what it sent, or -EAGAIN. Nothing but
 * the send path reads sk_sndtimeo, so no socket lock is needed before
 * the first send.
 */
void fastecho_net_set_sndtimeo(struct socket *sock, long timeo)
{
	WRITE_ONCE(sock->sk->sk_sndtimeo, timeo);
}

/**
 * fastecho_net_release_frag() - give back the calling thread's send page
 *
 * TCP copies what a kernel thread sends into current->task_frag, a page of
 * up to 32 KiB that the thread keeps for its next send. A thread whose
 * connection has gone quiet gives it back; its next send takes a new one.
 * Data already sent holds references of its own.
 */
void fastecho_net_release_frag(void)
{
	struct page_frag *pfrag = &current->task_frag;

	if (pfrag->page) {
		put_page(pfrag->page);
		pfrag->page = NULL;
	}
}

/**
 * fastecho_net_recv() - receive what is there, up to @len bytes
 * @sock: the connection
 * @buf:  where to put it
 * @len:  room in @buf
 *
 * Blocks until at least one byte, end of stream, an error, a signal or the
 * receive timeout (sk_rcvtimeo).
 *
 * Return: bytes received, 0 at end of stream (the peer's FIN, or our own
 * shutdown), or a negative errno (-EAGAIN on timeout; on a signal,
 * -ERESTARTSYS, or -EINTR while a receive timeout is set).
 */
int fastecho_net_recv(struct socket *sock, void *buf, size_t len)
{
	struct kvec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {};

	return kernel_recvmsg(sock, &msg, &iov, 1, len, 0);
}

/**
 * fastecho_net_send_all() - send all of @buf, completing short sends
 * @sock: the connection
 * @buf:  bytes to send
 * @len:  how many
 * @sent: how many were queued, also when an error stopped the rest
 *
 * kernel_sendmsg() may send less than asked (a send timeout or a signal
 * after partial progress); the rest is sent again until all has gone or
 * an error says it never will.
 *
 * Return: 0 when all @len bytes were queued, else a negative errno
 * (-EAGAIN when the send timeout passed without progress, -EPIPE or
 * -ECONNRESET when the peer or a shutdown closed the stream, -ETIMEDOUT
 * when the peer stopped acknowledging).
 */
int fastecho_net_send_all(struct socket *sock, const void *buf, size_t len,
			  size_t *sent)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	struct kvec iov;
	int n;

	*sent = 0;
	while (*sent < len) {
		iov.iov_base = (void *)buf + *sent;
		iov.iov_len = len - *sent;
		n = kernel_sendmsg(sock, &msg, &iov, 1, iov.iov_len);
		if (n < 0)
			return n;
		if (!n)
			return -EPIPE;
		*sent += n;
	}
	return 0;
}

/*
 * Zero-copy echo: the pages of received data are taken as they sit in the
 * receive queue (tcp_read_sock() with an actor that only takes page
 * references) and handed to TCP's send path, which queues them as they
 * are: one page reference each, no copy. The few bytes that do not sit in
 * a page fit for sending (an skb's linear head, a slab page) are copied
 * into the thread's own page fragment, current->task_frag, which
 * fastecho_net_release_frag() gives back when the connection goes quiet.
 */

/* Bytes one zero-copy round takes at most. */
#define FASTECHO_NET_ZC_BYTES (256 << 10)

/*
 * Add @len bytes at @off in @page to @zc, taking a page reference, or
 * extend the last run when they follow it in the same page. False when
 * @zc has no run left.
 */
static bool fastecho_net_zc_add(struct fastecho_net_zc *zc, struct page *page,
				unsigned int off, unsigned int len)
{
	struct bio_vec *last = zc->nr ? &zc->vec[zc->nr - 1] : NULL;

	if (last && last->bv_page == page &&
	    last->bv_offset + last->bv_len == off) {
		last->bv_len += len;
	} else {
		if (zc->nr == FASTECHO_NET_ZC_VECS)
			return false;
		get_page(page);
		bvec_set_page(&zc->vec[zc->nr++], page, len, off);
	}
	zc->len += len;
	zc->tail_page = page;
	zc->tail_end = off + len;
	return true;
}

/*
 * The @n bytes just written at the thread's page fragment's offset join
 * @zc as copied bytes, and the fragment moves past them. False when @zc
 * has no run left (the bytes are then simply overwritten later).
 */
static bool fastecho_net_zc_keep(struct fastecho_net_zc *zc,
				 struct page_frag *pfrag, unsigned int n)
{
	if (!fastecho_net_zc_add(zc, pfrag->page, pfrag->offset, n))
		return false;
	pfrag->offset += n;
	zc->copied += n;
	return true;
}

/*
 * Copy up to @len bytes at @off of @skb into the thread's page fragment
 * and add them to @zc. Return: bytes taken (fewer when @zc is full), or
 * -ENOMEM.
 */
static int fastecho_net_zc_copy(struct fastecho_net_zc *zc,
				const struct sk_buff *skb, unsigned int off,
				unsigned int len)
{
	struct page_frag *pfrag = &current->task_frag;
	unsigned int n, done = 0;

	while (done < len) {
		if (!skb_page_frag_refill(1, pfrag, GFP_KERNEL))
			return done ?: -ENOMEM;
		n = min(len - done, pfrag->size - pfrag->offset);
		if (skb_copy_bits(skb, off + done,
				  page_address(pfrag->page) + pfrag->offset, n))
			return done ?: -EFAULT;
		if (!fastecho_net_zc_keep(zc, pfrag, n))
			break;
		done += n;
	}
	return done;
}

/*
 * A run is taken by reference only when it fills at least this fraction
 * of the (compound) page it sits in, alone or with the data right after
 * it when that goes straight on in the same page, or when it goes straight
 * on from the run taken before it, in the same page; any other run is
 * copied. A page reference pins the whole page while TCP charges the send
 * queue only the bytes sent from it, so this bounds what a peer that stops
 * acknowledging can make a connection pin: at most this many times its
 * send buffer, plus the page at the head of the unacknowledged data, whose
 * earlier runs may already be acknowledged, and the page of a run whose
 * continuation is not taken yet. It also copies small messages, where a
 * copy is cheaper than a page reference and its release.
 */
#define FASTECHO_NET_ZC_MAX_PIN 4

/*
 * The length of the data right after frag @i of @skb when it goes
 * straight on at @end in @page, else 0. That data is frag @i + 1, or after
 * the last frag the first of the skb after @skb: the next one in the
 * receive queue, which the socket lock keeps still, or for an skb on a
 * frag_list the next one there (none after the last).
 */
static unsigned int fastecho_net_zc_next(const struct fastecho_net_zc *zc,
					 const struct sk_buff *skb, int i,
					 struct page *page, unsigned int end)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);
	const skb_frag_t *frag = &shinfo->frags[i], *next;

	if (end != skb_frag_off(frag) + skb_frag_size(frag))
		return 0;
	if (i + 1 < shinfo->nr_frags) {
		next = &shinfo->frags[i + 1];
	} else {
		if (shinfo->frag_list)
			return 0;
		skb = skb_peek_next((struct sk_buff *)skb, zc->queue);
		if (!skb || skb_headlen(skb) || !skb_shinfo(skb)->nr_frags)
			return 0;
		next = &skb_shinfo(skb)->frags[0];
	}
	if (skb_frag_page(next) != page || skb_frag_off(next) != end)
		return 0;
	return skb_frag_size(next);
}

static bool fastecho_net_zc_sparse(const struct fastecho_net_zc *zc,
				   const struct sk_buff *skb, int i,
				   struct page *page, unsigned int off,
				   unsigned int len)
{
	unsigned long size, run = len;

	if (zc->tail_page == page && zc->tail_end == off)
		return false;
	size = page_size(compound_head(page));
	if (run * FASTECHO_NET_ZC_MAX_PIN >= size)
		return false;
	run += fastecho_net_zc_next(zc, skb, i, page, off + len);
	return run * FASTECHO_NET_ZC_MAX_PIN < size;
}

/*
 * Take @n bytes at @pos of @skb, in frag @i, which starts at @start: by
 * reference, or copied when sendpage_ok() refuses the page or the run is
 * sparse in it. Return: bytes taken (fewer when @zc is full), or a
 * negative errno.
 */
static int fastecho_net_zc_frag(struct fastecho_net_zc *zc,
				const struct sk_buff *skb, int i,
				unsigned int start, unsigned int pos,
				unsigned int n)
{
	const skb_frag_t *frag = &skb_shinfo(skb)->frags[i];
	struct page *page = skb_frag_page(frag);
	unsigned int at = skb_frag_off(frag) + pos - start;

	if (!sendpage_ok(page) ||
	    fastecho_net_zc_sparse(zc, skb, i, page, at, n))
		return fastecho_net_zc_copy(zc, skb, pos, n);
	if (!fastecho_net_zc_add(zc, page, at, n))
		return 0;
	return n;
}

/**
 * fastecho_net_zc_skb() - take @len bytes at @off of @skb into @zc
 * @zc:  the batch
 * @skb: a received skb, or one on its frag_list
 * @off: where to start, from the start of @skb's data
 * @len: how many bytes, at most
 *
 * Paged data is taken by reference; the linear head, and pages that
 * sendpage_ok() refuses, are copied.
 *
 * Return: bytes taken, fewer than @len when @zc filled up, or a negative
 * errno when nothing could be taken.
 */
static int fastecho_net_zc_skb(struct fastecho_net_zc *zc,
			       const struct sk_buff *skb, unsigned int off,
			       unsigned int len)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);
	unsigned int start = skb_headlen(skb), done = 0, n, end, pos;
	const struct sk_buff *iter;
	int i, got;

	if (off < start) {
		n = min(len, start - off);
		got = fastecho_net_zc_copy(zc, skb, off, n);
		if (got < 0 || got < n)
			return got;
		done = n;
	}

	/* The frags in order, then the skbs on the frag_list. */
	iter = shinfo->frag_list;
	for (i = 0; done < len; i++, start = end) {
		if (i < shinfo->nr_frags)
			end = start + skb_frag_size(&shinfo->frags[i]);
		else if (iter)
			end = start + iter->len;
		else
			break;
		pos = off + done;
		if (pos < end) {
			n = min(len - done, end - pos);
			if (i < shinfo->nr_frags)
				got = fastecho_net_zc_frag(zc, skb, i, start,
							   pos, n);
			else
				got = fastecho_net_zc_skb(zc, iter, pos - start,
							  n);
			if (got < 0)
				return done ?: got;
			done += got;
			if (got < n)
				return done;
		}
		if (i >= shinfo->nr_frags)
			iter = iter->next;
	}
	return done;
}

/*
 * tcp_read_sock()'s actor, called under the socket lock: take what fits,
 * send nothing (sending takes the socket lock). desc->count is the round's
 * byte budget; 0 once @zc is full.
 */
static int fastecho_net_zc_actor(read_descriptor_t *desc, struct sk_buff *skb,
				 unsigned int off, size_t len)
{
	struct fastecho_net_zc *zc = desc->arg.data;
	unsigned int want = min(len, desc->count);
	int got;

	if (!want)
		return 0;
	got = fastecho_net_zc_skb(zc, skb, off, want);
	if (got < 0) {
		desc->error = got;
		desc->count = 0;
		return 0;
	}
	desc->count = got < want ? 0 : desc->count - got;
	return got;
}

/* Drop the page references @zc holds and empty it. */
static void fastecho_net_zc_release(struct fastecho_net_zc *zc)
{
	unsigned int i;

	for (i = 0; i < zc->nr; i++)
		put_page(zc->vec[i].bv_page);
	zc->nr = 0;
	zc->len = 0;
}

/*
 * Read the byte at the urgent mark, which tcp_read_sock() never passes,
 * with tcp_recvmsg(): SOCK_URGINLINE makes it read the byte in line and
 * clear the mark. The byte goes into the thread's page fragment and is
 * counted as copied. Called without the socket lock, with @zc empty.
 * Return: 1, 0 at end of stream, or a negative errno (-EAGAIN: nothing
 * there after all).
 */
static int fastecho_net_zc_urgent(struct socket *sock,
				  struct fastecho_net_zc *zc)
{
	struct page_frag *pfrag = &current->task_frag;
	struct msghdr msg = {};
	struct kvec iov;
	int n;

	if (!skb_page_frag_refill(1, pfrag, GFP_KERNEL))
		return -ENOMEM;
	iov.iov_base = page_address(pfrag->page) + pfrag->offset;
	iov.iov_len = 1;
	n = kernel_recvmsg(sock, &msg, &iov, 1, 1, MSG_DONTWAIT);
	if (n <= 0)
		return n;
	fastecho_net_zc_keep(zc, pfrag, n);
	return n;
}

/**
 * fastecho_net_zc_recv() - take what has arrived, as page references
 * @sock: the connection
 * @zc:   an empty batch; filled with up to FASTECHO_NET_ZC_VECS runs
 *
 * Like fastecho_net_recv(), but the data stays in the pages it arrived
 * in: blocks until at least one byte, end of stream, an error, a signal
 * or the receive timeout (sk_rcvtimeo), and reports them in the same
 * order tcp_recvmsg() does. What does not fit in @zc stays in the receive
 * queue for the next call.
 *
 * Urgent data (MSG_OOB) stops tcp_read_sock() at its mark; the byte there
 * is read in line by fastecho_net_zc_urgent() and returned on its own.
 *
 * Return: bytes now held in @zc, 0 at end of stream (the peer's FIN, or
 * our own shutdown), or a negative errno (-EAGAIN on timeout; on a
 * signal, -ERESTARTSYS, or -EINTR while a receive timeout is set).
 */
int fastecho_net_zc_recv(struct socket *sock, struct fastecho_net_zc *zc)
{
	read_descriptor_t desc = { .arg.data = zc };
	struct sock *sk = sock->sk;
	long timeo;
	int n;

	zc->nr = 0;
	zc->len = 0;
	zc->copied = 0;
	zc->queue = &sk->sk_receive_queue;
	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, false);
	for (;;) {
		desc.count = FASTECHO_NET_ZC_BYTES;
		desc.error = 0;
		n = sock->ops->read_sock(sk, &desc, fastecho_net_zc_actor);
		if (n > 0 || zc->len)
			break;
		if (desc.error || n < 0) {
			n = desc.error ?: n;
			break;
		}
		/*
		 * Data, and read_sock() took none: the urgent mark, with
		 * perhaps more data and the peer's FIN behind it.
		 */
		if (!skb_queue_empty(&sk->sk_receive_queue)) {
			release_sock(sk);
			n = fastecho_net_zc_urgent(sock, zc);
			lock_sock(sk);
			if (n != -EAGAIN)
				break;
		}
		if (sock_flag(sk, SOCK_DONE))
			break;
		if (sk->sk_err) {
			n = sock_error(sk);
			break;
		}
		if (sk->sk_shutdown & RCV_SHUTDOWN)
			break;
		if (sk->sk_state == TCP_CLOSE) {
			n = -ENOTCONN;
			break;
		}
		if (!timeo) {
			n = -EAGAIN;
			break;
		}
		sk_wait_data(sk, &timeo, NULL);
		if (signal_pending(current)) {
			n = sock_intr_errno(timeo);
			break;
		}
	}
	release_sock(sk);
	return zc->len ? zc->len : n;
}

#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
/*
 * Since 6.5, which removed sendpage(): sendmsg() with MSG_SPLICE_PAGES
 * queues the pages themselves. Keyed on the version, not on the flag:
 * Debian's 6.1 headers define MSG_SPLICE_PAGES, but its TCP ignores the
 * flag and copies.
 */
static int fastecho_net_zc_push(struct socket *sock, struct fastecho_net_zc *zc,
				size_t *sent)
{
	struct msghdr msg = { .msg_flags = MSG_SPLICE_PAGES | MSG_NOSIGNAL };
	int n;

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, zc->vec, zc->nr, zc->len);
	while (iov_iter_count(&msg.msg_iter)) {
		n = sock_sendmsg(sock, &msg);
		if (n < 0)
			return n;
		if (!n)
			return -EPIPE;
		*sent += n;
	}
	return 0;
}
#else
/*
 * Before 6.5: sendpage(), one run at a time, every run but the last marked
 * as having more behind it, so that TCP pushes once.
 */
static int fastecho_net_zc_push(struct socket *sock, struct fastecho_net_zc *zc,
				size_t *sent)
{
	unsigned int i, off, left;
	int n, flags;

	for (i = 0; i < zc->nr; i++) {
		flags = MSG_NOSIGNAL;
		if (i + 1 < zc->nr)
			flags |= MSG_MORE | MSG_SENDPAGE_NOTLAST;
		off = zc->vec[i].bv_offset;
		left = zc->vec[i].bv_len;
		while (left) {
			n = kernel_sendpage(sock, zc->vec[i].bv_page, off, left,
					    flags);
			if (n < 0)
				return n;
			if (!n)
				return -EPIPE;
			off += n;
			left -= n;
			*sent += n;
		}
	}
	return 0;
}
#endif

/**
 * fastecho_net_zc_send() - send what fastecho_net_zc_recv() took
 * @sock: the connection
 * @zc:   the batch; empty on return, whatever happened
 * @sent: how many bytes were queued, also when an error stopped the rest
 *
 * TCP takes page references of its own; ours are dropped here. Blocks
 * while the send buffer is full, up to the send timeout.
 *
 * Return: 0 when all of @zc was queued, else a negative errno, as for
 * fastecho_net_send_all().
 */
int fastecho_net_zc_send(struct socket *sock, struct fastecho_net_zc *zc,
			 size_t *sent)
{
	int err;

	*sent = 0;
	err = fastecho_net_zc_push(sock, zc, sent);
	fastecho_net_zc_release(zc);
	return err;
}

/**
 * fastecho_net_shutdown() - end both directions of @sock
 * @sock: a listening or connected socket
 *
 * Wakes every thread blocked on @sock: accept, receive and send all
 * return at once. The socket itself stays valid until sock_release().
 */
void fastecho_net_shutdown(struct socket *sock)
{
	kernel_sock_shutdown(sock, SHUT_RDWR);
}

/**
 * fastecho_net_abort() - reset and release a connection
 * @sock: a connected socket; it is freed
 *
 * With linger off, closing sends an RST and leaves no TIME_WAIT behind.
 */
void fastecho_net_abort(struct socket *sock)
{
	sock_no_linger(sock->sk);
	sock_release(sock);
}

/*
 * Make @sk hold a reference on its namespace, as a user socket does, if
 * the namespace is not already going away (its count has reached zero).
 * Only the socket's owner may call it, before releasing it.
 */
static bool fastecho_net_hold_netns(struct sock *sk)
{
	struct net *net = sock_net(sk);

	if (sk->sk_net_refcnt)
		return true;
	if (!maybe_get_net(net))
		return false;
#if KERNEL_VERSION(6, 2, 0) <= LINUX_VERSION_CODE
	/* The untracked reference a kernel socket keeps since 6.2. */
	__netns_tracker_free(net, &sk->ns_tracker, false);
#endif
	netns_tracker_alloc(net, &sk->ns_tracker, GFP_KERNEL);
	sk->sk_net_refcnt = 1;
	sock_inuse_add(net, 1);
	return true;
}

/**
 * fastecho_net_release() - close a connection and release it
 * @sock: an accepted socket; it is freed
 *
 * The socket first takes a reference on its namespace (see the notes at
 * the top), so TCP goes on retransmitting what is still in flight, and
 * the FIN, after the release. In a namespace that is going away it is
 * reset instead (fastecho_net_abort()): nothing there will carry the
 * rest, and a socket without its timers would stay forever.
 */
void fastecho_net_release(struct socket *sock)
{
	if (!fastecho_net_hold_netns(sock->sk)) {
		fastecho_net_abort(sock);
		return;
	}
	sock_release(sock);
}

/*
 * What kernel_getsockname()/kernel_getpeername() returned (@len, or an
 * error) into @ss; an IPv4 peer of a dual-stack socket reads better as
 * plain IPv4.
 */
static int fastecho_net_unmap(struct sockaddr_storage *ss, int len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	__be32 v4;
	__be16 port;

	if (len < 0)
		return len;
	if (ss->ss_family != AF_INET6 || !ipv6_addr_v4mapped(&sin6->sin6_addr))
		return 0;

	v4 = sin6->sin6_addr.s6_addr32[3];
	port = sin6->sin6_port;
	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = port;
	sin->sin_addr.s_addr = v4;
	return 0;
}

/**
 * fastecho_net_local() - the address @sock is bound to
 * @sock: a bound socket
 * @ss:   the address, IPv4-mapped addresses shown as IPv4
 *
 * Return: 0 or a negative errno.
 */
int fastecho_net_local(struct socket *sock, struct sockaddr_storage *ss)
{
	int len;

	memset(ss, 0, sizeof(*ss));
	len = kernel_getsockname(sock, (struct sockaddr *)ss);
	return fastecho_net_unmap(ss, len);
}

/**
 * fastecho_net_peer() - the address of the other end of @sock
 * @sock: a connected socket
 * @ss:   the address, IPv4-mapped addresses shown as IPv4
 *
 * Return: 0 or a negative errno (-ENOTCONN once the peer has reset).
 */
int fastecho_net_peer(struct socket *sock, struct sockaddr_storage *ss)
{
	int len;

	memset(ss, 0, sizeof(*ss));
	len = kernel_getpeername(sock, (struct sockaddr *)ss);
	return fastecho_net_unmap(ss, len);
}

/**
 * fastecho_net_ipv4_any() - turn @ss into 0.0.0.0, keeping its port
 * @ss: an IPv4 or IPv6 address
 */
void fastecho_net_ipv4_any(struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	__be16 port = htons(fastecho_net_port(ss));

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_ANY);
	sin->sin_port = port;
}

/**
 * fastecho_net_port() - the port of an IPv4 or IPv6 address
 * @ss: the address
 *
 * Return: the port in host byte order.
 */
u16 fastecho_net_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}
