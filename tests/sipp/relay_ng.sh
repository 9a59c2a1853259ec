#!/bin/sh
# pinholed with its relays on other hosts over the ng protocol (relay =
# ng:..., doc/RELAY-NG.md), here two pinhole-relayd on loopback, each with
# a port range of its own, and plain SIPp phones (their SDP names private
# addresses, so pinholed relays them; media through a relay on another
# host: tests/lab/relay_ng.sh):
#  - two calls, one on each relay (spread), the SDP naming that relay's
#    ports, the same after a hold re-INVITE;
#  - one relay stopped: the next call goes to the other, and a warning
#    names the stopped one; both stopped: 503 at once, saying why;
#  - a relay started again is taken back.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
RELAYD=$top_builddir/media/relay/pinhole-relayd
R1= R2=

relay_start() { # N FIRST-LAST: relay N on ng port NG<N>, media ports FIRST-LAST
	eval "ng=\${NG$1:-}"
	[ -n "$ng" ] || ng=$(free_base 1) || fail "no port for relay $1"
	"$RELAYD" -l "127.0.0.1:$ng" -a 127.0.0.1 -c 127.0.0.1 -p "$2" -v >"$WORK/relayd$1.log" 2>&1 &
	eval "NG$1=$ng R$1=$!"
	for _ in $(seq 1 30); do
		grep -q ': ready$' "$WORK/relayd$1.log" && return 0
		sleep 0.1
	done
	cat "$WORK/relayd$1.log"; fail "pinhole-relayd $1 did not start"
}
relay_stop() { # N
	eval "p=\$R$1"
	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null; wait "$p" 2>/dev/null
	eval "R$1="
}
trap 'st=$?; relay_stop 1; relay_stop 2; (exit $st); ph_cleanup' EXIT

uas_start() { # the plain callee "carol", registered from its port
	uas=$(free_base 1) || fail "no port for the callee"
	timeout 20 sipp "127.0.0.1:$SIP_PORT" -sf "$SIPP_DIR/plain_reg.xml" -key user carol \
		-i 127.0.0.1 -p "$uas" -m 1 -timeout 10s -nostdin >/dev/null 2>&1 ||
		fail "carol did not register"
	(exec timeout 30 sipp -sf "$SIPP_DIR/plain_hold_uas.xml" -key user carol -i 127.0.0.1 \
		-p "$uas" -mp "$(free_base 2)" -m 1 -timeout 20s -nostdin -trace_err \
		-error_file "$WORK/uas-err.log" -trace_msg -message_file "$WORK/uas-msg.log" \
		>"$WORK/uas.out" 2>&1) &
	uas_pid=$!
	sleep 0.3
}
# call: one relayed call with hold; adds the relay port the callee and
# the one the caller were told to $PORTS
call() {
	rm -f "$WORK/uas-msg.log" "$WORK/sipp-msg.log"
	uas_start
	sipp_run plain_hold_uac.xml -key user carol >/dev/null
	wait "$uas_pid" || { tail -20 "$WORK/uas-err.log"; fail "the callee's side failed"; }
	e=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$WORK/uas-msg.log" | grep -vx 42002 | sort -u)
	r=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$WORK/sipp-msg.log" | grep -vx 42000 | sort -u)
	[ "$(echo "$e" | wc -l)" = 1 ] && [ "$(echo "$r" | wc -l)" = 1 ] ||
		fail "not one relay port per side: callee told '$e', caller '$r'"
	PORTS="$PORTS $e $r"
}
in_range() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; } # PORT FIRST LAST
offers() { grep -c ': offer pinholed-[^ ]*: ok$' "$WORK/relayd$1.log"; }

relay_start 1 52100-52199
relay_start 2 52200-52299
ph_start -o "relay=ng:127.0.0.1:$NG1, ng:127.0.0.1:$NG2"
for n in 1 2; do
	eval "ng=\$NG$n"
	for _ in $(seq 1 30); do
		grep -q "relay ng:127.0.0.1:$ng: answers" "$WORK/pinholed.log" && break
		sleep 0.1
	done
done

PORTS=
call; call
set -- $PORTS
{ in_range "$1" 52100 52199 && in_range "$2" 52100 52199 && in_range "$3" 52200 52299 &&
	in_range "$4" 52200 52299; } || { in_range "$1" 52200 52299 && in_range "$2" 52200 52299 &&
	in_range "$3" 52100 52199 && in_range "$4" 52100 52199; } ||
	fail "two calls not one on each relay: ports $*"
[ "$(offers 1)" -ge 2 ] && [ "$(offers 2)" -ge 2 ] || fail "offers: relay 1 $(offers 1), relay 2 $(offers 2)"
grep -q ': media ended (BYE) .*; route relay;' "$WORK/pinholed.log" ||
	fail "no report of a relayed call's end"
echo "ok: two calls, one on each relay (ports $1/$2 and $3/$4), the same after hold"

relay_stop 1
PORTS=
call; call
set -- $PORTS
for p in "$@"; do in_range "$p" 52200 52299 || fail "a call not on relay 2 with relay 1 stopped: ports $*"; done
grep -q "warning: relay ng:127.0.0.1:$NG1: refused .*skipped until it answers" "$WORK/pinholed.log" ||
	fail "no warning names the stopped relay"
echo "ok: relay 1 stopped: both calls on relay 2 (ports $*), a warning names relay 1"

relay_stop 2
sipp_run plain_503_norelay.xml -key user carol
echo "ok: no relay answers: 503 at once"

relay_start 1 52100-52199
for _ in $(seq 1 40); do
	grep -q "relay ng:127.0.0.1:$NG1: answers again: back in use" "$WORK/pinholed.log" && break
	sleep 0.1
done
grep -q "relay ng:127.0.0.1:$NG1: answers again: back in use" "$WORK/pinholed.log" ||
	fail "relay 1, started again, was not taken back within 4 s"
PORTS=
call
set -- $PORTS
in_range "$1" 52100 52199 || fail "the call after relay 1 came back not on it: ports $*"
echo "ok: relay 1 started again: taken back, the next call on it"
