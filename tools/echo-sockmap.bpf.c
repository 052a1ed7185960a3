// SPDX-License-Identifier: GPL-2.0
/*
 * echo-sockmap.bpf.c: the BPF half of echo-sockmap. An sk_skb stream
 * verdict program, attached to the SOCKHASH below: every skb a socket in
 * the map receives is redirected to the egress of the socket it arrived
 * on, found in the map by its own cookie. The data never leaves the
 * kernel, and no user-space thread wakes up for it.
 *
 * Built with clang -O2 -g -target bpf; loaded by echo-sockmap.c with
 * libbpf. No CO-RE, no BTF of the kernel needed.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Key: the socket's cookie (SO_COOKIE). Value: its fd, at update time. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} echo_socks SEC(".maps");

SEC("sk_skb/stream_verdict")
int echo_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);

	/* flags 0: to the socket's egress; SK_DROP if it is not in the map */
	return bpf_sk_redirect_hash(skb, &echo_socks, &cookie, 0);
}

char _license[] SEC("license") = "GPL";
