#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# rmmod_under_fire again and again in one boot (see README.md here)
for i in 1 2 3; do
  for b in 2 0; do
    echo "=== round $i batch_conns=$b"
    RM_EXTRA=batch_conns=$b sh /fe/tests/suite.sh --only rmmod_under_fire 2>&1 | grep -E "rmmod took|^ok|^not ok|before rmmod"
    dmesg | grep TIMING | tail -2 | head -1
  done
done
