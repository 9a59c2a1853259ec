#!/bin/sh
# The STUN binding service (RFC 8489) on stun_port, stun_port+1 and the SIP
# UDP port, CHANGE-REQUEST (RFC 5780), and the hop test's second answer
# (PROTOCOL.md section 1). The TCP CRLF keepalive: keepalive.sh.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
NC=$top_builddir/tests/sipp/netcheck
SIPCHECK_ARGS=-e	# STUN only: the SIP port's answers are not SIP

ph_start

# stun_answers [NETCHECK ARGS] HOST PORT: sets out to the answers netcheck
# got, one a line; fails the test when none came.
stun_answers() {
	"$NC" stun "$@" >"$WORK/stun.out" || fail "no STUN answer: netcheck stun $*"
	out=$(cat "$WORK/stun.out")
}
check_line() { # OUTPUT FROM_PORT
	echo "$1" | grep -Eq "^local 127.0.0.1:([0-9]+) from 127.0.0.1:$2 mapped 127.0.0.1:\\1 class 2$" ||
		fail "expected a success answer from port $2 mapping our own address, got: $1"
}

for port in "$STUN_PORT" $((STUN_PORT + 1)) "$SIP_PORT"; do
	stun_answers 127.0.0.1 "$port"
	check_line "$out" "$port"
	echo "ok: binding answered on $port"
done

stun_answers -c 2 127.0.0.1 "$STUN_PORT"
check_line "$out" $((STUN_PORT + 1))
echo "ok: change-port answered from the alternate port"

stun_answers -c 4 127.0.0.1 "$STUN_PORT"
echo "$out" | grep -q 'class 3 error 400' || fail "change-IP without an alternate address: $out"
echo "ok: change-IP refused"

# PROTOCOL.md section 1: hop-test ports are stun_port+2 .. stun_port+9
# (3479+k, k = 1..8); each answers the second time, from itself.
for k in 1 2 3 4 5 6 7 8; do
	hop=$((STUN_PORT + 1 + k))
	stun_answers -w 500 -r "$hop" 127.0.0.1 "$STUN_PORT"
	[ "$(echo "$out" | wc -l)" = 2 ] || fail "hop test k=$k: expected two answers, got: $out"
	check_line "$(echo "$out" | grep "from 127.0.0.1:$STUN_PORT ")" "$STUN_PORT"
	check_line "$(echo "$out" | grep "from 127.0.0.1:$hop ")" "$hop"
done
echo "ok: hop test answered twice, from $STUN_PORT and from each of $((STUN_PORT + 2))..$((STUN_PORT + 9))"

# "only from its own hop-test ports": not from the alternate port, not from
# the port after the last hop-test port, not from any other port
for other in $((STUN_PORT + 1)) $((STUN_PORT + 10)) 53; do
	stun_answers -w 500 -r "$other" 127.0.0.1 "$STUN_PORT"
	[ "$(echo "$out" | wc -l)" = 1 ] ||
		fail "reply-from $other is not a hop-test port: one answer expected, got: $out"
	check_line "$out" "$STUN_PORT"
done
echo "ok: no second answer from ports that are not hop-test ports"
