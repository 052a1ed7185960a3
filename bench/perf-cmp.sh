#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# perf-cmp.sh FILE COLUMN LABEL1 LABEL2 [N]: instructions per unit of the
# PPDIFF lines in FILE (bench/perf-diff.awk -v tsv=1), label 2 against label
# 1: every group, then the N (25) symbols that differ most. COLUMN: all,
# srv (all tasks but the client) or cli. A label is the "server=... mode=...
# size=..." of perf-diff.awk, e.g.
#   bench/perf-cmp.sh bench/ppdiff-pp.txt srv 'server=fastecho mode=pp size=32' \
#       'server=fastecho mode=pp size=1000'
set -eu
f=$1 col=$2 a=$3 b=$4 n=${5:-25}
d=$(dirname "$0")
awk -v tsv=1 -f "$d/perf-groups.awk" -f "$d/perf-diff.awk" "$f" |
	awk -F '\t' -v a="$a" -v b="$b" -v col="$col" -v n="$n" '
	BEGIN { c = col == "all" ? 4 : (col == "srv" ? 5 : 6) }
	$1 == a || $1 == b {
		k = $2 "\t" $3
		if (!(k in seen)) { seen[k] = 1; keys[nk++] = k }
		if ($1 == a) va[k] = $c; else vb[k] = $c
	}
	END {
		printf "%-9s %-44s %9s %9s %9s\n", "kind", "name (" col ")", "1", "2", "2 - 1"
		for (i = 0; i < nk; i++) {
			split(keys[i], kn, "\t")
			if (kn[1] == "sym") continue
			printf "%-9s %-44s %9d %9d %9d\n", kn[1], kn[2], va[keys[i]], vb[keys[i]], vb[keys[i]] - va[keys[i]]
		}
		for (j = 0; j < n; j++) {
			best = ""
			for (i = 0; i < nk; i++) {
				k = keys[i]; split(k, kn, "\t")
				if (kn[1] != "sym" || (k in used)) continue
				dv = vb[k] - va[k]; if (dv < 0) dv = -dv
				if (best == "" || dv > bd) { best = k; bd = dv }
			}
			if (best == "") break
			used[best] = 1; split(best, kn, "\t")
			printf "%-9s %-44s %9d %9d %9d\n", "sym", substr(kn[2], 1, 44), va[best], vb[best], vb[best] - va[best]
		}
	}'
