#!/bin/sh
# kill -9 under REGISTER load, then a restart on the same store file: every
# binding that got a 200 OK is there, whole, and none that got no answer is
# half there (durable.py). SIPp adds its own load of other AoRs meanwhile;
# they count too: after the restart at least as many AoRs come back as
# got a 200 from either.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
N=10000 KILL_AT=5000 SIPP_N=8000

# the load comes from one address: no per-source share
ONE_SOURCE="-o max_bindings_per_source=0 -o max_requests_per_source=0"
ph_start -o "store_path=$WORK/bindings.db" -o log_level=info $ONE_SOURCE
"$top_srcdir/tests/bench/anchors/gen_users.sh" "$SIPP_N" "$WORK" >/dev/null
lp=$(free_base 1) || fail "no free port for SIPp"
timeout 20 sipp "$PH_IP:$SIP_PORT" -sf "$top_srcdir/tests/bench/anchors/register.xml" \
	-inf "$WORK/users_$SIPP_N.csv" -r 2000 -m "$SIPP_N" -i "$PH_IP" -p "$lp" \
	-timeout 6s -nostdin >"$WORK/sipp-out.log" 2>&1 &
SIPP_PID=$!
sleep 0.5
timeout 25 python3 "$SIPP_DIR/durable.py" load "$PH_IP" "$SIP_PORT" "$PH_PID" \
	"$N" "$KILL_AT" "$WORK/acked" || fail "durable.py load"
wait "$SIPP_PID"
sipp_ok=$(awk -F"|" '/Successful call/ { gsub(/ /, "", $3); print $3 }' "$WORK/sipp-out.log")
[ -n "$sipp_ok" ] && [ "$sipp_ok" -gt 0 ] || fail "SIPp got no 200 before the kill"
acked=$(($(wc -l <"$WORK/acked") - 1))
mv "$WORK/pinholed.log" "$WORK/pinholed-1.log"
# killed while sendcap wrote, its record of what it sent may end in part of
# one: sipcheck reads it up to its last whole record ("\v\n" ends each)
python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
open(sys.argv[1], "wb").write(d[:d.rfind(b"\v\n") + 2] if b"\v\n" in d else b"")' \
	"$WORK/sent-$PH_RUNS.cap"

ph_start -o "store_path=$WORK/bindings.db" -o log_level=info $ONE_SOURCE
back=$(sed -n 's/.*lmdb): \([0-9]*\) AoRs.*/\1/p' "$WORK/pinholed.log")
echo "after the restart: $back AoRs back; answered 200 before the kill: $acked (durable.py) + $sipp_ok (SIPp)"
[ -n "$back" ] && [ "$back" -ge $((acked + sipp_ok)) ] ||
	fail "fewer AoRs back ($back) than got a 200 ($acked + $sipp_ok)"
timeout 25 python3 "$SIPP_DIR/durable.py" check "$PH_IP" "$SIP_PORT" "$N" \
	"$WORK/acked" || fail "durable.py check"
