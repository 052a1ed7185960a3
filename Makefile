# SPDX-License-Identifier: GPL-2.0
#
# fastecho: build the module with kbuild, and drive the QEMU harness.
#
#   make                 build fastecho.ko against KDIR
#   make check           run the test suite in a QEMU guest (KERNEL=6.1 by default;
#                        FULL=1: every case on every boot)
#   make check-debug     the debug kernel's cases and the fault-injection lane
#                        (FULL=1: the whole suite there)
#   make check-run       test make run from the host (forwarded port, guest shell)
#   make lint            checkpatch --strict, sparse, W=1, clang-format,
#                        shellcheck
#   make run             boot a guest with fastecho loaded, host port forwarded
#   make bench           benchmark against user-space epoll and io_uring servers
#                        (CLOCK=insn: under QEMU's instruction clock)
#
# On a host whose running kernel has headers, KDIR is that kernel's build
# tree. Elsewhere (our build machines cannot load modules) it is the Debian
# headers matching the kernel the test VM boots.

KERNEL ?= 6.1
ARGS ?=

ifeq ($(origin KDIR),undefined)
KDIR := $(wildcard /lib/modules/$(shell uname -r)/build)
ifeq ($(KDIR),)
KDIR := $(shell scripts/kernel.sh kdir $(KERNEL) 2>/dev/null)
endif
endif

.PHONY: all modules clean setup check check-matrix check-debug check-run lint run \
	bench load unload install

all: modules

modules:
	@test -n "$(KDIR)" -a -d "$(KDIR)" || { \
	  echo "fastecho: no kernel build tree found." >&2; \
	  echo "  Install the headers: apt-get install linux-headers-amd64" >&2; \
	  echo "  (or run: scripts/setup.sh), or pass KDIR=/path/to/build" >&2; \
	  exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf build

setup:
	scripts/setup.sh

check:
	scripts/check.sh --kernel $(KERNEL) $(if $(T),--only "$(T)") $(if $(FULL),--full)

check-matrix:
	scripts/check.sh --matrix $(if $(T),--only "$(T)")

check-debug:
	scripts/check.sh --kernel debug $(if $(T),--only "$(T)") $(if $(FULL),--full)

# make run, driven end to end from the host (port forward, shell, unload).
check-run:
	scripts/run-check.sh

lint:
	scripts/lint.sh

run:
	scripts/run.sh --kernel $(KERNEL) -- $(ARGS)

bench:
	scripts/bench.sh $(if $(CLOCK),--clock $(CLOCK)) $(BENCH_ARGS)

# Thin wrappers for a real host (run as root). The release is the one the
# headers were built for (Debian's kernelrelease target says 6.1.192, not
# 6.1.0-56-amd64).
KRELEASE = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)

load: modules
	insmod $(CURDIR)/fastecho.ko $(ARGS)

unload:
	rmmod fastecho

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KRELEASE)
