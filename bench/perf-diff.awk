# SPDX-License-Identifier: GPL-2.0
#
# perf-diff.awk: the PPDIFF lines of bench/guest-profile.sh parts=ppdiff as
# guest instructions per unit of work (message, connection or MiB) by
# symbol and by group (bench/perf-groups.awk's groups), for every server,
# mode and size, from the difference of its two runs:
#
#   awk -f bench/perf-groups.awk -f bench/perf-diff.awk bench/ppdiff-pp.txt
#
# On the instruction clock the runs of one server and size differ only in
# the length of the measured window, so the samples of run 2 less those of
# run 1 are those of the extra work: the connects, the warm-up and the
# closes cancel. A sample is worth the guest time between samples,
# ns_per_sample = (window 2 - window 1) / (samples 2 - samples 1) in ns, one
# instruction each (ping-pong and cec keep the CPU busy; in bulk the idle
# samples count as samples too, so this holds as well). Per symbol and
# task kind ("all" tasks, "cli" the client, "srv" all less the client):
#   instructions per unit = (n2 - n1) * ns_per_sample / (units2 - units1)
# Options: -v top=N symbols per label (40), -v show=groups|syms|both (both),
# -v only=REGEX labels to print (all). The per-symbol differences carry
# the sampling noise of a count: about sqrt(n1 + n2) samples.

function unitsof(r,    m, u) {
	if (r ~ /mode=bulk/) { m = r; sub(/.* bytes=/, "", m); sub(/ .*/, "", m); return m / 1048576 }
	m = r; sub(/.* msgs=/, "", m); sub(/ .*/, "", m); return m + 0
}
function winof(r,    w) {
	if (r ~ /mode=bulk/) { w = r; sub(/.* secs=/, "", w); sub(/ .*/, "", w); return w + 0 }
	w = r; sub(/.* win_s=/, "", w); sub(/ .*/, "", w); return w + 0
}

/^PPDIFF / {
	key = $2 " " $3 " " $4; d = $5; sub(/^d=/, "", d)
	if (!(key in seenk)) { seenk[key] = 1; keys[nk++] = key }
	if (!((key, d) in seend)) { seend[key, d] = 1; ds[key, nd[key]++] = d }
	if ($6 == "result") { res[key, d] = $0; next }
	if ($6 == "lost") { lost[key] = lost[key] " " $0; next }
	who = $6
	if ($7 == "samples") { ptot[key, d, who] = $8 + 0; next }
	if ($7 == "n") {
		sym = $9
		for (i = 10; i <= NF; i++) sym = sym " " $i
		dso = $9; s = $NF
		cnt[key, d, who, sym] = $8 + 0
		if (!((key, sym) in seens)) { seens[key, sym] = 1; syms[key, ns[key]++] = sym; sdso[key, sym] = dso; sname[key, sym] = s }
	}
}

END {
	if (top == "") top = 40
	if (show == "") show = "both"
	for (k = 0; k < nk; k++) {
		key = keys[k]
		if (only != "" && key !~ only) continue
		if (nd[key] != 2) { printf "%s: %d runs, want 2\n", key, nd[key]; continue }
		d1 = ds[key, 0]; d2 = ds[key, 1]
		if (d1 + 0 > d2 + 0) { t = d1; d1 = d2; d2 = t }
		du = unitsof(res[key, d2]) - unitsof(res[key, d1])
		dw = (winof(res[key, d2]) - winof(res[key, d1])) * 1e9
		dn = ptot[key, d2, "all"] - ptot[key, d1, "all"]
		if (du <= 0 || dn <= 0) { printf "%s: no difference\n", key; continue }
		nsps = dw / dn
		unit = key ~ /mode=bulk/ ? "MiB" : (key ~ /mode=cec/ ? "conn" : "msg")
		printf "== %s: units %.0f (%s), samples %d, ns/sample %.0f, instructions/%s: all %.0f, client %.0f%s\n",
			key, du, unit, dn, nsps, unit, dn * nsps / du,
			(ptot[key, d2, "cli"] - ptot[key, d1, "cli"]) * nsps / du,
			(key in lost) ? " LOST:" lost[key] : ""
		delete gs
		delete gl
		n = 0
		for (i = 0; i < ns[key]; i++) {
			sym = syms[key, i]
			a = cnt[key, d2, "all", sym] - cnt[key, d1, "all", sym]
			c = cnt[key, d2, "cli", sym] - cnt[key, d1, "cli", sym]
			v[n] = a; vs[n] = sym; vc[n] = c; n++
			gr = group(sname[key, sym], sdso[key, sym])
			gs[gr, "all"] += a; gs[gr, "cli"] += c
			if (!(gr in gl)) { gl[gr] = 1; gn[ngr++] = gr }
		}
		if (tsv) {
			# one line per symbol and per group: label, kind, name,
			# instructions per unit of all tasks, server side, client
			for (i = 0; i < n; i++)
				printf "%s\tsym\t%s\t%.0f\t%.0f\t%.0f\n", key, vs[i], v[i] * nsps / du,
					(v[i] - vc[i]) * nsps / du, vc[i] * nsps / du
			for (i = 0; i < ngr; i++)
				printf "%s\tgroup\t%s\t%.0f\t%.0f\t%.0f\n", key, gn[i], gs[gn[i], "all"] * nsps / du,
					(gs[gn[i], "all"] - gs[gn[i], "cli"]) * nsps / du, gs[gn[i], "cli"] * nsps / du
			printf "%s\ttotal\ttotal\t%.0f\t%.0f\t%.0f\n", key, dn * nsps / du,
				(dn - (ptot[key, d2, "cli"] - ptot[key, d1, "cli"])) * nsps / du,
				(ptot[key, d2, "cli"] - ptot[key, d1, "cli"]) * nsps / du
			delete gn; ngr = 0
			continue
		}
		if (show != "syms") {
			for (i = 0; i < ngr; i++) {
				gr = gn[i]
				printf "group %-40s all %7.0f srv %7.0f cli %7.0f\n", gr,
					gs[gr, "all"] * nsps / du, (gs[gr, "all"] - gs[gr, "cli"]) * nsps / du,
					gs[gr, "cli"] * nsps / du
			}
			delete gn; ngr = 0
		}
		if (show != "groups") {
			# the top symbols by |all| difference
			for (j = 0; j < top && j < n; j++) {
				b = -1
				for (i = 0; i < n; i++) if (!(i in used) && (b < 0 || (v[i] < 0 ? -v[i] : v[i]) > (v[b] < 0 ? -v[b] : v[b]))) b = i
				used[b] = 1
				printf "sym %7.0f srv %7.0f cli %7.0f  %s\n", v[b] * nsps / du,
					(v[b] - vc[b]) * nsps / du, vc[b] * nsps / du, vs[b]
			}
			delete used
		}
	}
}
