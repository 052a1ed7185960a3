#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Medians of the CSV lines of a guest-bench output, per workload and server.

    python3 medians.py guest.out

For each workload: the median msgs/s (MiB/s for bulk) and p99 of every
server, the rounds in brackets, then each fastecho variant (a server whose
name starts with "fe") divided by the better user-space server (epoll,
uring): higher is better for rates, lower for p99.
"""
import collections
import math
import statistics
import sys

runs = collections.defaultdict(list)
workloads, servers = [], []
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            if not line.startswith("CSV "):
                continue
            kv = dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)
            w, s = kv["workload"], kv["server"]
            rate = "mib_per_s" if w == "bulk" else "msgs_per_s"
            for m in (rate, "p99_us"):
                v = float(kv.get(m, "nan"))
                if not math.isnan(v):
                    runs[(w, s, m)].append(v)
            if w not in workloads:
                workloads.append(w)
            if s not in servers:
                servers.append(s)

for w in workloads:
    for m in ("msgs_per_s", "mib_per_s", "p99_us"):
        row = [(s, runs[(w, s, m)]) for s in servers if runs.get((w, s, m))]
        if not row:
            continue
        ref = [statistics.median(v) for s, v in row if s in ("epoll", "uring")]
        best = (min(ref) if m == "p99_us" else max(ref)) if ref else None
        cols = ["%s=%.0f(%s)" % (s, statistics.median(v),
                                 "/".join("%.0f" % x for x in v))
                for s, v in row]
        if best:
            cols.append("|")
            cols += ["%s:%.2f" % (s, statistics.median(v) / best)
                     for s, v in row if s.startswith("fe")]
        print(w, m, " ".join(cols))
