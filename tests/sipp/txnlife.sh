#!/bin/sh
# Late retransmissions after pinholed has let a call's transactions go
# (txnlife.py, issue 12): a 200 to the INVITE, 6 s on, reaches the caller
# with the SDP of the first; a BYE retransmitted 6 s after its 200 is
# answered 200.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
[ "${PH_IP:-127.0.0.1}" = 127.0.0.1 ] || skip "needs PH_IP 127.0.0.1"

ph_start -o domains=127.0.0.1
timeout 30 python3 "$SIPP_DIR/txnlife.py" "$PH_IP" "$SIP_PORT" ||
	fail "txnlife.py"
