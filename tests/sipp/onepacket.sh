#!/bin/sh
# Requests that once stopped pinholed (a repeated Max-Forwards, SDP that
# sends sofia-sip's parser into an endless loop, answers forked back to a
# TCP client that has gone), each sent as it was: pinholed answers them
# as onepacket.py expects and still answers OPTIONS after each.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"

ph_start
timeout 60 python3 "$SIPP_DIR/onepacket.py" "$PH_IP" "$SIP_PORT" || fail "onepacket.py"
kill -0 "$PH_PID" 2>/dev/null || fail "pinholed has stopped"
