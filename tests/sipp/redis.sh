#!/bin/sh
# store = redis on loopback: one redis-server, node 1 (ph_start) and node 2
# sharing it; redis.py: a user registered through node 1 is reached through
# node 2 via node 1, and its unregistration reaches node 2 too. Then a third
# node started later loads the binding made through node 2 (SCAN at start).
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
node 2 -o relay=internal -o relay_ports=50000-51999
timeout 20 python3 "$SIPP_DIR/redis.py" 127.0.0.1 "$SIP_PORT" "$NODE_PORT" || {
	grep -v "debug: sofia" "$WORK/node2.log" | tail -20; fail "redis.py"; }

# a REGISTER through node 2, then node 3 starts: it finds the binding
SIPP_DIR=$SIPP_DIR timeout 5 python3 - 127.0.0.1 "$NODE_PORT" <<'PY' || fail "REGISTER through node 2"
import os, sys
sys.path.insert(0, os.environ["SIPP_DIR"])
import sipsock
h, p = sys.argv[1], int(sys.argv[2])
s = sipsock.udp(h, 3.0)
lp = s.getsockname()[1]
sipsock.send(s, (h, p), "REGISTER sip:%s:%d SIP/2.0" % (h, p), [
    "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrd3" % (h, lp),
    "Max-Forwards: 70", "From: <sip:three@pinhole.test>;tag=3",
    "To: <sip:three@pinhole.test>", "Call-ID: rd-3", "CSeq: 1 REGISTER",
    "Contact: <sip:three@%s:%d>;expires=120" % (h, lp)])
while not s.recv(65535).startswith(b"SIP/2.0 200 "):
    pass
PY
node 3
grep -q '(redis): 1 AoRs, 1 bindings reloaded' "$WORK/node3.log" || {
	grep store "$WORK/node3.log"; fail "node 3 did not load the binding from Redis"; }
echo "ok: a node started later loads the shared bindings"
