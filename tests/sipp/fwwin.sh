#!/bin/sh
# Firewall-Window (PROTOCOL.md section 2) over UDP against the real
# pinholed: stored and echoed with received=; every malformed header
# answered 400 with a reason naming Firewall-Window, nothing of it stored.
. "${top_srcdir:-.}/tests/sipp/lib.sh"

ph_start
sipp_run fwwin.xml
grep -q 'REGISTER carol@example.com from 127.0.0.1:[0-9]*/udp: 400 [^;]*Firewall-Window' \
	"$WORK/pinholed.log" || fail "the refused Firewall-Window is not logged"

# Each breaks the grammar of section 2 in one place.
for fw in \
	'198.51.100.2;mapping=sideways' \
	'198.51.100.2;filtering=open' \
	'198.51.100.2;hops=123' \
	'198.51.100.2;hops=' \
	'198.51.100.2;hops=two' \
	'198.51.100.2;lifetime=123456' \
	'198.51.100.2;lifetime=-1' \
	'198.51.100.2;local=' \
	'198.51.100.2;local=10.0.1.2.7' \
	';mapping=eim' \
	'198.51.100.256;mapping=eim' \
	'2001:db8::2;mapping=eim' \
	'198.51.100.2 junk;mapping=eim' \
	''
do
	sipp_run fwwin_bad.xml -key fw "$fw"
done
