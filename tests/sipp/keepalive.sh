#!/bin/sh
# RFC 5626 4.4.1 on a TCP flow to the real pinholed: each CRLFCRLF ping is
# answered with one CRLF pong and nothing else, and the same connection
# still carries SIP (a REGISTER answered 200 on it) before and after.
# bash for /dev/tcp; make check runs this with /bin/sh.
if [ -z "${BASH_VERSION:-}" ]; then
	command -v bash >/dev/null 2>&1 || {
		[ "${PH_REQUIRE_ALL:-0}" != 0 ] && { echo "FAIL: needs bash (PH_REQUIRE_ALL is set)"; exit 1; }
		echo "SKIP: needs bash"; exit 77
	}
	exec bash "$0" "$@"
fi
. "${top_srcdir:-.}/tests/sipp/lib.sh"

ph_start
exec 3<>"/dev/tcp/127.0.0.1/$SIP_PORT" || fail "cannot connect to TCP $SIP_PORT"

ping() { # N: one ping, one pong of exactly CRLF
	printf '\r\n\r\n' >&3
	IFS= read -r -t 2 -N 2 pong <&3 || fail "ping $1: no pong within 2 s"
	[ "$pong" = $'\r\n' ] || fail "ping $1: pong was '$(printf %s "$pong" | od -An -c)'"
	if IFS= read -r -t 0.3 -N 1 more <&3; then
		fail "ping $1: more than CRLF came back: '$(printf %s "$more" | od -An -c)'"
	fi
	echo "ok: ping $1 answered with CRLF"
}

register() { # CSEQ: a REGISTER on the same connection, 200 with our Contact
	printf '%s\r\n' "REGISTER sip:127.0.0.1:$SIP_PORT SIP/2.0" \
		"Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKka$1;rport" \
		"Max-Forwards: 70" "From: <sip:kai@example.com>;tag=ka" \
		"To: <sip:kai@example.com>" "Call-ID: keepalive-$$" \
		"CSeq: $1 REGISTER" "Contact: <sip:kai@127.0.0.1:9;transport=tcp>" \
		"Expires: 600" "Content-Length: 0" "" >&3
	status= contact=
	while IFS= read -r -t 2 line <&3; do
		line=${line%$'\r'}
		[ -z "$line" ] && break
		[ -z "$status" ] && status=$line
		case $line in Contact:*) contact=$line ;; esac
	done
	case $status in "SIP/2.0 200 "*) ;; *) fail "REGISTER $1 on the flow: got '$status'" ;; esac
	case $contact in *"<sip:kai@127.0.0.1:9;transport=tcp>;expires=600"*) ;;
		*) fail "REGISTER $1 on the flow: Contact '$contact'" ;; esac
	echo "ok: REGISTER $1 answered 200 on the flow"
}

ping 1
ping 2
register 1
ping 3
register 2
exec 3>&-
grep -q 'REGISTER kai@example.com from 127.0.0.1:[0-9]*/tcp: 200' "$WORK/pinholed.log" ||
	fail "no TCP registration of kai in the log"
