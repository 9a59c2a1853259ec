#!/bin/sh
# pinhole-relayd where Kamailio users run rtpengine today: Debian's
# Kamailio (its rtpengine module, rtpengine_manage()) as registrar and
# proxy on loopback, pinhole-relayd as its rtpengine, plain SIPp phones:
# a call with a hold re-INVITE is relayed (every SDP each phone gets names
# pinhole-relayd's address and ports, the same ports after hold), and
# Kamailio's offer, answer and delete reach pinhole-relayd and are
# answered ok. No pinholed here.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v kamailio >/dev/null 2>&1 || skip "kamailio not installed"
[ -f /usr/lib/x86_64-linux-gnu/kamailio/modules/rtpengine.so ] ||
	ls /usr/lib/*/kamailio/modules/rtpengine.so >/dev/null 2>&1 ||
	skip "Kamailio's rtpengine module not installed"
RELAYD=$top_builddir/media/relay/pinhole-relayd
KPID= RPID=
cleanup() {
	st=$?
	for p in $KPID $RPID; do kill "$p" 2>/dev/null; done
	for p in $KPID $RPID; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
	ports_unlock
	trap - EXIT
	exit "$st"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	tail -20 "$WORK/kamailio.log" 2>/dev/null | sed 's/^/  kamailio: /'
	tail -8 "$WORK/relayd.log" 2>/dev/null | sed 's/^/  relayd: /'
	exit 1
}

NG=$(free_base 1) || fail "no port for the relay"
KPORT=$(free_base 1) || fail "no port for Kamailio"
"$RELAYD" -l "127.0.0.1:$NG" -a 127.0.0.1 -c 127.0.0.1 -p 52400-52499 -v \
	>"$WORK/relayd.log" 2>&1 &
RPID=$!
cat >"$WORK/kamailio.cfg" <<CFG
#!KAMAILIO
debug=2
log_stderror=yes
children=1
listen=udp:127.0.0.1:$KPORT
alias="127.0.0.1:$KPORT"
disable_tcp=yes
dns=no
rev_dns=no
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "rtpengine.so"
modparam("usrloc", "db_mode", 0)
modparam("rtpengine", "rtpengine_sock", "udp:127.0.0.1:$NG")
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (has_totag()) {
		if (loose_route()) {
			if (is_method("INVITE|BYE")) rtpengine_manage();
			t_on_reply("MANAGE");
			t_relay();
			exit;
		}
		if (is_method("ACK") && t_check_trans()) t_relay();
		exit;
	}
	if (is_method("REGISTER")) { save("location"); exit; }
	if (is_method("INVITE")) {
		record_route();
		if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
		rtpengine_manage();
		t_on_reply("MANAGE");
		t_relay();
		exit;
	}
	sl_send_reply("405", "Method Not Allowed");
}
onreply_route[MANAGE] {
	if (has_body("application/sdp")) rtpengine_manage();
}
CFG
for _ in $(seq 1 30); do grep -q ': ready$' "$WORK/relayd.log" && break; sleep 0.1; done
timeout 60 kamailio -f "$WORK/kamailio.cfg" -DD -E -m 32 -M 8 -Y "$WORK" \
	-P "$WORK/kamailio.pid" >"$WORK/kamailio.log" 2>&1 &
KPID=$!
for _ in $(seq 1 50); do
	ss -Hlun "sport = :$KPORT" 2>/dev/null | grep -q . && break
	kill -0 "$KPID" 2>/dev/null || fail "kamailio did not start"
	sleep 0.1
done
# Kamailio pings its rtpengine at start: pinhole-relayd answered pong
for _ in $(seq 1 30); do grep -q ': ping -: pong$' "$WORK/relayd.log" && break; sleep 0.1; done

uas=$(free_base 1) || fail "no port for the callee"
timeout 20 sipp "127.0.0.1:$KPORT" -sf "$SIPP_DIR/plain_reg.xml" -key user carol \
	-i 127.0.0.1 -p "$uas" -m 1 -timeout 10s -nostdin >/dev/null 2>&1 ||
	fail "carol did not register with Kamailio"
(exec timeout 30 sipp -sf "$SIPP_DIR/plain_hold_uas.xml" -key user carol -i 127.0.0.1 \
	-p "$uas" -mp "$(free_base 2)" -m 1 -timeout 20s -nostdin -trace_err \
	-error_file "$WORK/uas-err.log" -trace_msg -message_file "$WORK/uas-msg.log" \
	>"$WORK/uas.out" 2>&1) &
uas_pid=$!
sleep 0.3
uac=$(free_base 1) || fail "no port for the caller"
timeout 20 sipp "127.0.0.1:$KPORT" -sf "$SIPP_DIR/plain_hold_uac.xml" -key user carol \
	-m 1 -i 127.0.0.1 -p "$uac" -timeout 10s -nostdin -trace_err \
	-error_file "$WORK/uac-err.log" -trace_msg -message_file "$WORK/uac-msg.log" \
	>"$WORK/uac.out" 2>&1 || { tail -20 "$WORK/uac-err.log"; fail "the call failed"; }
wait "$uas_pid" || { tail -20 "$WORK/uas-err.log"; fail "the callee's side failed"; }

# what each phone was told: the relay's address and ports only
for side in uas uac; do
	c=$(tr -d '\r' <"$WORK/$side-msg.log" | sed -n 's/^c=IN IP4 //p' | sort -u)
	p=$(tr -d '\r' <"$WORK/$side-msg.log" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p' |
		grep -vxE '4200[02]' | sort -u)
	[ "$c" = "$(printf '127.0.0.1\n192.0.2.1%s' "$([ $side = uas ] && echo 1 || echo 0)")" ] ||
		fail "$side: c= lines other than its own and the relay's: $(echo $c)"
	[ "$(echo "$p" | wc -l)" = 1 ] && [ "$p" -ge 52400 ] && [ "$p" -le 52499 ] ||
		fail "$side: not one pinhole-relayd port after offer and hold: $(echo $p)"
	eval "port_$side=$p"
done
for cmd in ping offer answer delete; do
	grep -q ": $cmd [^ ]*: \(ok\|pong\)$" "$WORK/relayd.log" || fail "no $cmd from Kamailio answered"
done
grep -q ': error' "$WORK/relayd.log" && fail "pinhole-relayd answered Kamailio an error"
echo "ok: Kamailio's rtpengine module drove pinhole-relayd: callee told port $port_uas, caller $port_uac, the same after hold; offer, answer and delete answered ok"
