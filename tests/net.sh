#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# net.sh: placeholder
