// SPDX-License-Identifier: GPL-2.0
/*
 * tcp-peek: a debugging aid for the soak's TCP stall (README, Known
 * issues), not part of fastecho. Loading it prints the TCP state of the
 * server end of the connection from 127.0.0.1:cport or [::1]:cport to port
 * 12345 (sequence numbers, packets in flight, timers, write queue) to the
 * kernel log, then fails on purpose (-EAGAIN) so that nothing stays loaded:
 *
 *   insmod tcp-peek.ko cport=40834; dmesg | grep PEEK
 *
 * Reading after the fact changes no timing, unlike tracing.
 */
#include <linux/module.h>
#include <net/inet_hashtables.h>
#include <net/inet6_hashtables.h>
#include <net/tcp.h>

static int cport;
module_param(cport, int, 0444);
MODULE_PARM_DESC(cport, "client port of the connection to show");

static int __init peek_init(void)
{
	__be32 lo = htonl(INADDR_LOOPBACK);
	struct inet_connection_sock *icsk;
	struct sk_buff *skb;
	struct tcp_sock *tp;
	struct sock *sk;
	int i = 0;

	sk = inet_lookup_established(&init_net, &tcp_hashinfo, lo,
				     htons(cport), lo, htons(12345), 0);
	if (!sk)
		sk = __inet6_lookup_established(&init_net, &tcp_hashinfo,
						&in6addr_loopback, htons(cport),
						&in6addr_loopback, 12345, 0, 0);
	if (!sk) {
		pr_info("PEEK no socket for %d\n", cport);
		return -ENOENT;
	}
	if (sk->sk_state == TCP_TIME_WAIT || sk->sk_state == TCP_NEW_SYN_RECV) {
		pr_info("PEEK mini socket state %d\n", sk->sk_state);
		sock_gen_put(sk);
		return -ENOENT;
	}
	tp = tcp_sk(sk);
	icsk = inet_csk(sk);
	local_bh_disable();
	bh_lock_sock(sk);
	pr_info("PEEK state %d shutdown %d err %d dead %d owned %d fam %d\n",
		sk->sk_state, sk->sk_shutdown, sk->sk_err,
		sock_flag(sk, SOCK_DEAD), sk->sk_lock.owned, sk->sk_family);
	pr_info("PEEK wmem_queued %d sndbuf %d wmem_alloc %d fwd_alloc %d tsq %lx pacing %d memory_pressure %d\n",
		sk->sk_wmem_queued, sk->sk_sndbuf,
		refcount_read(&sk->sk_wmem_alloc), sk->sk_forward_alloc,
		sk->sk_tsq_flags, sk->sk_pacing_status,
		tcp_under_memory_pressure(sk));
	pr_info("PEEK una %u nxt %u write_seq %u pushed %u (rel nxt %u ws %u) wnd %u max_window %u wl1 %u rcv_nxt %u rcv_wnd %u\n",
		tp->snd_una, tp->snd_nxt, tp->write_seq, tp->pushed_seq,
		tp->snd_nxt - tp->snd_una, tp->write_seq - tp->snd_una,
		tp->snd_wnd, tp->max_window, tp->snd_wl1, tp->rcv_nxt,
		tp->rcv_wnd);
	pr_info("PEEK packets_out %u sacked %u lost %u retrans %u cwnd %u ssthresh %u tlp_high %u nonagle %u mss %u repair %u\n",
		tp->packets_out, tp->sacked_out, tp->lost_out, tp->retrans_out,
		tcp_snd_cwnd(tp), tp->snd_ssthresh, tp->tlp_high_seq,
		tp->nonagle, tp->mss_cache, tp->repair);
	pr_info("PEEK lsndtime %d ago rcv_tstamp %d ago srtt_us %u rto %u pending %u timeout_in %ld timer_pending %d ca_state %u backoff %u probes %u retransmits %u pacing_timer %d\n",
		(int)(tcp_jiffies32 - tp->lsndtime),
		(int)(tcp_jiffies32 - tp->rcv_tstamp), tp->srtt_us,
		icsk->icsk_rto, icsk->icsk_pending,
		(long)(icsk->icsk_timeout - jiffies),
		timer_pending(&icsk->icsk_retransmit_timer),
		icsk->icsk_ca_state, icsk->icsk_backoff,
		icsk->icsk_probes_out, icsk->icsk_retransmits,
		hrtimer_active(&tp->pacing_timer));
	pr_info("PEEK rtx_empty %d write_q %u ack_pending %u\n",
		tcp_rtx_queue_empty(sk), skb_queue_len(&sk->sk_write_queue),
		icsk->icsk_ack.pending);
	skb_queue_walk(&sk->sk_write_queue, skb) {
		if (i++ < 12 || skb_queue_is_last(&sk->sk_write_queue, skb))
			pr_info("PEEK wq[%d] seq %u end %u (rel %u..%u) len %u flags %x pcount %u eor %u\n",
				i - 1, TCP_SKB_CB(skb)->seq,
				TCP_SKB_CB(skb)->end_seq,
				TCP_SKB_CB(skb)->seq - tp->snd_una,
				TCP_SKB_CB(skb)->end_seq - tp->snd_una,
				skb->len, TCP_SKB_CB(skb)->tcp_flags,
				tcp_skb_pcount(skb), TCP_SKB_CB(skb)->eor);
	}
	skb = skb_rb_first(&sk->tcp_rtx_queue);
	if (skb)
		pr_info("PEEK rtx first seq %u end %u len %u\n",
			TCP_SKB_CB(skb)->seq, TCP_SKB_CB(skb)->end_seq, skb->len);
	bh_unlock_sock(sk);
	local_bh_enable();
	sock_gen_put(sk);
	return -EAGAIN;
}
module_init(peek_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("print the TCP state of one fastecho connection");
