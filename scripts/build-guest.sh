#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-guest.sh: compile the guest's user-space programs (tests/*.c and
# tools/*.c) into static binaries in build/guest-bin/<basename>.
#
# A binary is rebuilt only when its source, or a header it includes with
# quotes from its own directory (tools/echo-epoll.h, and echo-server.h
# that it includes), is newer. Headers are
# not programs: only *.c is compiled. Sources that include <liburing.h> are
# linked with -luring, those that include <bpf/libbpf.h> with libbpf (and
# the libelf and zlib it needs), all statically. BPF programs (*.bpf.c) are
# compiled with clang -target bpf into build/guest-bin/<name>.bpf.o, next to
# the program that loads them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/build/guest-bin
mkdir -p "$out"
cc=${CC:-gcc}

shopt -s nullglob
status=0
for src in "$root"/tools/*.bpf.c; do
	obj=$out/$(basename "$src" .c).o
	[[ "$obj" -nt "$src" ]] && continue
	echo "  CLANG [bpf] $(basename "$obj")" >&2
	if ! nice clang -O2 -g -target bpf -Wall \
		-I/usr/include/"$(gcc -print-multiarch)" -c -o "$obj" "$src"; then
		echo "build-guest.sh: failed to build $src" >&2
		rm -f "$obj"
		status=1
	fi
done
for src in "$root"/tests/*.c "$root"/tools/*.c; do
	[[ $src == *.bpf.c ]] && continue
	bin=$out/$(basename "$src" .c)
	# the source and the quoted headers it includes, theirs too
	deps=("$src")
	for ((i = 0; i < ${#deps[@]}; i++)); do
		for h in $(sed -n 's/^#include "\(.*\)"/\1/p' "${deps[i]}"); do
			[[ " ${deps[*]} " == *" $(dirname "$src")/$h "* ]] ||
				deps+=("$(dirname "$src")/$h")
		done
	done
	fresh=1
	for dep in "${deps[@]}"; do
		[[ "$bin" -nt "$dep" ]] || fresh=0
	done
	((fresh)) && continue
	libs=()
	grep -q '#include <liburing.h>' "$src" && libs+=(-luring)
	grep -q '#include <bpf/libbpf.h>' "$src" && libs+=(-lbpf -lelf -lz)
	echo "  CC [guest] $(basename "$bin")" >&2
	if ! nice "$cc" -O2 -static -pthread -Wall -Wextra -o "$bin" "$src" "${libs[@]}"; then
		echo "build-guest.sh: failed to build $src" >&2
		rm -f "$bin"
		status=1
	fi
done
exit $status
