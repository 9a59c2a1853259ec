#!/bin/sh
# A REGISTER lifecycle against the real pinholed over UDP, TCP and IPv6.
. "${top_srcdir:-.}/tests/sipp/lib.sh"

ph_start
sipp_run register.xml -t u1
sipp_run register.xml -t t1
grep -q 'REGISTER alice@example.com from 127.0.0.1:[0-9]*/tcp: 200' "$WORK/pinholed.log" ||
	fail "no TCP registration in the log"

if ip -6 addr show lo 2>/dev/null | grep -q '::1/128'; then
	ph_cleanup_v4() { kill "$PH_PID"; wait "$PH_PID" 2>/dev/null; PH_PID=; }
	ph_cleanup_v4
	PH_IP=::1
	ph_start
	sipp_run register.xml -t u1
	grep -q 'REGISTER alice@example.com from \[::1\]:[0-9]*/udp: 200' "$WORK/pinholed.log" ||
		fail "no IPv6 registration in the log"
else
	echo "note: no ::1 on this host, IPv6 part not run"
fi
