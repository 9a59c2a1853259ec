#!/bin/sh
# The proxy's transaction rules (RFC 3261 16): a caller's CANCEL reaches a
# ringing phone and the 487 comes back; a user with two phones rings both,
# the first 2xx wins and the other phone is cancelled.
. "${top_srcdir:-.}/tests/sipp/lib.sh"

uas() { # SCENARIO PORT LOG: a SIPp phone in the background; sets UAS_PID
	timeout 30 sipp -sf "$SIPP_DIR/$1" -i 127.0.0.1 -p "$2" -m 1 -timeout 20s \
		-nostdin -trace_err -error_file "$WORK/$3-err.log" >"$WORK/$3.out" 2>&1 &
	UAS_PID=$!
}
uas_ok() { # PID NAME
	wait "$1" || { cat "$WORK/$2-err.log" 2>/dev/null; fail "the $2 phone's side failed"; }
}

ph_start

p1=$(free_base 1) || fail "no port"
uas uas_ring.xml "$p1" dave; ring=$UAS_PID
sipp_run register_user.xml -key user dave -key uas "$p1"
sipp_run uac_cancel.xml -key user dave
uas_ok "$ring" ringing
echo "ok: CANCEL went down to the ringing phone, 487 came up"

p2=$(free_base 1) || fail "no port"
uas uas_ring.xml "$p2" ring2; ring=$UAS_PID
p3=$(free_base 1) || fail "no port"
uas uas_answer.xml "$p3" ans; ans=$UAS_PID
sipp_run register_user.xml -key user erin -key uas "$p2"
sipp_run register_user.xml -key user erin -key uas "$p3"
sipp_run uac_fork.xml -key user erin
uas_ok "$ans" answering
uas_ok "$ring" "other ringing"
echo "ok: forked to both phones, the 2xx won, the other phone was cancelled"

# tina registers over TCP and is called from UDP: the INVITE reaches her
# over the connection she registered on, and her 486 comes back.
"$top_builddir/tests/sipp/netcheck" tcpphone -w 10000 127.0.0.1 "$SIP_PORT" tina \
	>"$WORK/tina.out" 2>&1 &
tina=$!
for _ in $(seq 1 30); do grep -q registered "$WORK/tina.out" && break; sleep 0.1; done
sipp_run uac_busy.xml -key user tina
wait "$tina" || { cat "$WORK/tina.out"; fail "tina's TCP phone did not get the INVITE"; }
grep -q '^INVITE sip:tina@' "$WORK/tina.out" || fail "no INVITE on tina's connection"
echo "ok: a binding registered over TCP is called over that connection"
