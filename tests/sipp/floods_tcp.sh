#!/bin/sh
# Per-source limits against TCP floods from 127.0.0.2 (issue 14); during
# each, a phone at 127.0.0.3 still registers (over TCP too) and gets a
# relayed call with audio (floodlib.sh):
#  - silent connections, with pinholed's fd limit lowered to 512: the
#    source holds at most max_tcp_per_source of them, and each is closed
#    after tcp_idle_timeout;
#  - slowloris (unfinished 1 MB headers): a message is cut at
#    sip_max_message_size, and pinholed's memory stays bounded.
. "${top_srcdir:-.}/tests/sipp/floodlib.sh"

ph_start -o max_tcp_per_source=50 -o tcp_idle_timeout=2
prlimit --nofile=512:512 --pid "$(ph_pid)" || skip "cannot lower pinholed's fd limit"
flood_bg tcp tcp 127.0.0.1 "$SIP_PORT" 127.0.0.2 $((1000 * SCALE)) 5
sleep 2
legit_call "TCP connection flood" t1
flood_wait tcp
grep -q ', 0 still open after 5 s' "$WORK/flood-tcp.out" ||
	fail "idle connections were not closed after tcp_idle_timeout"
grep -aq 'max_tcp_per_source is 50' "$WORK/pinholed.log" || fail "the refusals are not logged"

ph_start
rss0=$(rss_kb)
flood_bg slow slowloris 127.0.0.1 "$SIP_PORT" 127.0.0.2 $((200 * SCALE)) 1000000 3
sleep 2
legit_call "slowloris" t1
flood_wait slow
rss1=$(rss_kb)
[ $((rss1 - rss0)) -lt 40000 ] ||
	fail "pinholed grew from $rss0 to $rss1 kB during the slowloris flood"
echo "ok: slowloris: pinholed's resident memory $rss0 -> $rss1 kB"
