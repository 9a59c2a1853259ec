#!/bin/sh
# RFC 5626 at the registrar (outbound.py): Require: outbound and, over
# TCP, Flow-Timer (flow_timer) in the 200 OK to an outbound REGISTER.
# A phone's reaction to them across a restart: tests/lab/flowtimer.sh.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"

ph_start -o flow_timer=25
timeout 20 python3 "$SIPP_DIR/outbound.py" "$PH_IP" "$SIP_PORT" 25 ||
	fail "outbound.py"
