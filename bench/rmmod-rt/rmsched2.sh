#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# rmsched.sh for batch_conns 2, 0, 2, 0 (see README.md here)
for b in 2 0 2 0; do echo "=== batch_conns=$b"; B=$b sh /fe/tests/rmsched.sh; done
