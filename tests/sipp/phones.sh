#!/bin/sh
# Phones others wrote, as callees: Debian's baresip and linphonec, plain
# (no pinhole module), registered with pinholed over loopback. A caller
# CANCELs while each rings: pinholed's CANCEL (proceed.c: the branch is its
# own once the phone has answered provisionally) ends the phone's INVITE
# transaction, the caller gets the phone's 487, and pinholed's ACK of it
# matches too: the phone sends that 487 once, not again every T1 as it
# would for an ACK it could not match (RFC 3261 17.2.1). No call is left.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
[ "${PH_IP:-127.0.0.1}" = 127.0.0.1 ] || skip "needs PH_IP 127.0.0.1"
PHONE_PIDS=
PHONES=0
trap 'st=$?; for p in $PHONE_PIDS; do kill "$p" 2>/dev/null; done; wait $PHONE_PIDS 2>/dev/null; (exit $st); ph_cleanup' EXIT

ph_start -o domains=127.0.0.1
base=$(free_base 12) || fail "no free ports for the phones"

# ringing USER: the caller CANCELs; one 487 reached pinholed, no call left
ringing() {
	n0=$(grep -ci 'received 487 Request Terminated' "$WORK/pinholed.log")
	timeout 30 python3 "$SIPP_DIR/proceed.py" "$PH_IP" "$SIP_PORT" phone "$1" ||
		fail "$1: the CANCEL while ringing"
	sleep 2 # past the phone's Timer G (T1 = 0.5 s): a 487 sent again
	n=$(($(grep -ci 'received 487 Request Terminated' "$WORK/pinholed.log") - n0))
	[ "$n" = 1 ] || fail "$1 sent its 487 $n times: pinholed's ACK did not match"
	ph_counters
	[ "$(echo "$COUNTERS" | awk '{ print $2 }')" = 0 ] || fail "$1: a call left: $COUNTERS"
	PHONES=$((PHONES + 1))
	echo "ok: $1 sent its 487 once; no call left"
}

if command -v baresip >/dev/null 2>&1; then
	d=$WORK/baresip
	mkdir -p "$d"
	grep -v 'pinhole' "$top_srcdir/conf/baresip/config" |
		sed -e "s|^sip_listen.*|sip_listen		127.0.0.1:$base|" \
		    -e "s|^net_interface.*|net_interface		127.0.0.1|" \
		    -e "s|^rtp_ports.*|rtp_ports		$((base + 2))-$((base + 11))|" >"$d/config"
	echo "<sip:bob@127.0.0.1>;outbound=\"sip:127.0.0.1:$SIP_PORT\";regint=600;answermode=manual" \
		>"$d/accounts"
	timeout 60 baresip -f "$d" -v </dev/null >"$d/out" 2>&1 &
	PHONE_PIDS="$PHONE_PIDS $!"
	ph_wait_log 10 'REGISTER bob@127.0.0.1 from [^ ]*: 200' || fail "baresip did not register"
	ringing bob
elif [ -n "${PH_REQUIRE_ALL:-}" ]; then
	fail "baresip not installed (Debian: baresip-core)"
fi

if command -v linphonec >/dev/null 2>&1; then
	d=$WORK/linphone
	port=$(free_base 2) || fail "no free port for linphonec"
	# without this directory its core never starts: every INVITE gets 503
	mkdir -p "$d/home/.local/share/linphone"
	cat >"$d/rc" <<RC
[sip]
sip_port=$port
sip_tcp_port=-1
sip_tls_port=-1
inc_timeout=30
register_only_when_network_is_up=0
[rtp]
audio_rtp_port=$((port + 1))
[video]
capture=0
display=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:$SIP_PORT;transport=udp>
reg_identity=<sip:carol@127.0.0.1>
reg_expires=600
reg_sendregister=1
publish=0
RC
	mkfifo "$d/cmd"
	HOME=$d/home timeout 60 linphonec -c "$d/rc" <"$d/cmd" >"$d/out" 2>&1 &
	PHONE_PIDS="$PHONE_PIDS $!"
	sleep 60 >"$d/cmd" &
	PHONE_PIDS="$PHONE_PIDS $!"
	ph_wait_log 15 'REGISTER carol@127.0.0.1 from [^ ]*: 200' || fail "linphonec did not register"
	ringing carol
elif [ -n "${PH_REQUIRE_ALL:-}" ]; then
	fail "linphonec not installed (Debian: linphone-cli)"
fi
[ "$PHONES" -gt 0 ] || skip "needs baresip or linphonec"
ph_alive || fail "pinholed died"
