#!/bin/sh
# Edge mode in front of a real Kamailio on loopback (upstream.py): pinholed
# on 127.0.0.1, Kamailio (conf/pbx/kamailio.cfg, users in db_text) on
# 127.0.0.2; its log shows the first Path of each REGISTER it saved. The
# NAT lab's tests/lab/pbx.sh does the calls and the media.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
command -v kamailio >/dev/null 2>&1 || skip "needs kamailio"
KAM_MODS=/usr/lib/x86_64-linux-gnu/kamailio/modules
[ -d "$KAM_MODS" ] || skip "no kamailio modules in $KAM_MODS"
PBX=127.0.0.2
kport=$(free_base 1) || fail "no free port"
mkdir -p "$WORK/db" "$WORK/kam"
cp /usr/share/kamailio/dbtext/kamailio/version "$WORK/db/"
printf '%s\n' "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) " \
	"1:alice:lab:alice-secret:-:-" >"$WORK/db/subscriber"
kamailio -f "$top_srcdir/conf/pbx/kamailio.cfg" -DD -E -L "$KAM_MODS" \
	-Y "$WORK/kam" -w "$WORK/kam" -A "LISTEN=udp:$PBX:$kport" \
	-A "DBURL=\"text://$WORK/db\"" -A "IVR_URI=\"sip:ivr@127.0.0.3:5090\"" \
	-A "IVR_IP=\"127.0.0.3\"" >"$WORK/kamailio.log" 2>&1 &
KPID=$!
trap 'kill $KPID 2>/dev/null; ph_cleanup' EXIT
for _ in $(seq 1 50); do
	grep -q "Listening on" "$WORK/kamailio.log" && break
	sleep 0.1
done
grep -q "Listening on" "$WORK/kamailio.log" || fail "kamailio did not start: $(tail -3 "$WORK/kamailio.log")"
sleep 0.5 # its children
ph_start -o "upstream=sip:$PBX:$kport"
timeout 30 python3 "$SIPP_DIR/upstream.py" "$PH_IP" "$SIP_PORT" "$PBX" "$WORK/pinholed.log" ||
	fail "upstream.py (kamailio: $(tail -3 "$WORK/kamailio.log"))"
# the REGISTER that came with an edge proxy's Path: pinholed's above it
grep -q "saved, Path <sip:alice%40$PH_IP@$PH_IP:$SIP_PORT;lr;ph-a=$PH_IP:[^>]*>,<sip:edge.invalid;lr>" \
	"$WORK/kamailio.log" ||
	fail "Kamailio did not save pinholed's Path on top: $(grep 'saved, Path' "$WORK/kamailio.log")"
echo "ok: Kamailio saved the binding with pinholed's Path on top (RFC 3327 5.2)"
