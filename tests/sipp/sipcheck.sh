#!/bin/sh
# sipcheck itself: hand-made sendcap files it must pass (a good message, a
# TCP stream cut anywhere, keep-alives, STUN, sofia-sip's probe) and fail (a
# header written after the empty line, a wrong Content-Length, SDP that is
# not SDP, a message libosip2 rejects, a stream that ends inside a message,
# no message, a record short of its count); then the same good and bad
# messages sent by a real program through sendcap.so, over UDP in iovecs as
# sofia-sip sends them and over TCP, which sipcheck must pass and fail.
set -u
: "${top_builddir:=.}"
SC=$top_builddir/tests/sipp/sipcheck
SENDCAP=$top_builddir/tests/sipp/.libs/sendcap.so
[ -x "$SC" ] || { echo "FAIL: $SC not built"; exit 1; }
[ -f "$SENDCAP" ] || { echo "FAIL: $SENDCAP not built (make check builds it)"; exit 1; }
SENDCAP=$(cd "$(dirname "$SENDCAP")" && pwd)/sendcap.so
command -v python3 >/dev/null 2>&1 || { echo "FAIL: needs python3 (tests/setup installs it)"; exit 1; }
T=$(mktemp -d /tmp/ph-sipcheck.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
fails=0

# msg NAME LINE...: a message file, each LINE ended by CRLF
msg() { f=$T/$1; shift; : >"$f"; for l in "$@"; do printf '%s\r\n' "$l" >>"$f"; done; }
# rec DUMP PEER FILE: one record as sendcap writes it
rec() {
	printf 'sent %s bytes to %s at 12:00:00.000001:\n' "$(wc -c <"$3")" "$2" >>"$1"
	cat "$3" >>"$1"
	printf '\v\n' >>"$1"
}
# expect DUMP 0|1|2 [TEXT]: sipcheck's exit status, and TEXT in its output
expect() {
	out=$("$SC" "$1" 2>&1); rc=$?
	if [ "$rc" != "$2" ] || { [ $# -gt 2 ] && ! printf '%s\n' "$out" | grep -qF "$3"; }; then
		echo "FAIL: $(basename "$1"): exit $rc, wanted $2${3:+ and \"$3\"}:"
		printf '%s\n' "$out" | sed 's/^/  /'
		fails=$((fails + 1))
	else
		echo "ok: $(basename "$1"): exit $rc${3:+ ($3)}"
	fi
}

sdp() { # the SDP body lines, then the message with Content-Length
	printf '%s\r\n' "v=0" "o=- 1 1 IN IP4 127.0.0.1" "s=-" "c=IN IP4 127.0.0.1" \
		"t=0 0" "m=audio 41000 RTP/AVP 0" "a=fw-punch:transmit 127.0.0.1:42000" >"$T/sdp"
}
invite() { # NAME CLEN [EXTRA BODY LINE]: an INVITE with the SDP
	msg "$1" "INVITE sip:bob@127.0.0.1:5062 SIP/2.0" \
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-ph-1" \
		"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-a-1;rport=5061" \
		"Record-Route: <sip:127.0.0.1:5060;lr>" "Max-Forwards: 69" \
		"From: <sip:alice@example.com>;tag=a1" "To: <sip:bob@example.com>" \
		"Call-ID: c1@127.0.0.1" "CSeq: 1 INVITE" \
		"Contact: <sip:alice@127.0.0.1:5061>" "Content-Type: application/sdp" \
		"Firewall-Punch: transmit 127.0.0.1:42000" "Content-Length: $2" ""
	cat "$T/sdp" >>"$T/$1"
	[ $# -gt 2 ] && printf '%s\r\n' "$3" >>"$T/$1"
	return 0
}
sdp
len=$(wc -c <"$T/sdp")
msg ok200 "SIP/2.0 200 OK" "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport=5061" \
	"From: <sip:alice@example.com>;tag=1" "To: <sip:alice@example.com>;tag=2" \
	"Call-ID: r1@127.0.0.1" "CSeq: 1 REGISTER" "Content-Length: 0" ""
invite good "$len"
printf '\r\n\r\n' >"$T/ping"
printf '\000\001\000\000\041\022\244\102abcdefghijkl' >"$T/stun"

# (a) good: a 200 and an INVITE with SDP, a keep-alive, a STUN datagram,
# sofia-sip's probe of its UDP socket
rec "$T/good.dump" "udp/[127.0.0.1]:5061" "$T/ok200"
rec "$T/good.dump" "udp/[127.0.0.1]:5062" "$T/good"
rec "$T/good.dump" "udp/[127.0.0.1]:5062" "$T/ping"
rec "$T/good.dump" "udp/[127.0.0.1]:5062" "$T/stun"
printf 'TEST' >"$T/probe"
rec "$T/good.dump" "udp/[127.0.0.1]:5060" "$T/probe"
expect "$T/good.dump" 0 "2 messages sent by pinholed checked (1 with a body), 1 keep-alives, 1 binary records and 1 probes"

# (b) a header written after the empty line: Content-Length counts it
invite inbody $((len + 37)) "Firewall-Punch: open 127.0.0.1:4200"
rec "$T/inbody.dump" "udp/[127.0.0.1]:5062" "$T/inbody"
expect "$T/inbody.dump" 1 'a header in the body (body line 8): "Firewall-Punch: open'

# (c) Content-Length short of the body, then longer than the body
invite shortlen $((len - 4))
rec "$T/shortlen.dump" "udp/[127.0.0.1]:5062" "$T/shortlen"
expect "$T/shortlen.dump" 1 "Content-Length: $((len - 4)) but $len bytes follow"
invite longlen $((len + 10))
rec "$T/longlen.dump" "udp/[127.0.0.1]:5062" "$T/longlen"
expect "$T/longlen.dump" 1 "Content-Length: $((len + 10)) but $len bytes follow"

# (d) SDP that is not SDP
printf 'o=- 1 1 IN IP4 127.0.0.1\r\n' >"$T/sdp"
invite nosdp 26
rec "$T/nosdp.dump" "udp/[127.0.0.1]:5062" "$T/nosdp"
expect "$T/nosdp.dump" 1 "the SDP body does not start with v=0"
sdp

# (e) a message libosip2 rejects (a From that is no address)
msg badfrom "SIP/2.0 200 OK" "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1" \
	"From: <sip:alice@example.com;tag=1" "To: <sip:alice@example.com>;tag=2" \
	"Call-ID: r1@127.0.0.1" "CSeq: 1 REGISTER" "Content-Length: 0" ""
rec "$T/badfrom.dump" "udp/[127.0.0.1]:5061" "$T/badfrom"
expect "$T/badfrom.dump" 1 "libosip2 rejects it"

# (f) what sofia-sip rejects and libosip2 takes; a header twice
sed 's/^Max-Forwards: 69/Max-Forwards: 6x9/' "$T/good" >"$T/badmf"
rec "$T/badmf.dump" "udp/[127.0.0.1]:5062" "$T/badmf"
expect "$T/badmf.dump" 1 "sofia-sip cannot parse it: at Max-Forwards"
sed 's/^\(To: .*\)$/\1\r\n\1/' "$T/ok200" >"$T/twoto"
rec "$T/twoto.dump" "udp/[127.0.0.1]:5061" "$T/twoto"
expect "$T/twoto.dump" 1 "line 5: a second To header"

# (f2) -f, for fuzzing: what a fuzzed phone wrote and pinholed forwarded
# (a message libosip2 rejects, a header twice) is counted, not failed; a
# Content-Length that does not match the body still fails
"$SC" -f "$T/badfrom.dump" "$T/twoto.dump" >"$T/f.out" 2>&1 &&
	grep -q "oddities of what fuzzed phones wrote" "$T/f.out" ||
	{ echo "FAIL: -f failed on forwarded oddities:"; sed 's/^/  /' "$T/f.out"; fails=$((fails + 1)); }
"$SC" -f "$T/shortlen.dump" >/dev/null 2>&1 &&
	{ echo "FAIL: -f passed a wrong Content-Length"; fails=$((fails + 1)); }

# (g) TCP: two messages cut across three records with a CRLF keep-alive
# between them pass; a stream that stops inside a message fails
cat "$T/ok200" "$T/ping" "$T/good" >"$T/stream"
head -c 100 "$T/stream" >"$T/s1"
tail -c +101 "$T/stream" | head -c 300 >"$T/s2"
tail -c +401 "$T/stream" >"$T/s3"
for s in s1 s2 s3; do rec "$T/tcp.dump" "tcp/[127.0.0.1]:40000" "$T/$s"; done
expect "$T/tcp.dump" 0 "2 messages sent by pinholed checked (1 with a body), 1 keep-alives"
rec "$T/tcpcut.dump" "tcp/[127.0.0.1]:40000" "$T/s1"
rec "$T/tcpcut.dump" "tcp/[127.0.0.1]:40000" "$T/s2"
expect "$T/tcpcut.dump" 1 "the stream to tcp/[127.0.0.1]:40000 ends inside a message"

# (i) a record shorter than its count (as sofia-sip 1.12.11's own dump
# writes them) is not read at all
head -c 300 "$T/good" >"$T/cut"
{ printf 'sent %s bytes to udp/[127.0.0.1]:5062 at 12:00:00.000001:\n' "$(wc -c <"$T/good")"
  cat "$T/cut"; printf '\v\n'; } >"$T/cut.dump"
expect "$T/cut.dump" 2 "not a sendcap record at byte 0"

# (h) a dump without any message sent fails, unless -e
rec "$T/empty.dump" "udp/[127.0.0.1]:5061" "$T/ping"
expect "$T/empty.dump" 1 "no SIP message sent in the dump"
"$SC" -e "$T/empty.dump" >/dev/null || { echo "FAIL: -e on an empty dump"; fails=$((fails + 1)); }

# (j) through sendcap.so: python3 sends from real loopback sockets, and a
# message is split as sofia-sip 1.12.11 splits a forwarded one (headers,
# the empty line, the body: three iovecs of one sendmsg()), the split whose
# body its own dump left out
cat >"$T/send.py" <<'EOF'
# send.py udp|tcp FILE...: the files' bytes to a loopback socket of its own;
# udp: one datagram, each file an iovec of one sendmsg(); tcp: one send()
# (sendall) per file on one connection. Exit 0 when all arrived.
import socket, sys
parts = [open(f, "rb").read() for f in sys.argv[2:]]
if sys.argv[1] == "udp":
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("127.0.0.1", 0))
    r.settimeout(5)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendmsg(parts, [], 0, r.getsockname())
    got = r.recv(65536)
else:
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.bind(("127.0.0.1", 0))
    l.listen(1)
    l.settimeout(5)
    s = socket.create_connection(l.getsockname(), timeout=5)
    a, _ = l.accept()
    a.settimeout(5)
    for p in parts:
        s.sendall(p)
    s.shutdown(socket.SHUT_WR)
    got = b""
    for _ in range(10000):
        b = a.recv(65536)
        if not b:
            break
        got += b
sys.exit(0 if got == b"".join(parts) else 1)
EOF
# preload CAP MODE FILE...: send.py through sendcap.so into CAP (an ASan
# sendcap.so in a python3 that is not would stop it otherwise)
preload() {
	cap=$1; shift
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	LD_PRELOAD=$SENDCAP SENDCAP_FILE=$cap timeout 20 python3 "$T/send.py" "$@" ||
		{ echo "FAIL: send.py $*"; fails=$((fails + 1)); }
}
# split NAME BODYLEN: NAME.h (headers up to the empty line), NAME.e, NAME.b
split() {
	head -c $(($(wc -c <"$T/$1") - $2 - 2)) "$T/$1" >"$T/$1.h"
	printf '\r\n' >"$T/$1.e"
	tail -c "$2" "$T/$1" >"$T/$1.b"
}
split good "$len"
split inbody $((len + 37))
preload "$T/real.cap" udp "$T/good.h" "$T/good.e" "$T/good.b"
preload "$T/real.cap" tcp "$T/ok200" "$T/ping" "$T/good.h" "$T/good.e" "$T/good.b"
expect "$T/real.cap" 0 "3 messages sent by pinholed checked (2 with a body), 1 keep-alives, 0 binary records and 0 probes skipped; 0 failures"
preload "$T/realbad.cap" udp "$T/inbody.h" "$T/inbody.e" "$T/inbody.b"
expect "$T/realbad.cap" 1 'a header in the body (body line 8): "Firewall-Punch: open'
preload "$T/realbadtcp.cap" tcp "$T/ok200" "$T/inbody.h" "$T/inbody.e" "$T/inbody.b"
expect "$T/realbadtcp.cap" 1 'a header in the body (body line 8): "Firewall-Punch: open'

[ "$fails" = 0 ] || { echo "FAIL: $fails case(s)"; exit 1; }
