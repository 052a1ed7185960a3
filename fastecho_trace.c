// SPDX-License-Identifier: GPL-2.0
/*
 * fastecho: the one file that creates the module's trace events
 * (declared in fastecho_trace.h). Every other file includes the header
 * without CREATE_TRACE_POINTS and only calls trace_fastecho_*().
 */
#define CREATE_TRACE_POINTS
#include "fastecho_trace.h"
