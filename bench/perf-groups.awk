# SPDX-License-Identifier: GPL-2.0
#
# perf-groups.awk: the PPERF lines of bench/guest-profile.sh parts=ppperf
# (one or more runs) as guest instructions per echoed message, by group of
# symbols, for each server and connection count. Meant for a guest on the
# instruction clock (scripts/vm.sh --icount), where 1 µs of guest time is
# 1000 instructions:
#
#   awk -v ref=bench/results-insn.csv -f bench/perf-groups.awk bench/profile-insn.txt
#
# Per label (server, connections): samples, then each group's share of the
# busy samples (idle left out) and its instructions per message, split into
# the client task (fastecho-bench) and everything else ("server side": the
# server's threads, kernel workers, softirq outside the client). The
# instructions per message are the share times the guest's busy time per
# message of the same server and load in ref (a results-insn.csv: busy_s /
# msgs, measured without perf), or, without ref, of the profiled run itself
# (1 / msgs_per_s, perf's own cost included). The groups are by symbol
# name, first match wins (see group()); "other" is what no pattern names.
# -v nouser=1 leaves the client's user-space samples out altogether (with
# guest-profile.sh jitter=N they are mostly its spin loop).

function group(sym, dso) {
	if (dso !~ /kernel|\[fastecho\]/) return "user space"
	if (dso ~ /\[fastecho\]/ || sym ~ /^fastecho_/) return "fastecho's own code"
	if (sym ~ /^(memset|__memset|clear_page|clear_user|__clear_user)/) return "memset and clear (rep stos)"
	if (sym ~ /^(copy_user|_copy_to_iter|_copy_from_iter|copyin|copyout|memcpy|__memcpy|memmove|skb_copy_datagram|__skb_datagram_iter|simple_copy_to_iter|csum_partial_copy|copy_page)/) return "copy"
	if (sym ~ /(sched_setscheduler|setscheduler|set_user_nice|sched_set_|__sched_setattr|check_class_changed|switched_to_|switched_from_|prio_changed|set_load_weight|reweight_task)/) return "scheduler policy calls"
	if (sym ~ /^(native_queued_spin|queued_spin|_raw_spin|_raw_read|_raw_write|lock_sock|release_sock|__release_sock|__lock_sock|__local_bh_enable|local_bh|preempt_count|__rcu_read|rcu_read|refcount|atomic|mutex_|up_read|down_read|up_write|down_write)/) return "locks and atomics"
	if (sym ~ /(schedule|switch_to|switch_mm|finish_task_switch|context_switch|try_to_wake_up|ttwu|wake_up|wake_q|enqueue_task|dequeue_task|enqueue_entity|dequeue_entity|pick_next|put_prev|set_next_entity|update_curr|update_load_avg|__update_load|update_cfs|update_min_vruntime|check_preempt|resched|select_task_rq|select_idle|place_entity|psi_|sched_clock|native_sched_clock|wait_woken|woken_wake_function|prepare_to_wait|finish_wait|autoremove_wake|sock_def_readable|sk_stream_write_space|ep_poll_callback|default_wake_function|__calc_delta|update_rq_clock|reweight_entity|avg_vruntime|account_|cpuacct|cgroup_rstat|perf_event_task|__traceiter_sched|kthread_|sk_wait_data|sk_stream_wait|_raw_spin_rq|raw_spin_rq|rq_|__switch|__enqueue|__dequeue|check_spread|hrtick|pick_eevdf|yield_task|task_tick|wakeup_preempt|set_task_cpu|migrate|__wrgsbase|save_fpregs|restore_fpregs|fpregs|switch_fpu|load_new_mm|cr4_|native_write_cr3|flush_tlb|tlb_)/) return "wakeup and switch"
	if (sym ~ /^(entry_SYSCALL|syscall_|do_syscall|__x64_sys|__sys_|__do_sys|sock_sendmsg|sock_recvmsg|____sys|sys_|security_|apparmor_|aa_|fdget|__fdget|__fget|fput|__fput|import_single_range|import_iovec|move_addr|exit_to_user|syscall_exit|__audit|audit|ksys_|sockfd_lookup|__check_object_size|check_heap_object|__virt_addr_valid|__check_heap|rw_verify_area|irqentry|error_entry|error_return|native_irq_return|restore_regs|entry_|fpregs_assert|switch_fpu_return|arch_exit_to_user|exit_to_user_mode|__rseq|rseq_)/) return "system calls and entry"
	if (sym ~ /^(ep_|do_epoll|__ep|epoll|io_|__io_|io_uring|splice|do_splice|__splice|pipe_|generic_pipe|anon_pipe|sk_psock|sk_skb|bpf_|__bpf|sock_map|sock_hash|skb_send_sock|tcp_bpf|sk_msg|__sk_msg|__x86_indirect|\[unknown\])/) return "event loop, splice, io_uring, sockmap"
	if (sym ~ /^(tcp_sendmsg|tcp_sendpage|do_tcp_sendpages|tcp_push|__tcp_push|tcp_write_xmit|__tcp_transmit_skb|tcp_transmit_skb|tcp_send_|__tcp_send|tcp_stream_alloc|tcp_skb_entail|skb_entail|tcp_event_new_data|tcp_rate_|tcp_established_options|tcp_options_write|tcp_schedule_loss|tcp_chrono|tcp_wfree|tcp_small_queue|tcp_current_mss|tcp_send_mss|tcp_mtu|tcp_tso|tcp_mstamp|tcp_check_space|tcp_new_space|sk_stream_|sk_page_frag|skb_page_frag|tcp_build_frag|skb_append_pagefrags|ip_queue_xmit|__ip_queue_xmit|ip_output|ip_finish_output|__ip_finish_output|ip_local_out|__ip_local_out|ip6_|dst_|__dev_queue_xmit|dev_queue_xmit|dev_hard_start_xmit|loopback_xmit|netif_rx|__netif_rx|enqueue_to_backlog|validate_xmit|sch_direct|qdisc|pfifo|netdev_core_pick_tx|skb_clone_tx|eth_type_trans|eth_header|neigh_|nf_hook|ipv4_conntrack|tcp_v4_send_check|__tcp_v4_send_check|sk_reset_timer|sk_forced_mem|__sk_mem|sk_mem|tcp_wmem|tcp_event_ack_sent|inet_sendmsg|inet_sendpage|kernel_sendmsg|tcp_tsq)/) return "TCP tx"
	if (sym ~ /^(tcp_v4_rcv|tcp_v4_do_rcv|tcp_rcv|tcp_ack|tcp_data_queue|tcp_queue_rcv|tcp_event_data_recv|tcp_validate_incoming|tcp_urg|tcp_clean_rtx|tcp_rearm_rto|tcp_recvmsg|tcp_cleanup_rbuf|__tcp_cleanup_rbuf|tcp_read_sock|tcp_splice|tcp_rcv_space|tcp_measure_rcv|tcp_update_|tcp_in_|tcp_fast_path|tcp_parse|tcp_filter|tcp_v4_fill|tcp_add_backlog|tcp_grow_window|tcp_try_coalesce|tcp_newly_delivered|tcp_sack|tcp_check_sack|tcp_set_|tcp_ack_|tcp_sync_mss|tcp_rtt|tcp_enter|tcp_mark|tcp_undo|tcp_fastretrans|tcp_try_rmem|tcp_init_|tcp_ooo|tcp_done|tcp_fin|__inet_lookup|inet_lookup|inet_ehashfn|ip_rcv|ip_list_rcv|ip_sublist|ip_local_deliver|ip_protocol_deliver|ip_route_input|ip_rcv_finish|__netif_receive|netif_receive|__netif_receive_skb|process_backlog|net_rx_action|__napi_poll|napi_|do_softirq|__do_softirq|handle_softirqs|run_ksoftirqd|irq_exit|__irq_exit|skb_release|__kfree_skb|kfree_skb|consume_skb|kfree_skbmem|skb_free_head|__skb_clone|skb_clone|skb_attempt_defer|__build_skb|__alloc_skb|alloc_skb|kmalloc_reserve|__napi_alloc|skb_try_coalesce|sock_rfree|inet_recvmsg|kernel_recvmsg|sk_filter|sk_add_backlog|tcp_poll|sock_poll|skb_condense|__skb_checksum|skb_csum|csum_|raw_v4|__xfrm|xfrm|bpf_skb|sk_reuseport|security_sock_rcv|tcp_inbound|inet_ehash|ipv4_dst|dst_release|sk_stream_rfree)/) return "TCP rx and skb"
	if (sym ~ /^(kmem_cache|kfree|__kmalloc|kmalloc|__slab|___slab|slab_|__kmem|page_frag|__page_frag|get_page_from|__alloc_pages|free_unref|free_pcp|__free_pages|rmqueue|mod_memcg|memcg|__mod_memcg|obj_cgroup|refill_obj|consume_obj|drain_obj|__memcg|mem_cgroup|__mod_lruvec|mod_objcg|__mod_node)/) return "memory allocation"
	if (sym ~ /^(timer|__mod_timer|mod_timer|hrtimer|__hrtimer|tick_|ktime|read_tsc|clockevents|lapic|__sysvec|sysvec|run_timer|__run_timer|call_timer|update_process_times|perf_|__perf|native_apic|x2apic|rcu_|__rcu|note_gp|default_idle|arch_cpu_idle|cpuidle|do_idle|cpu_startup|native_safe_halt|acpi_idle|poll_idle|__cond_resched|_cond_resched|irq_|handle_irq|__handle_irq|sched_tick|scheduler_tick)/) return "timers, interrupts, idle, perf"
	return "other"
}

BEGIN {
	FS = " "
	if (ref != "") {
		while ((getline line < ref) > 0) {
			n = split(line, f, ",")
			if (!hdr) { for (i = 1; i <= n; i++) col[f[i]] = i; hdr = 1; continue }
			if (f[2] !~ /^pp/ || f[col["msgs"]] <= 0) continue
			refns["server=" f[3] " conns=" substr(f[2], 3)] = f[col["busy_s"]] * 1e9 / f[col["msgs"]]
		}
	}
}

/^PPERF / {
	lbl = $2 " " $3
	if (!(lbl in seen)) { seen[lbl] = 1; order[nl++] = lbl }
	if ($4 == "samples") { samples[lbl] = $5; next }
	if ($4 ~ /^mode=/) {
		for (i = 4; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "msgs_per_s") rate[lbl] = kv[2]
		}
		next
	}
	if ($4 == "stat_ticks") {
		for (i = 5; i <= NF; i++) { split($i, kv, "="); st[lbl, kv[1]] = kv[2] }
		next
	}
	if ($4 != "sym") next
	# sym PCT COMM DSO [k]/[.] SYMBOL...
	pct = $5; sub(/%/, "", pct)
	comm = $6; dso = $7
	sym = $9
	g = group(sym, dso)
	if (comm == "swapper" && sym ~ /(safe_halt|default_idle|cpu_idle|do_idle|acpi_idle)/) { idlepct[lbl] += pct; next }
	side = comm == "fastecho-bench" ? "client" : "server"
	if (nouser && side == "client" && g == "user space") next
	share[lbl, g, side] += pct
	tot[lbl, side] += pct
	groups[g] = 1
	symsum[lbl, side, sym] += pct
	if (!((lbl, side, sym) in symseen)) { symseen[lbl, side, sym] = 1; syms[lbl, side, ++nsyms[lbl, side]] = sym }
}

END {
	ng = 0
	for (g in groups) gl[ng++] = g
	for (i = 1; i < ng; i++)
		for (j = i; j > 0 && gl[j - 1] > gl[j]; j--) { t = gl[j]; gl[j] = gl[j - 1]; gl[j - 1] = t }
	for (n = 0; n < nl; n++) {
		l = order[n]
		busy = st[l, "busy1"] - st[l, "busy0"]
		idle = st[l, "idle1"] - st[l, "idle0"]
		bf = busy + idle > 0 ? busy / (busy + idle) : 1
		# busy guest ns (= instructions) per message
		src = "ref"
		npm = refns[l]
		if (npm == "") { npm = rate[l] > 0 ? 1e9 / rate[l] * bf : 0; src = "this run" }
		b = tot[l, "client"] + tot[l, "server"]
		if (b <= 0) b = 100
		printf "%s: %s samples (%.1f %% idle), %.0f msgs/s under perf; %.0f instructions per message (%s): client task %.1f %%, the rest %.1f %% of the busy samples\n",
			l, samples[l], idlepct[l], rate[l], npm, src, tot[l, "client"] * 100 / b, tot[l, "server"] * 100 / b
		printf "  %-40s %8s %8s %10s %10s\n", "group", "client%", "rest%", "client i/m", "rest i/m"
		for (i = 0; i < ng; i++) {
			g = gl[i]
			c = share[l, g, "client"] * 100 / b; s = share[l, g, "server"] * 100 / b
			if (c + s < 0.05) continue
			printf "  %-40s %8.1f %8.1f %10.0f %10.0f\n", g, c, s, c / 100 * npm, s / 100 * npm
		}
		for (k = 0; k < 2; k++) {
			sd = k ? "server" : "client"
			m = nsyms[l, sd]
			for (i = 1; i <= m; i++) { ts[i] = syms[l, sd, i]; tv[i] = symsum[l, sd, ts[i]] }
			for (i = 2; i <= m; i++)
				for (j = i; j > 1 && tv[j - 1] < tv[j]; j--) {
					t = tv[j]; tv[j] = tv[j - 1]; tv[j - 1] = t
					t = ts[j]; ts[j] = ts[j - 1]; ts[j - 1] = t
				}
			out = ""
			for (i = 1; i <= m && i <= 10; i++)
				out = out sprintf("%s%s %.1f%%", i > 1 ? ", " : "", ts[i], tv[i] * 100 / b)
			printf "  top symbols, %s: %s\n", sd == "client" ? "client task" : "the rest", out
		}
	}
}
