#!/bin/sh
# Bindings expire by the clock (expiry.py): pinholed's once-a-second tick.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"

ph_start -o min_expires=1
timeout 30 python3 "$SIPP_DIR/expiry.py" "$PH_IP" "$SIP_PORT" || fail "expiry.py"
