// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho: the listener thread, the connection threads and teardown.
 *
 * Every connection is served by a kthread of its own, from accept to close.
 * A connection is born in fastecho_conn_start() (the listener hands the
 * accepted socket to a thread) and dies in fastecho_conn_done() (the thread
 * releases it); both are in "Birth and death of a connection" below.
 * Between the two the thread runs fastecho_conn_echo().
 *
 * Creating a kthread costs a trip through kthreadd, so a thread whose
 * connection has ended waits on a short spare list (spare_threads) for the
 * next one instead of being created again for it. A thread is, at any
 * time, in exactly one place:
 *
 *   @conns (live):  serving a connection, indexed by connection id
 *   @spare:         waiting for the next connection
 *   @dead:          returned, or told to; the reaper frees it
 *
 * Every thread is pinned with get_task_struct() from creation, and whoever
 * frees it (the reaper, or teardown) kthread_stop()s it first: that returns
 * at once for a thread that has already returned, and otherwise stops it.
 * Either way kthread_stop() returns only once the thread has left module
 * code, so nothing is freed under a running thread, and the module is not
 * unloaded under one either. No module reference is held per connection:
 * rmmod works with clients connected.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/version.h>
#include <linux/xarray.h>
#include <net/sock.h>
#include <uapi/linux/sched/types.h>

#include "fastecho.h"
#include "fastecho_net.h"
#include "fastecho_source.h"
#include "fastecho_trace.h"

/*
 * Every connection starts with a small buffer inside its struct, enough
 * for an interactive or request/response echo. The first receive that
 * fills it brings in the full bufsize buffer for the rest of the
 * connection. So idle connections stay cheap, busy ones get big copies.
 */
#define FASTECHO_SMALL_BUF 512

/*
 * A connection quiet for this long gives back what only a busy one needs:
 * the big buffer and the page its sends left cached.
 */
#define FASTECHO_QUIET HZ

/*
 * A connection gives them back at most once in this long, however its
 * peer alternates bursts and pauses: after a trim, the next burst waits
 * out the rest of the gap before it counts as quiet again.
 */
#define FASTECHO_TRIM_GAP (10 * HZ)

/**
 * struct fastecho_conn_state - what one connection leaves in its thread
 * @id:        connection number, the key in fastecho_server.conns
 * @peer:      the client's address
 * @born:      jiffies at accept
 * @src:       the peer's source, counted for max_per_source
 * @idle:      idle_timeout at accept, in jiffies, or MAX_SCHEDULE_TIMEOUT
 * @busy_wait: the silence that ends a burst, in jiffies
 * @wait:      the silence the watch timer waits for now: @busy_wait while
 *             busy, else @idle; written by the thread, read by the timer
 * @last:      jiffies when data last came in (at first, @born); written by
 *             the thread, read by the timer
 * @trimmed:   jiffies at the last trim (see FASTECHO_TRIM_GAP)
 * @big:       echo buffer of bufsize bytes, or NULL until a receive fills
 *             the small one; freed when the connection ends
 * @bytes_in:  bytes received; written by the thread only
 * @bytes_out: bytes sent back; written by the thread only
 * @copied:    of @bytes_in, bytes the zero-copy path copied
 * @dropped:   bytes received that the connection ended without sending
 * @quiet:     no data for FASTECHO_QUIET; written by the thread, read by
 *             teardown
 *
 * Set as a whole by the listener for each new connection, so a reused
 * thread starts from the same state as a new one.
 */
struct fastecho_conn_state {
	u32 id;
	struct sockaddr_storage peer;
	unsigned long born;
	struct fastecho_source *src;
	long idle;
	long busy_wait;
	long wait;
	unsigned long last;
	unsigned long trimmed;
	void *big;
	u64 bytes_in;
	u64 bytes_out;
	u64 copied;
	u64 dropped;
	bool quiet;
};

/**
 * struct fastecho_conn - a connection thread
 * @node:    on fastecho_server.spare or .dead; unused while live
 * @srv:     the server the thread belongs to
 * @task:    the thread, pinned with get_task_struct()
 * @sock:    the connection; NULL while the thread is spare. Published by
 *           the listener after @st, with release semantics: the thread
 *           reads @st only once it sees @sock.
 * @bufsize: size of the big buffer
 * @batched: the thread runs the SCHED_BATCH fastecho_conn_sched() set
 * @watch:   the watch timer: fires after @st.wait of silence (see
 *           fastecho_conn_echo())
 * @waiting: FASTECHO_WATCH_*: whether the thread sits in a receive the
 *           watch timer may interrupt, or was interrupted
 * @watching: the watch timer was set for this connection; thread only
 * @st:      the connection being served
 * @small:   echo buffer for small messages: an idle connection costs no
 *           more than this
 */
struct fastecho_conn {
	struct list_head node;
	struct fastecho_server *srv;
	struct task_struct *task;
	struct socket *sock;
	unsigned int bufsize;
	bool batched;
	struct timer_list watch;
	int waiting;
	bool watching;
	struct fastecho_conn_state st;
	u8 small[FASTECHO_SMALL_BUF];
};

/**
 * struct fastecho_server - a listener and its connection threads
 * @net:           the network namespace it serves, while it runs
 * @cfg:           configuration of the current run
 * @limits:        runtime limits, pushed by fastecho_server_set_limits()
 * @lsock:         listening socket; released last, at teardown
 * @listener:      listener thread
 * @listening:     completed once the listener is listening, or failed
 * @listen_err:    why the listener failed, valid after @listening
 * @bound:         the address the listener is bound to
 * @lock:          the registry lock: serialises changes to @conns, @spare,
 *                 @dead, @nr_spare, @sources, @running and @up
 * @conns:         live connections by id; readers of the stats file look
 *                 entries up under its own lock, never under @lock
 * @sources:       live connections per peer source
 * @spare:         threads waiting for a connection, most recent first
 * @dead:          threads waiting for @reaper
 * @nr_spare:      length of @spare
 * @running:       between start and teardown; threads return when it clears
 * @up:            listening on @bound: from a start that succeeded to
 *                 the beginning of teardown, for the stats file
 * @reap_wq:       where @reaper runs: it sleeps in kthread_stop(); one per run
 * @reaper:        frees the threads on @dead
 * @nr_active:     entries in @conns, read without @lock by the listener
 * @nr_threads:    threads created so far, for their names
 * @next_id:       where the search for the next connection id starts
 * @accepted:      connections served
 * @rejected:      connections reset because of max_conns
 * @rejected_source: connections reset because of max_per_source
 * @idle_timeouts: connections closed by idle_timeout: nothing received
 * @send_timeouts: connections closed by idle_timeout: nothing sent
 * @resets:        connections ended by the peer's reset
 * @peer_timeouts: connections ended because the peer stopped answering
 *                 (keepalive, user_timeout; with a soft error such as no
 *                 route to it, TCP reports that instead of -ETIMEDOUT)
 * @errors:        accept failures, failed allocations, other socket errors
 * @trims:         big buffers given back by quiet connections
 * @ended:         the byte counts of connections no longer in @conns,
 *                 under the lock of @conns: a connection's counts move
 *                 there as it leaves @conns, so a reader holding that lock
 *                 sees every byte once (fastecho_server_stats())
 *
 * The byte counts live in each connection and are summed when read: the
 * echo loop writes nothing that another connection's thread writes too.
 * The counters count from fastecho_server_alloc(), over every run.
 */
struct fastecho_server {
	struct net *net;
	struct fastecho_config cfg;
	struct fastecho_limits limits;
	struct socket *lsock;
	struct task_struct *listener;
	struct completion listening;
	int listen_err;
	struct sockaddr_storage bound;

	struct mutex lock; /* the registry lock, see above */
	struct xarray conns;
	struct fastecho_sources sources;
	struct list_head spare;
	struct list_head dead;
	unsigned int nr_spare;
	bool running;
	bool up;
	struct workqueue_struct *reap_wq;
	struct work_struct reaper;

	atomic_t nr_active;
	unsigned int nr_threads;
	u32 next_id;
	atomic64_t accepted;
	atomic64_t rejected;
	atomic64_t rejected_source;
	atomic64_t idle_timeouts;
	atomic64_t send_timeouts;
	atomic64_t resets;
	atomic64_t peer_timeouts;
	atomic64_t errors;
	atomic64_t trims;
	struct {
		u64 bytes_in;
		u64 bytes_out;
		u64 dropped;
		u64 copied;
	} ended;
};

/* ---- The thread pool ---------------------------------------------------- */

static int fastecho_conn_thread(void *data);
static void fastecho_conn_watch(struct timer_list *t);

/* A new thread, not yet woken, on no list. */
static struct fastecho_conn *fastecho_conn_create(struct fastecho_server *srv)
{
	struct task_struct *task;
	struct fastecho_conn *conn;

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return ERR_PTR(-ENOMEM);
	conn->srv = srv;
	conn->bufsize = srv->cfg.bufsize;
	timer_setup(&conn->watch, fastecho_conn_watch, 0);

	task = kthread_create(fastecho_conn_thread, conn, "%s/%u",
			      KBUILD_MODNAME, ++srv->nr_threads);
	if (IS_ERR(task)) {
		kfree(conn);
		return ERR_CAST(task);
	}
	conn->task = get_task_struct(task);
	return conn;
}

/*
 * Move the byte counts of @conn, which has just left @conns (or is being
 * freed at teardown), to the server's totals. Under the lock of @conns,
 * so that fastecho_server_stats() counts them exactly once.
 */
static void fastecho_conn_fold(struct fastecho_server *srv,
			       struct fastecho_conn *conn)
{
	lockdep_assert_held(&srv->conns.xa_lock);
	srv->ended.bytes_in += conn->st.bytes_in;
	srv->ended.bytes_out += conn->st.bytes_out;
	srv->ended.dropped += conn->st.dropped;
	srv->ended.copied += conn->st.copied;
}

/*
 * Stop the thread (or see that it has returned), then free what it leaves:
 * its socket and byte counts, if teardown took it while live.
 */
static void fastecho_conn_free(struct fastecho_server *srv,
			       struct fastecho_conn *conn)
{
	kthread_stop(conn->task);
	put_task_struct(conn->task);
	if (conn->sock) {
		xa_lock(&srv->conns);
		fastecho_conn_fold(srv, conn);
		xa_unlock(&srv->conns);
		fastecho_net_release(conn->sock);
	}
	kvfree(conn->st.big);
	kfree(conn);
}

/* Hand @conn, on no list, to the reaper. Called with the registry lock. */
static void fastecho_conn_retire(struct fastecho_server *srv,
				 struct fastecho_conn *conn)
{
	lockdep_assert_held(&srv->lock);
	list_add_tail(&conn->node, &srv->dead);
	queue_work(srv->reap_wq, &srv->reaper);
}

/* Free every thread on @dead. */
static void fastecho_reap(struct work_struct *work)
{
	struct fastecho_server *srv =
		container_of(work, struct fastecho_server, reaper);
	struct fastecho_conn *conn, *tmp;
	LIST_HEAD(dead);

	mutex_lock(&srv->lock);
	list_splice_init(&srv->dead, &dead);
	mutex_unlock(&srv->lock);

	list_for_each_entry_safe(conn, tmp, &dead, node) {
		list_del(&conn->node);
		fastecho_conn_free(srv, conn);
	}
}

/* Retire spare threads beyond spare_threads. Called with the lock. */
static void fastecho_spare_trim(struct fastecho_server *srv)
{
	struct fastecho_conn *conn;

	lockdep_assert_held(&srv->lock);
	while (srv->nr_spare > srv->limits.spare_threads) {
		conn = list_last_entry(&srv->spare, struct fastecho_conn, node);
		list_del(&conn->node);
		WRITE_ONCE(srv->nr_spare, srv->nr_spare - 1);
		fastecho_conn_retire(srv, conn);
	}
}

/* ---- Echo, memory and scheduling policy --------------------------------- */

/*
 * Where a connection's thread stands with its watch timer (conn->waiting):
 * running, where the timer leaves it alone; waiting in a receive, which the
 * timer may interrupt with FASTECHO_WATCH_SIG; interrupted: the timer has
 * sent the signal, or is sending it.
 */
enum {
	FASTECHO_WATCH_RUN,
	FASTECHO_WATCH_RECV,
	FASTECHO_WATCH_ALARM,
};

#define FASTECHO_WATCH_SIG SIGALRM

/*
 * The watch timer. Data came in since it was set: wait on, from then. Or
 * the connection has been silent for st.wait: signal its thread out of the
 * receive it waits in. A thread that is not in a receive (a send the peer
 * does not read) is looked at again a wait later.
 */
static void fastecho_conn_watch(struct timer_list *t)
{
	struct fastecho_conn *conn = from_timer(conn, t, watch);
	long wait = READ_ONCE(conn->st.wait);
	unsigned long due = READ_ONCE(conn->st.last) + wait;

	if (time_before(jiffies, due)) {
		mod_timer(t, due);
		return;
	}
	if (cmpxchg(&conn->waiting, FASTECHO_WATCH_RECV,
		    FASTECHO_WATCH_ALARM) == FASTECHO_WATCH_RECV)
		send_sig(FASTECHO_WATCH_SIG, conn->task, 1);
	else
		mod_timer(t, jiffies + wait);
}

/*
 * Watch for a silence of @wait from st.last on (MAX_SCHEDULE_TIMEOUT: for
 * none, and the timer is stopped). Only the thread calls it, outside a
 * receive.
 */
static void fastecho_conn_watch_set(struct fastecho_conn *conn, long wait)
{
	if (conn->watching)
		del_timer_sync(&conn->watch);
	WRITE_ONCE(conn->st.wait, wait);
	conn->watching = wait != MAX_SCHEDULE_TIMEOUT;
	if (conn->watching)
		mod_timer(&conn->watch, conn->st.last + wait);
}

/*
 * Leave a receive: true if the watch timer interrupted it. Then the signal
 * is taken here, before anything else can block, and the timer is left
 * stopped.
 */
static bool fastecho_conn_watch_alarm(struct fastecho_conn *conn)
{
	if (xchg(&conn->waiting, FASTECHO_WATCH_RUN) != FASTECHO_WATCH_ALARM)
		return false;
	del_timer_sync(&conn->watch);
	flush_signals(current);
	return true;
}

/*
 * Quiet for st.busy_wait: give back the big buffer and the send page,
 * then wait for what is left of idle_timeout.
 */
static void fastecho_conn_quiet(struct fastecho_server *srv,
				struct fastecho_conn *conn)
{
	struct fastecho_conn_state *st = &conn->st;

	kvfree(st->big);
	st->big = NULL;
	fastecho_net_release_frag();
	st->trimmed = jiffies;
	atomic64_inc(&srv->trims);
	fastecho_conn_watch_set(conn, st->idle);
}

/*
 * Data again: from now on a silence of FASTECHO_QUIET ends the burst, or
 * a longer one while the last trim is less than FASTECHO_TRIM_GAP ago.
 */
static void fastecho_conn_busy(struct fastecho_conn *conn)
{
	struct fastecho_conn_state *st = &conn->st;
	long gap = (long)(st->trimmed + FASTECHO_TRIM_GAP - jiffies);

	st->busy_wait = min(st->idle, max_t(long, FASTECHO_QUIET, gap));
	fastecho_conn_watch_set(conn, st->busy_wait);
}

/**
 * fastecho_conn_sched() - choose how the thread's next wakeup preempts
 * @srv:  the server
 * @conn: this thread
 * @busy: the connection is new or has had data within FASTECHO_QUIET
 *
 * Data from a client wakes its connection thread, and a SCHED_NORMAL thread
 * woken so preempts the client on the spot: with one connection that is
 * what we want (the echo is ready before the client waits for it). With
 * many connections and few CPUs it costs two context switches per message,
 * in the middle of the client's send loop. A SCHED_BATCH thread does not
 * preempt on wakeup: the client sends its whole round first, and the
 * threads then echo one after the other. So a busy connection's thread runs
 * SCHED_BATCH while at least batch_conns connections are open (0: never).
 * A new connection counts as busy: a thread taken from the spare list
 * keeps its policy, and short connections pay no change at all.
 *
 * A quiet connection goes back to SCHED_NORMAL: its next message is not
 * part of a round, and a crowd of idle connections closed at once (a
 * client exiting) must not wake up as runnable batch threads all together.
 *
 * Only SCHED_NORMAL, and the SCHED_BATCH this function set itself
 * (@conn->batched), are switched: any other policy, and a SCHED_BATCH set
 * on a SCHED_NORMAL thread, was chosen by an administrator, and stays. A
 * switch keeps what else the administrator chose: the nice value,
 * reset-on-fork, and on 6.12 a custom time slice.
 *
 * Kept by measurement: under the instruction clock, batch_conns=2 against
 * 0 takes 11 % less server CPU per message at 32 and at 1000 connections.
 */
static void fastecho_conn_sched(struct fastecho_server *srv,
				struct fastecho_conn *conn, bool busy)
{
	unsigned int from = READ_ONCE(srv->limits.batch_conns);
	int policy = current->policy;
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_nice = task_nice(current),
	};
	bool batching = policy == SCHED_BATCH;
	bool batch;

	if (policy != SCHED_NORMAL && !(batching && conn->batched))
		return;
	batch = busy && from && atomic_read(&srv->nr_active) >= from;
	if (batch == batching)
		return;
	attr.sched_policy = batch ? SCHED_BATCH : SCHED_NORMAL;
	if (current->sched_reset_on_fork)
		attr.sched_flags |= SCHED_FLAG_RESET_ON_FORK;
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
	if (current->se.custom_slice)
		attr.sched_runtime = current->se.slice;
#endif
	if (!sched_setattr_nocheck(current, &attr))
		conn->batched = batch;
}

/**
 * fastecho_conn_echo() - echo until the connection ends
 * @srv:  the server
 * @conn: the connection
 *
 * Receives wait without a timeout: a watch timer per connection, set once
 * per burst and not per receive, looks after silences. While data flows,
 * a silence of FASTECHO_QUIET (longer right after a trim, see
 * FASTECHO_TRIM_GAP) ends the burst: the timer signals the thread out of
 * its receive, and the thread gives back its big buffer and send page
 * (fastecho_conn_quiet()), turns SCHED_NORMAL, and waits for the rest of
 * idle_timeout, which ends the connection the same way. Ping-pong traffic
 * never leaves the first state, an idle connection changes state once.
 *
 * The signal can only be pending in a receive (conn->waiting): the timer
 * sends it only to a thread that waits in one, and the thread takes it as
 * it leaves. Sends never see it.
 *
 * Any other failure ends the connection.
 *
 * Return: 0 at end of stream (the client's FIN, or teardown's shutdown),
 * or the negative errno that ended it: -EAGAIN when nothing came for
 * idle_timeout, -ETIME when a send made no progress for as long.
 */
static int fastecho_conn_echo(struct fastecho_server *srv,
			      struct fastecho_conn *conn)
{
	struct fastecho_conn_state *st = &conn->st;
	bool zerocopy = srv->cfg.zerocopy;
	struct fastecho_net_zc zc;
	bool busy = false;
	bool alarm;
	size_t len, sent;
	void *buf;
	int n, err = 0;

	fastecho_net_zc_init(&zc);
	fastecho_conn_watch_set(conn, st->idle);
	while (!kthread_should_stop()) {
		fastecho_conn_sched(srv, conn, !st->quiet);
		buf = st->big ?: conn->small;
		len = st->big ? conn->bufsize : sizeof(conn->small);
		WRITE_ONCE(conn->waiting, FASTECHO_WATCH_RECV);
		if (zerocopy)
			n = fastecho_net_zc_recv(conn->sock, &zc);
		else
			n = fastecho_net_recv(conn->sock, buf, len);
		alarm = fastecho_conn_watch_alarm(conn);
		if (alarm && n == -ERESTARTSYS) {
			if (!busy || st->idle <= st->busy_wait) {
				err = -EAGAIN;
				break;
			}
			fastecho_conn_quiet(srv, conn);
			busy = false;
			WRITE_ONCE(st->quiet, true);
			continue;
		}
		if (n <= 0) {
			err = n;
			break;
		}
		WRITE_ONCE(st->last, jiffies);
		if (!busy) {
			fastecho_conn_busy(conn);
			busy = true;
			WRITE_ONCE(st->quiet, false);
		} else if (alarm) {
			mod_timer(&conn->watch, st->last + st->wait);
		}
		WRITE_ONCE(st->bytes_in, st->bytes_in + n);
		if (zerocopy && zc.copied)
			WRITE_ONCE(st->copied, st->copied + zc.copied);

		if (zerocopy)
			err = fastecho_net_zc_send(conn->sock, &zc, &sent);
		else
			err = fastecho_net_send_all(conn->sock, buf, n, &sent);
		WRITE_ONCE(st->bytes_out, st->bytes_out + sent);
		if (err) {
			st->dropped = n - sent;
			if (err == -EAGAIN)
				err = -ETIME;
			break;
		}

		/* A full small buffer: more is coming, use the big one. */
		if (!zerocopy && n == len && !st->big && conn->bufsize > len)
			st->big = kvmalloc(conn->bufsize,
					   GFP_KERNEL | __GFP_NOWARN);
	}
	fastecho_conn_watch_set(conn, MAX_SCHEDULE_TIMEOUT);
	return err;
}

/*
 * Count how a connection ended; log only what is ours to fix. Once
 * teardown has begun, its own shutdown ends every connection: that is
 * neither the peer's doing nor an error, and is not counted.
 */
static void fastecho_conn_account(struct fastecho_server *srv,
				  struct fastecho_conn *conn, int err)
{
	bool teardown = !READ_ONCE(srv->running);

	pr_debug("connection %u closed (%d): in %llu out %llu lost %llu\n",
		 conn->st.id, err, conn->st.bytes_in, conn->st.bytes_out,
		 conn->st.dropped);
	trace_fastecho_end(conn->st.id, &conn->st.peer, err, teardown,
			   conn->st.bytes_in, conn->st.bytes_out,
			   conn->st.dropped, conn->st.born);

	switch (fastecho_trace_end_reason(err, teardown)) {
	case FASTECHO_END_EOF:
	case FASTECHO_END_SHUTDOWN:
		break;
	case FASTECHO_END_IDLE_TIMEOUT:
		atomic64_inc(&srv->idle_timeouts);
		break;
	case FASTECHO_END_SEND_TIMEOUT:
		atomic64_inc(&srv->send_timeouts);
		break;
	case FASTECHO_END_RESET:
		atomic64_inc(&srv->resets);
		break;
	case FASTECHO_END_PEER_TIMEOUT:
		/* What TCP reports once keepalive or user_timeout gives up. */
		atomic64_inc(&srv->peer_timeouts);
		break;
	case FASTECHO_END_ERROR:
		atomic64_inc(&srv->errors);
		pr_warn_ratelimited("connection %u from %pISpc: error %d\n",
				    conn->st.id, &conn->st.peer, err);
		break;
	}
}

/* ---- Birth and death of a connection ------------------------------------ */

/*
 * Count one more connection from @st's peer, and take a spare thread if
 * there is one (else NULL). Over max_conns or max_per_source, or when the
 * source cannot be recorded, the error says which.
 */
static struct fastecho_conn *fastecho_conn_admit(struct fastecho_server *srv,
						 struct fastecho_conn_state *st)
{
	unsigned int per_source = READ_ONCE(srv->limits.max_per_source);
	struct fastecho_conn *conn;

	if (atomic_read(&srv->nr_active) >= READ_ONCE(srv->limits.max_conns))
		return ERR_PTR(-EMFILE);

	mutex_lock(&srv->lock);
	st->src = fastecho_source_get(&srv->sources, &st->peer, per_source);
	if (IS_ERR(st->src)) {
		mutex_unlock(&srv->lock);
		return ERR_CAST(st->src);
	}
	conn = list_first_entry_or_null(&srv->spare, struct fastecho_conn,
					node);
	if (conn) {
		list_del(&conn->node);
		WRITE_ONCE(srv->nr_spare, srv->nr_spare - 1);
	}
	mutex_unlock(&srv->lock);
	return conn;
}

/*
 * Count a connection refused over max_conns (-EMFILE) or max_per_source
 * (-EBUSY); name the source, which may be one host trying to take them all.
 */
static void fastecho_conn_refuse(struct fastecho_server *srv,
				 const struct sockaddr_storage *peer, int why)
{
	trace_fastecho_refuse(peer, why);
	if (why == -EMFILE) {
		atomic64_inc(&srv->rejected);
		return;
	}
	atomic64_inc(&srv->rejected_source);
	pr_notice_ratelimited("%pISc has max_per_source connections: reset\n",
			      peer);
}

/**
 * fastecho_conn_start() - hand an accepted socket to a thread of its own
 * @srv:  the server
 * @sock: the accepted connection; owned by this function from here on
 *
 * A spare thread takes it if there is one, else a new thread is created.
 * Over max_conns or max_per_source, or when memory or a thread cannot be
 * had, the connection is reset at once and counted.
 */
static void fastecho_conn_start(struct fastecho_server *srv,
				struct socket *sock)
{
	struct fastecho_conn_state st = {};
	struct fastecho_conn *conn;
	unsigned int idle;
	int err;

	fastecho_net_peer(sock, &st.peer);
	conn = fastecho_conn_admit(srv, &st);
	if (IS_ERR(conn)) {
		err = PTR_ERR(conn);
		if (err != -EMFILE && err != -EBUSY)
			goto out_error;
		fastecho_conn_refuse(srv, &st.peer, err);
		fastecho_net_abort(sock);
		return;
	}

	st.born = jiffies;
	st.trimmed = st.born - FASTECHO_TRIM_GAP;
	idle = READ_ONCE(srv->limits.idle_timeout);
	st.idle = idle ? (long)idle * HZ : MAX_SCHEDULE_TIMEOUT;
	st.busy_wait = st.idle;
	st.last = st.born;
	if (idle)
		fastecho_net_set_sndtimeo(sock, st.idle);

	if (!conn) {
		conn = fastecho_conn_create(srv);
		if (IS_ERR(conn)) {
			err = PTR_ERR(conn);
			goto out_put_source;
		}
	}

	mutex_lock(&srv->lock);
	conn->st = st;
	err = xa_alloc_cyclic(&srv->conns, &conn->st.id, conn, xa_limit_32b,
			      &srv->next_id, GFP_KERNEL);
	if (err < 0) {
		fastecho_conn_retire(srv, conn);
		fastecho_source_put(&srv->sources, st.src);
		mutex_unlock(&srv->lock);
		goto out_error;
	}
	atomic_inc(&srv->nr_active);
	/* Pairs with fastecho_conn_wait(): @st is set before @sock shows. */
	smp_store_release(&conn->sock, sock);
	mutex_unlock(&srv->lock);
	atomic64_inc(&srv->accepted);

	pr_debug("connection %u from %pISpc\n", conn->st.id, &conn->st.peer);
	trace_fastecho_accept(conn->st.id, &conn->st.peer, conn->task);
	wake_up_process(conn->task);
	return;

out_put_source:
	mutex_lock(&srv->lock);
	fastecho_source_put(&srv->sources, st.src);
	mutex_unlock(&srv->lock);
out_error:
	atomic64_inc(&srv->errors);
	pr_warn_ratelimited("no thread for a connection: %d\n", err);
	fastecho_net_abort(sock);
}

/**
 * fastecho_conn_done() - the connection has ended: close it, find a list
 * @srv:  the server
 * @conn: this thread
 *
 * Takes the connection out of @conns, with its byte counts, moves the
 * thread onto @spare when there is room, else onto @dead for the reaper,
 * and releases the socket and the big buffer. A thread that goes spare
 * keeps its send page (current->task_frag, up to 32 KiB): the next
 * connection's first send would otherwise take a new one, which the
 * allocator zeroes with init_on_alloc=1; a thread on @dead gives it back.
 * Once teardown has begun, it touches nothing: teardown owns the thread,
 * its socket and its entry.
 *
 * Return: true to wait for the next connection, false to return.
 */
static bool fastecho_conn_done(struct fastecho_server *srv,
			       struct fastecho_conn *conn)
{
	struct socket *sock = conn->sock;
	void *big = conn->st.big;
	bool spare = false;

	mutex_lock(&srv->lock);
	if (!srv->running) {
		mutex_unlock(&srv->lock);
		return false;
	}

	xa_lock(&srv->conns);
	__xa_erase(&srv->conns, conn->st.id);
	fastecho_conn_fold(srv, conn);
	xa_unlock(&srv->conns);
	atomic_dec(&srv->nr_active);
	fastecho_source_put(&srv->sources, conn->st.src);
	WRITE_ONCE(conn->sock, NULL);
	conn->st.big = NULL;
	if (srv->nr_spare < srv->limits.spare_threads) {
		list_add(&conn->node, &srv->spare);
		WRITE_ONCE(srv->nr_spare, srv->nr_spare + 1);
		spare = true;
	} else {
		fastecho_conn_retire(srv, conn);
	}
	mutex_unlock(&srv->lock);

	fastecho_net_release(sock);
	kvfree(big);
	if (!spare)
		fastecho_net_release_frag();
	return spare;
}

/* ---- The connection thread ---------------------------------------------- */

/*
 * Sleep until the listener hands us a connection (true), or we are told
 * to return (false). A connection handed over is served even when
 * teardown has begun: it ends at once then, through fastecho_conn_done()
 * like any other. The state is set before the tests, so no wakeup is
 * lost.
 */
static bool fastecho_conn_wait(struct fastecho_server *srv,
			       struct fastecho_conn *conn)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		/* Pairs with fastecho_conn_start(): @st is ready. */
		if (smp_load_acquire(&conn->sock)) {
			__set_current_state(TASK_RUNNING);
			return true;
		}
		if (kthread_should_stop() || !READ_ONCE(srv->running))
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	return false;
}

static int fastecho_conn_thread(void *data)
{
	struct fastecho_conn *conn = data;
	struct fastecho_server *srv = conn->srv;
	int err;

	allow_kernel_signal(FASTECHO_WATCH_SIG);
	while (fastecho_conn_wait(srv, conn)) {
		err = fastecho_conn_echo(srv, conn);
		fastecho_conn_account(srv, conn, err);
		if (!fastecho_conn_done(srv, conn))
			break;
	}
	return 0;
}

/* ---- The listener ------------------------------------------------------- */

/*
 * Sleep until kthread_stop(). The state is set before the test, so the
 * wakeup from kthread_stop() cannot be lost.
 */
static void fastecho_wait_for_stop(void)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
}

/*
 * Create, bind and listen, with the default address IPv6 else IPv4, and
 * set the options every accepted connection inherits.
 */
static int fastecho_listener_setup(struct fastecho_server *srv)
{
	struct fastecho_net_opts opts = {
		.keepidle = srv->cfg.keepalive_idle,
		.keepintvl = srv->cfg.keepalive_intvl,
		.keepcnt = srv->cfg.keepalive_cnt,
		.user_timeout = srv->cfg.user_timeout,
	};
	struct sockaddr_storage addr = srv->cfg.addr;
	int err;

	err = fastecho_net_listen(srv->net, &srv->lsock, &addr,
				  srv->cfg.backlog, &opts);
	if (err == -EAFNOSUPPORT && srv->cfg.any) {
		pr_info("no IPv6 in this kernel, listening on IPv4 only\n");
		fastecho_net_ipv4_any(&addr);
		err = fastecho_net_listen(srv->net, &srv->lsock, &addr,
					  srv->cfg.backlog, &opts);
	}
	if (err) {
		if (err == -EADDRINUSE)
			pr_err("cannot listen on %pISpc: port %u is already in use\n",
			       &addr, fastecho_net_port(&addr));
		else
			pr_err("cannot listen on %pISpc: error %d\n", &addr,
			       err);
		srv->lsock = NULL;
		return err;
	}

	if (fastecho_net_local(srv->lsock, &srv->bound))
		srv->bound = addr;
	return 0;
}

static void fastecho_accept_loop(struct fastecho_server *srv)
{
	struct socket *sock;
	int err;

	while (!kthread_should_stop()) {
		err = fastecho_net_accept(srv->lsock, &sock);
		if (!err) {
			fastecho_conn_start(srv, sock);
			continue;
		}
		if (!READ_ONCE(srv->running))
			break;
		/* Out of memory or similar: don't spin on it. */
		atomic64_inc(&srv->errors);
		pr_warn_ratelimited("accept failed: error %d\n", err);
		schedule_timeout_interruptible(HZ / 10);
	}
}

static int fastecho_listener_thread(void *data)
{
	struct fastecho_server *srv = data;

	srv->listen_err = fastecho_listener_setup(srv);
	complete(&srv->listening);
	if (!srv->listen_err)
		fastecho_accept_loop(srv);
	fastecho_wait_for_stop();
	return 0;
}

/* ---- Start and teardown ------------------------------------------------- */

/**
 * fastecho_server_alloc() - a server that does not run yet
 *
 * Its limits are all zero until fastecho_server_set_limits().
 *
 * Return: the server, or NULL without memory.
 */
struct fastecho_server *fastecho_server_alloc(void)
{
	struct fastecho_server *srv;

	srv = kzalloc(sizeof(*srv), GFP_KERNEL);
	if (!srv)
		return NULL;
	mutex_init(&srv->lock);
	xa_init_flags(&srv->conns, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&srv->spare);
	INIT_LIST_HEAD(&srv->dead);
	INIT_WORK(&srv->reaper, fastecho_reap);
	return srv;
}

/**
 * fastecho_server_free() - free a server that does not run
 * @srv: the server, stopped or never started
 */
void fastecho_server_free(struct fastecho_server *srv)
{
	mutex_destroy(&srv->lock);
	kfree(srv);
}

/**
 * fastecho_server_running() - whether @srv is between start and stop
 * @srv: the server
 *
 * Only its starter and stopper may ask (they serialise start and stop).
 */
bool fastecho_server_running(struct fastecho_server *srv)
{
	return srv->lsock;
}

/**
 * fastecho_server_start() - start the listener and wait until it listens
 * @srv:   a server that does not run
 * @net:   the network namespace to serve; no reference is taken: stop the
 *         server before the namespace goes (a pernet pre_exit)
 * @cfg:   address, backlog, buffer size
 * @bound: the address actually bound, on success
 *
 * Return: 0 once the listener accepts connections, or the error that
 * stopped it (-EADDRINUSE, ...), with nothing left behind.
 */
int fastecho_server_start(struct fastecho_server *srv, struct net *net,
			  const struct fastecho_config *cfg,
			  struct sockaddr_storage *bound)
{
	struct task_struct *task;
	int err;

	srv->net = net;
	srv->cfg = *cfg;
	init_completion(&srv->listening);
	srv->reap_wq = alloc_ordered_workqueue("%s_reap", 0, KBUILD_MODNAME);
	if (!srv->reap_wq)
		return -ENOMEM;

	mutex_lock(&srv->lock);
	WRITE_ONCE(srv->running, true);
	mutex_unlock(&srv->lock);

	task = kthread_run(fastecho_listener_thread, srv, KBUILD_MODNAME);
	if (IS_ERR(task)) {
		err = PTR_ERR(task);
		goto out_not_running;
	}
	srv->listener = task;

	wait_for_completion(&srv->listening);
	if (srv->listen_err) {
		err = srv->listen_err;
		kthread_stop(task);
		goto out_not_running;
	}
	*bound = srv->bound;
	mutex_lock(&srv->lock);
	srv->up = true;
	mutex_unlock(&srv->lock);
	trace_fastecho_server_start(sock_net(srv->lsock->sk), &srv->bound);
	return 0;

out_not_running:
	mutex_lock(&srv->lock);
	WRITE_ONCE(srv->running, false);
	mutex_unlock(&srv->lock);
	destroy_workqueue(srv->reap_wq);
	return err;
}

/**
 * fastecho_server_stop() - stop accepting, end every connection, free all
 * @srv: a running server
 *
 * Returns once no thread of ours runs and every socket is released, however
 * the clients behave: shutting a socket down wakes a thread blocked in
 * accept, receive or send.
 *
 * Order: no new connections (clear @running, shut the listening socket
 * down, stop the listener); let the reaper finish and go, so that every
 * remaining thread is on @conns or @spare; take them all; shut every live
 * socket down, busy connections first, and wake every spare thread, so
 * that they all return at once, in parallel; kthread_stop() and free each;
 * release the listening socket.
 */
void fastecho_server_stop(struct fastecho_server *srv)
{
	struct fastecho_conn *conn, *tmp;
	unsigned long id;
	LIST_HEAD(live);
	LIST_HEAD(idle);
	LIST_HEAD(busy);

	mutex_lock(&srv->lock);
	WRITE_ONCE(srv->running, false);
	srv->up = false;
	mutex_unlock(&srv->lock);
	fastecho_net_shutdown(srv->lsock);
	kthread_stop(srv->listener);

	/* Nothing queues the reaper now; it frees what is on @dead. */
	destroy_workqueue(srv->reap_wq);

	mutex_lock(&srv->lock);
	xa_for_each(&srv->conns, id, conn)
		list_add_tail(&conn->node, &live);
	xa_destroy(&srv->conns);
	atomic_set(&srv->nr_active, 0);
	fastecho_sources_clear(&srv->sources);
	list_splice_init(&srv->spare, &idle);
	WRITE_ONCE(srv->nr_spare, 0);
	mutex_unlock(&srv->lock);

	/*
	 * Busy connections first: until they are shut down, they and their
	 * clients keep the CPUs, and the rest of teardown waits for one.
	 */
	list_for_each_entry_safe(conn, tmp, &live, node) {
		if (READ_ONCE(conn->st.quiet))
			continue;
		fastecho_net_shutdown(conn->sock);
		list_move_tail(&conn->node, &busy);
	}
	list_for_each_entry(conn, &live, node)
		fastecho_net_shutdown(conn->sock);
	list_splice(&busy, &live);
	list_for_each_entry(conn, &idle, node)
		wake_up_process(conn->task);
	list_splice(&idle, &live);
	list_for_each_entry_safe(conn, tmp, &live, node) {
		list_del(&conn->node);
		fastecho_conn_free(srv, conn);
	}

	trace_fastecho_server_stop(srv->net, &srv->bound);
	sock_release(srv->lsock);
	srv->lsock = NULL;
	srv->net = NULL;
}

/* ---- What fastecho_main.c and fastecho_stats.c ask of the server --------- */

/**
 * fastecho_server_set_limits() - apply new runtime limits
 * @srv: the server
 * @lim: the limits, already checked
 *
 * May be called at any time, before the server starts and after it
 * stops too. New max_conns and batch_conns apply at the next accept and
 * the next receive, idle_timeout to connections accepted from now on; a
 * lower spare_threads retires the spare threads beyond it at once.
 */
void fastecho_server_set_limits(struct fastecho_server *srv,
				const struct fastecho_limits *lim)
{
	mutex_lock(&srv->lock);
	WRITE_ONCE(srv->limits.max_conns, lim->max_conns);
	WRITE_ONCE(srv->limits.max_per_source, lim->max_per_source);
	WRITE_ONCE(srv->limits.idle_timeout, lim->idle_timeout);
	WRITE_ONCE(srv->limits.spare_threads, lim->spare_threads);
	WRITE_ONCE(srv->limits.batch_conns, lim->batch_conns);
	if (srv->running)
		fastecho_spare_trim(srv);
	mutex_unlock(&srv->lock);
}

/**
 * fastecho_server_stats() - a snapshot of the counters
 * @srv: the server
 * @st:  filled in; byte counts include the live connections
 */
void fastecho_server_stats(struct fastecho_server *srv,
			   struct fastecho_stats *st)
{
	struct fastecho_conn *conn;
	unsigned long id;

	st->active = atomic_read(&srv->nr_active);
	st->accepted = atomic64_read(&srv->accepted);
	st->rejected = atomic64_read(&srv->rejected);
	st->rejected_source = atomic64_read(&srv->rejected_source);
	st->idle_timeouts = atomic64_read(&srv->idle_timeouts);
	st->send_timeouts = atomic64_read(&srv->send_timeouts);
	st->resets = atomic64_read(&srv->resets);
	st->peer_timeouts = atomic64_read(&srv->peer_timeouts);
	st->errors = atomic64_read(&srv->errors);
	st->trims = atomic64_read(&srv->trims);
	st->spare = READ_ONCE(srv->nr_spare);
	mutex_lock(&srv->lock);
	st->listening = srv->up;
	if (st->listening)
		st->bound = srv->bound;
	mutex_unlock(&srv->lock);

	xa_lock(&srv->conns);
	st->bytes_in = srv->ended.bytes_in;
	st->bytes_out = srv->ended.bytes_out;
	st->bytes_dropped = srv->ended.dropped;
	st->bytes_copied = srv->ended.copied;
	xa_for_each(&srv->conns, id, conn) {
		st->bytes_in += READ_ONCE(conn->st.bytes_in);
		st->bytes_out += READ_ONCE(conn->st.bytes_out);
		st->bytes_copied += READ_ONCE(conn->st.copied);
	}
	xa_unlock(&srv->conns);
}

/**
 * fastecho_server_conn_info() - the first live connection from an id on
 * @srv:  the server
 * @id:   the smallest id wanted
 * @info: filled in when there is one
 *
 * Takes only the lock of @conns, for one lookup: a connection cannot end
 * (leave @conns) while it is held, so its fields stay its own.
 *
 * Return: true if @info was filled in.
 */
bool fastecho_server_conn_info(struct fastecho_server *srv, unsigned long id,
			       struct fastecho_conn_info *info)
{
	struct fastecho_conn *conn;

	xa_lock(&srv->conns);
	conn = xa_find(&srv->conns, &id, ULONG_MAX, XA_PRESENT);
	if (conn) {
		info->id = id;
		info->peer = conn->st.peer;
		info->bytes_in = READ_ONCE(conn->st.bytes_in);
		info->bytes_out = READ_ONCE(conn->st.bytes_out);
		info->age = (jiffies - conn->st.born) / HZ;
		info->pid = task_pid_nr(conn->task);
	}
	xa_unlock(&srv->conns);
	return conn;
}
