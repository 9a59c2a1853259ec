#!/bin/sh
# The STUN binding service on its ports and on the SIP UDP port, CHANGE-
# REQUEST, the hop test's second answer, and the TCP CRLF keepalive.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
NC=$top_builddir/tests/sipp/netcheck

ph_start

# expect PORT [NETCHECK ARGS]: one answer from 127.0.0.1:PORT that maps us
# to our own address; prints the answers.
stun_answers() {
	out=$("$NC" stun "$@") || fail "no STUN answer: netcheck stun $*"
	echo "$out"
}
check_line() { # OUTPUT FROM_PORT
	echo "$1" | grep -Eq "^local 127.0.0.1:([0-9]+) from 127.0.0.1:$2 mapped 127.0.0.1:\\1 class 2$" ||
		fail "expected a success answer from port $2 mapping our own address, got: $1"
}

for port in "$STUN_PORT" $((STUN_PORT + 1)) "$SIP_PORT"; do
	out=$(stun_answers 127.0.0.1 "$port")
	check_line "$out" "$port"
	echo "ok: binding answered on $port"
done

out=$(stun_answers -c 2 127.0.0.1 "$STUN_PORT")
check_line "$out" $((STUN_PORT + 1))
echo "ok: change-port answered from the alternate port"

out=$(stun_answers -c 4 127.0.0.1 "$STUN_PORT")
echo "$out" | grep -q 'class 3 error 400' || fail "change-IP without an alternate address: $out"
echo "ok: change-IP refused"

hop=$((STUN_PORT + 3))
out=$(stun_answers -r "$hop" 127.0.0.1 "$STUN_PORT")
[ "$(echo "$out" | wc -l)" = 2 ] || fail "hop test: expected two answers, got: $out"
check_line "$(echo "$out" | grep "from 127.0.0.1:$STUN_PORT ")" "$STUN_PORT"
check_line "$(echo "$out" | grep "from 127.0.0.1:$hop ")" "$hop"
echo "ok: hop test answered twice, from $STUN_PORT and $hop"

out=$(stun_answers -r 53 127.0.0.1 "$STUN_PORT")
[ "$(echo "$out" | wc -l)" = 1 ] || fail "a reply-from port not ours must get one answer only: $out"
echo "ok: no second answer from a port that is not a hop-test port"

"$NC" crlf 127.0.0.1 "$SIP_PORT" || fail "no CRLF pong on TCP"
echo "ok: TCP CRLF keepalive answered"
