#!/bin/sh
# store = redis on loopback: one redis-server, node 1 (ph_start) and node 2
# sharing it (node 2 through tcpcut.py, a link the test can break);
# redis.py: a user registered through node 1 is reached through node 2 via
# node 1, in a call too (its BYE through both), and its unregistration
# reaches node 2. redisrace.py: REGISTERs of one AoR through both nodes at
# once keep both contacts. Then node 2's link to Redis is cut, changes made
# through node 1 meanwhile, and node 2 has them once the link is back. A
# third node started later loads the bindings (SCAN at start).
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
command -v redis-server >/dev/null 2>&1 || skip "redis-server not installed"
grep -q 'HAVE_HIREDIS 1' "$top_builddir/config.h" ||
	skip "pinholed built without hiredis (libhiredis-dev)"
EXTRA=
trap 'st=$?; for p in $EXTRA; do kill "$p" 2>/dev/null; done; (exit $st); ph_cleanup' EXIT

rp=$(free_base 1) || fail "no free port for Redis"
redis-server --bind 127.0.0.1 --port "$rp" --save '' --appendonly no \
	--dir "$WORK" >"$WORK/redis.log" 2>&1 &
EXTRA="$EXTRA $!"
for _ in $(seq 1 50); do
	grep -q 'Ready to accept' "$WORK/redis.log" && break
	sleep 0.1
done
SHARED="-o store=redis -o redis=127.0.0.1:$rp -o route_secret=sipp-secret-of-both-nodes"
cp=$(free_base 1) || fail "no free port for the link to Redis"
python3 "$SIPP_DIR/tcpcut.py" 127.0.0.1 "$cp" "$rp" "$WORK/cut" 60 &
EXTRA="$EXTRA $!"

reg() { # NODE_PORT USER CONTACT: how many contacts the 200 lists (reg.py)
	timeout 5 python3 "$SIPP_DIR/reg.py" 127.0.0.1 "$@"
}

wait_count() { # FILE PATTERN N: until PATTERN is in FILE N times (5 s at most)
	for _ in $(seq 1 50); do
		[ "$(grep -c "$2" "$1")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

node() { # N [-o K=V]...: node N, not ph_start's, on ports of its own; sets NODE_PORT
	n=$1; shift
	NODE_PORT=$(free_base 12) || fail "no free ports"
	"$PINHOLED" -f -o listen=127.0.0.1 -o "sip_port=$NODE_PORT" \
		-o "stun_port=$((NODE_PORT + 2))" -o relay=off $SHARED "$@" \
		>"$WORK/node$n.log" 2>&1 &
	EXTRA="$EXTRA $!"
	for _ in $(seq 1 50); do
		grep -q ' ready: ' "$WORK/node$n.log" && return 0
		sleep 0.1
	done
	cat "$WORK/node$n.log"; fail "node $n not ready"
}

ph_start $SHARED -o relay=off
# node 2 relays the call of redis.py's dialog (its sides give no windows)
node 2 -o relay=internal -o relay_ports=22000-23999 -o "redis=127.0.0.1:$cp"
N2=$NODE_PORT
timeout 20 python3 "$SIPP_DIR/redis.py" 127.0.0.1 "$SIP_PORT" "$NODE_PORT" || {
	grep -v "debug: sofia" "$WORK/node2.log" | tail -20; fail "redis.py"; }

ROUNDS=40
timeout 20 python3 "$SIPP_DIR/redisrace.py" 127.0.0.1 "$SIP_PORT" "$NODE_PORT" $ROUNDS ||
	fail "redisrace.py"

# node 2 cut from Redis: meanwhile late registers through node 1 and
# race0 (two contacts) is emptied; both reach node 2 once it is back
lost=$(grep -c 'subscription lost' "$WORK/node2.log")
touch "$WORK/cut"
wait_count "$WORK/node2.log" 'subscription lost' $((lost + 1)) ||
	fail "node 2 did not lose its subscription"
[ "$(reg "$SIP_PORT" late sip:late@127.0.0.1:5999)" = 1 ] || fail "late through node 1"
[ "$(reg "$SIP_PORT" race0 '*')" = 0 ] || fail "race0 emptied through node 1"
rm "$WORK/cut"
for _ in $(seq 1 40); do # it resubscribes within a second or two
	[ "$(reg "$N2" late -)" = 1 ] && [ "$(reg "$N2" race0 -)" = 0 ] && break
	sleep 0.2
done
[ "$(reg "$N2" late -)" = 1 ] || {
	grep -E "store|redis" "$WORK/node2.log" | tail -8
	fail "node 2 misses the binding made while its subscription was down"; }
[ "$(reg "$N2" race0 -)" = 0 ] ||
	fail "node 2 keeps the bindings removed while its subscription was down"
echo "ok: node 2, cut from Redis for a while, has what changed meanwhile"

# the script Redis forgot (SCRIPT FLUSH) is sent again, not failed on;
# a REGISTER through node 2, then node 3 starts: it finds the binding
redis-cli -p "$rp" SCRIPT FLUSH >/dev/null || fail "redis-cli SCRIPT FLUSH"
[ "$(reg "$N2" three sip:three@127.0.0.1:5998)" = 1 ] || fail "REGISTER through node 2"
node 3
# (and tcp's, late's, and redisrace.py's but race0's, two contacts each)
grep -q "(redis): $((ROUNDS + 2)) AoRs, $((2 * ROUNDS + 1)) bindings reloaded" "$WORK/node3.log" || {
	grep store "$WORK/node3.log"; fail "node 3 did not load the binding from Redis"; }
echo "ok: a node started later loads the shared bindings"
