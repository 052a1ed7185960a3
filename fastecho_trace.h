/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastecho: the module's trace events, in the "fastecho" trace system
 * (events/fastecho/ in tracefs; perf and bpftrace name them
 * fastecho:fastecho_accept, ...). One event per connection accepted, ended
 * or refused, and one each when the server starts and stops; none per
 * message. fastecho_thread.c fires them where it counts the same things;
 * fastecho_trace.c defines CREATE_TRACE_POINTS and includes this file, so
 * the events are created there and only there.
 *
 * Addresses are stored as the first bytes of a struct sockaddr (enough for
 * a sockaddr_in6) and printed with %pISpc, as include/trace/events/tcp.h
 * does. No string fields: __assign_str() changed between 6.1 and 6.12.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM fastecho

#if !defined(_FASTECHO_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _FASTECHO_TRACE_H

#include <linux/errno.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <net/net_namespace.h>

/* What the multiple reads of this header must see only once. */
#ifndef _FASTECHO_TRACE_ONCE
#define _FASTECHO_TRACE_ONCE

/* Bytes of an address kept in an event: an IPv6 one, or an IPv4 one. */
#define FASTECHO_TRACE_ADDR_LEN sizeof(struct sockaddr_in6)

/*
 * enum fastecho_end_reason - why a connection ended, in fastecho_end
 *
 * fastecho_conn_account() counts connections by the same classes, from
 * fastecho_trace_end_reason(): the counters and the event cannot disagree.
 */
enum fastecho_end_reason {
	FASTECHO_END_EOF, /* the peer's FIN */
	FASTECHO_END_IDLE_TIMEOUT, /* -EAGAIN: nothing came */
	FASTECHO_END_SEND_TIMEOUT, /* -ETIME: the peer took nothing */
	FASTECHO_END_RESET, /* -ECONNRESET, -EPIPE, -ECONNABORTED */
	FASTECHO_END_PEER_TIMEOUT, /* -ETIMEDOUT, -E{HOST,NET}UNREACH */
	FASTECHO_END_SHUTDOWN, /* teardown (rmmod) ended it */
	FASTECHO_END_ERROR, /* anything else */
};

/* enum fastecho_refuse_reason - which limit refused a connection */
enum fastecho_refuse_reason {
	FASTECHO_REFUSE_MAX_CONNS, /* -EMFILE from fastecho_conn_admit() */
	FASTECHO_REFUSE_MAX_PER_SOURCE, /* -EBUSY from the source table */
};

/**
 * fastecho_trace_end_reason() - classify how a connection ended
 * @err:      what the echo loop returned: 0 or a negative errno
 * @teardown: the server was stopping; its own shutdown ended the connection
 *
 * Return: the reason fastecho_end reports.
 */
static inline enum fastecho_end_reason fastecho_trace_end_reason(int err,
								 bool teardown)
{
	if (teardown)
		return FASTECHO_END_SHUTDOWN;
	switch (err) {
	case 0:
		return FASTECHO_END_EOF;
	case -EAGAIN:
		return FASTECHO_END_IDLE_TIMEOUT;
	case -ETIME:
		return FASTECHO_END_SEND_TIMEOUT;
	case -ECONNRESET:
	case -EPIPE:
	case -ECONNABORTED:
		return FASTECHO_END_RESET;
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
		return FASTECHO_END_PEER_TIMEOUT;
	default:
		return FASTECHO_END_ERROR;
	}
}

/**
 * fastecho_trace_port() - the port of an IPv4 or IPv6 address
 * @ss: the address
 *
 * Return: the port in host byte order.
 */
static inline u16 fastecho_trace_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

#endif /* _FASTECHO_TRACE_ONCE */

TRACE_DEFINE_ENUM(FASTECHO_END_EOF);
TRACE_DEFINE_ENUM(FASTECHO_END_IDLE_TIMEOUT);
TRACE_DEFINE_ENUM(FASTECHO_END_SEND_TIMEOUT);
TRACE_DEFINE_ENUM(FASTECHO_END_RESET);
TRACE_DEFINE_ENUM(FASTECHO_END_PEER_TIMEOUT);
TRACE_DEFINE_ENUM(FASTECHO_END_SHUTDOWN);
TRACE_DEFINE_ENUM(FASTECHO_END_ERROR);
TRACE_DEFINE_ENUM(FASTECHO_REFUSE_MAX_CONNS);
TRACE_DEFINE_ENUM(FASTECHO_REFUSE_MAX_PER_SOURCE);

#define fastecho_show_end_reason(reason)                                \
	__print_symbolic(reason, { FASTECHO_END_EOF, "eof" },           \
			 { FASTECHO_END_IDLE_TIMEOUT, "idle_timeout" }, \
			 { FASTECHO_END_SEND_TIMEOUT, "send_timeout" }, \
			 { FASTECHO_END_RESET, "reset" },               \
			 { FASTECHO_END_PEER_TIMEOUT, "peer_timeout" }, \
			 { FASTECHO_END_SHUTDOWN, "shutdown" },         \
			 { FASTECHO_END_ERROR, "error" })

#define fastecho_show_refuse_reason(reason)                                  \
	__print_symbolic(reason, { FASTECHO_REFUSE_MAX_CONNS, "max_conns" }, \
			 { FASTECHO_REFUSE_MAX_PER_SOURCE, "max_per_source" })

/*
 * clang-format would break the field lists at random: the events are laid
 * out by hand, aligned as checkpatch wants.
 */
/* clang-format off */
TRACE_EVENT(fastecho_accept,
	    TP_PROTO(u32 id, const struct sockaddr_storage *peer,
		     struct task_struct *task),
	    TP_ARGS(id, peer, task),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(pid_t, pid)
			     __array(u8, peer, FASTECHO_TRACE_ADDR_LEN)),
	    TP_fast_assign(__entry->id = id;
			   __entry->pid = task_pid_nr(task);
			   memcpy(__entry->peer, peer, FASTECHO_TRACE_ADDR_LEN);),
	    TP_printk("id=%u peer=%pISpc pid=%d",
		      __entry->id, __entry->peer, __entry->pid));

TRACE_EVENT(fastecho_end,
	    TP_PROTO(u32 id, const struct sockaddr_storage *peer, int err,
		     bool teardown, u64 bytes_in, u64 bytes_out,
		     u64 bytes_dropped, unsigned long born),
	    TP_ARGS(id, peer, err, teardown, bytes_in, bytes_out,
		    bytes_dropped, born),
	    TP_STRUCT__entry(__field(u32, id)
			     __field(int, reason)
			     __field(int, err)
			     __field(u32, duration_ms)
			     __field(u64, bytes_in)
			     __field(u64, bytes_out)
			     __field(u64, bytes_dropped)
			     __array(u8, peer, FASTECHO_TRACE_ADDR_LEN)),
	    TP_fast_assign(__entry->id = id;
			   __entry->reason =
				fastecho_trace_end_reason(err, teardown);
			   __entry->err = err;
			   __entry->duration_ms =
				jiffies_to_msecs(jiffies - born);
			   __entry->bytes_in = bytes_in;
			   __entry->bytes_out = bytes_out;
			   __entry->bytes_dropped = bytes_dropped;
			   memcpy(__entry->peer, peer, FASTECHO_TRACE_ADDR_LEN);),
	    TP_printk("id=%u peer=%pISpc reason=%s err=%d bytes_in=%llu bytes_out=%llu bytes_dropped=%llu duration_ms=%u",
		      __entry->id, __entry->peer,
		      fastecho_show_end_reason(__entry->reason),
		      __entry->err, __entry->bytes_in, __entry->bytes_out,
		      __entry->bytes_dropped, __entry->duration_ms));

TRACE_EVENT(fastecho_refuse,
	    TP_PROTO(const struct sockaddr_storage *peer, int why),
	    TP_ARGS(peer, why),
	    TP_STRUCT__entry(__field(int, reason)
			     __array(u8, peer, FASTECHO_TRACE_ADDR_LEN)),
	    TP_fast_assign(__entry->reason = why == -EMFILE ?
					FASTECHO_REFUSE_MAX_CONNS :
					FASTECHO_REFUSE_MAX_PER_SOURCE;
			   memcpy(__entry->peer, peer, FASTECHO_TRACE_ADDR_LEN);),
	    TP_printk("peer=%pISpc reason=%s", __entry->peer,
		      fastecho_show_refuse_reason(__entry->reason)));

DECLARE_EVENT_CLASS(fastecho_server,
		    TP_PROTO(const struct net *net,
			     const struct sockaddr_storage *addr),
		    TP_ARGS(net, addr),
		    TP_STRUCT__entry(__field(unsigned int, netns)
				     __field(u16, port)
				     __array(u8, addr, FASTECHO_TRACE_ADDR_LEN)),
		    TP_fast_assign(__entry->netns = net->ns.inum;
				   __entry->port = fastecho_trace_port(addr);
				   memcpy(__entry->addr, addr,
					  FASTECHO_TRACE_ADDR_LEN);),
		    TP_printk("addr=%pISpc port=%u netns=%u", __entry->addr,
			      __entry->port, __entry->netns));

DEFINE_EVENT(fastecho_server, fastecho_server_start,
	     TP_PROTO(const struct net *net,
		      const struct sockaddr_storage *addr),
	     TP_ARGS(net, addr));

DEFINE_EVENT(fastecho_server, fastecho_server_stop,
	     TP_PROTO(const struct net *net,
		      const struct sockaddr_storage *addr),
	     TP_ARGS(net, addr));
/* clang-format on */

#endif /* _FASTECHO_TRACE_H */

/*
 * This header is not under include/trace/events/: define_trace.h includes
 * it again by the name below, from the directory that Kbuild's -I$(src)
 * gives the one object built with CREATE_TRACE_POINTS.
 */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE fastecho_trace
#include <trace/define_trace.h>
