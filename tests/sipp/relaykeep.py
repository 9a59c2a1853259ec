#!/usr/bin/env python3
"""A relayed call's media goes on across pinholed restarts (relaykeep.sh).

alice calls bob; both name private addresses in their SDP, so pinholed
relays them, and both send RTP from loopback (a NAT's mapping: the relay
latches it). RTP flows both ways at a packet each 20 ms for the whole
test. After each of RESTARTS restarts (the shell does them: this script
writes WORK/restart-N and waits for WORK/restarted-N), media must flow
again both ways through the same relay ports within GRACE seconds, and
then lose at most a tenth of what was sent. At the end alice's BYE, over
the dialog's route, gets its 200.

    relaykeep.py HOST PORT WORK RESTARTS"""
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipsock import callee_reply, fail, sip  # noqa: E402

HOST, PORT, WORK, RESTARTS = (sys.argv[1], int(sys.argv[2]), sys.argv[3],
                              int(sys.argv[4]))
CALL = "relaykeep-1"
GRACE = 2.0
seq = [0]


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(3.0)
    return s


def sdp(ip):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio 4000 RTP/AVP 0\r\n" % (ip, ip))


def recv(s, want):
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            break
        if data.startswith(want) and not data.startswith(b"SIP/2.0 1"):
            return data, src
    return None, None


def headers(msg, name):
    out = []
    for line in msg.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name:
            out.append(v.strip().decode())
    return out


def body_port(msg):
    for line in msg.split(b"\r\n\r\n", 1)[1].split(b"\r\n"):
        if line.startswith(b"m=audio "):
            return int(line.split()[1])
    return None


def base(s, method, cseq, to_tag=""):
    seq[0] += 1
    return ["Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrk%d"
            % (HOST, s.getsockname()[1], seq[0]),
            "Max-Forwards: 70",
            "From: <sip:alice@example.com>;tag=rka",
            "To: <sip:bob@example.com>" + to_tag, "Call-ID: " + CALL,
            "CSeq: %d %s" % (cseq, method),
            "Contact: <sip:alice@%s:%d>" % (HOST, s.getsockname()[1])]


def reply(s, request, src, code, body=""):
    callee_reply(s, request, src, code, "bob", "rkb", body)


def in_dialog(s, method, cseq, route, target):
    hdr = base(s, method, cseq, ";tag=rkb") + ["Route: " + r for r in route]
    s.sendto(sip("%s %s SIP/2.0" % (method, target), hdr), (HOST, PORT))


# ---- the call -----------------------------------------------------------
alice, bob = udp(), udp()
bob.sendto(sip("REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT), [
    "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrkreg" % (HOST,
                                                       bob.getsockname()[1]),
    "Max-Forwards: 70", "From: <sip:bob@example.com>;tag=rkr",
    "To: <sip:bob@example.com>", "Call-ID: relaykeep-reg", "CSeq: 1 REGISTER",
    "Contact: <sip:bob@%s:%d>" % (HOST, bob.getsockname()[1]),
    "Expires: 300"]), (HOST, PORT))
got, _ = recv(bob, b"SIP/2.0 ")
if not got or not got.startswith(b"SIP/2.0 200 "):
    fail("bob's REGISTER: %r" % got)

am, bm = udp(), udp()   # their media sockets
alice.sendto(sip("INVITE sip:bob@example.com SIP/2.0",
                 base(alice, "INVITE", 1) +
                 ["Content-Type: application/sdp"], sdp("10.0.0.1")),
             (HOST, PORT))
inv, isrc = recv(bob, b"INVITE ")
if not inv:
    fail("the INVITE did not reach bob")
to_b = body_port(inv)              # where bob sends: the callee leg's port
reply(bob, inv, isrc, b"200 OK", sdp("10.0.0.2"))
ok, _ = recv(alice, b"SIP/2.0 ")
if not ok or not ok.startswith(b"SIP/2.0 200 ") or b"a=fw-punch:relay" not in ok:
    fail("the call is not answered through the relay: %r" % ok)
to_a = body_port(ok)               # where alice sends: the caller leg's port
route = list(reversed(headers(ok, b"record-route")))
target = headers(ok, b"contact")[0].strip("<>")
in_dialog(alice, "ACK", 1, route, target)
print("ok: call answered, relayed: alice sends to %d, bob to %d" % (to_a, to_b))

# ---- media ----------------------------------------------------------------
sent = {am: 0, bm: 0}
got = {am: [], bm: []}   # (time, source port) of each packet received
dst = {am: (HOST, to_a), bm: (HOST, to_b)}


def media(until):
    """RTP both ways every 20 ms until until() is true (at most 20 s)."""
    nxt = time.monotonic()
    end = nxt + 20
    while not until() and time.monotonic() < end:
        now = time.monotonic()
        if now >= nxt:
            for s in (am, bm):
                sent[s] += 1
                s.sendto(struct.pack("!BBHII", 0x80, 0, sent[s] & 0xffff,
                                     sent[s] * 160, id(s) & 0xffffffff) +
                         b"\xff" * 160, dst[s])
            nxt += 0.02
        r, _, _ = select.select([am, bm], [], [], max(0, nxt - now))
        for s in r:
            _, src = s.recvfrom(2048)
            got[s].append((time.monotonic(), src[1]))


def check(since, what, asked=None):
    """Both got media since `since` (pinholed ready again), from their
    own relay port, soon; the longest silence since `asked` (the restart
    asked for) is the outage."""
    for s, who, port in ((am, "alice", to_a), (bm, "bob", to_b)):
        after = [(t, p) for t, p in got[s] if t >= since]
        if not after:
            fail("%s: %s got no media" % (what, who))
        if any(p != port for _, p in after):
            fail("%s: %s got media from other ports than the relay's %d: %s"
                 % (what, who, port, sorted({p for _, p in after})))
        first = after[0][0] - since
        if first > GRACE:
            fail("%s: %s's media came back only after %.2f s" %
                 (what, who, first))
        times = [t for t, _ in got[s] if asked is None or t >= asked]
        gap = max((b - a for a, b in zip(times, times[1:])), default=0)
        print("ok: %s: %s gets media again from relay port %d, %.2f s after "
              "pinholed was ready; media stopped for %.2f s" %
              (what, who, port, first, gap))


def steady(what):
    """The last second: at most a tenth lost, each way."""
    t0 = time.monotonic()
    s0 = dict(sent)
    media(lambda: time.monotonic() - t0 >= 1.0)
    for s, o, who in ((am, bm, "alice"), (bm, am, "bob")):
        n = sum(1 for t, _ in got[s] if t >= t0 + 0.1)
        want = sent[o] - s0[o] - 5
        if n < want * 0.9:
            fail("%s: %s got %d of the last %d packets" % (what, who, n, want))
        print("ok: %s: %s got %d of the last %d packets" % (what, who, n,
                                                            want))


start = time.monotonic()
media(lambda: time.monotonic() - start >= 1.0)
check(start, "before any restart")
steady("before any restart")
for n in range(1, RESTARTS + 1):
    asked = time.monotonic()
    open(os.path.join(WORK, "restart-%d" % n), "w").close()
    flag = os.path.join(WORK, "restarted-%d" % n)
    media(lambda: os.path.exists(flag))
    if not os.path.exists(flag):
        fail("restart %d did not happen" % n)
    since = time.monotonic()
    media(lambda: time.monotonic() - since >= GRACE + 0.2)
    check(since, "after restart %d" % n, asked)
    steady("after restart %d" % n)

in_dialog(alice, "BYE", 2, route, target)
bye, bsrc = recv(bob, b"BYE ")
if not bye:
    fail("alice's BYE did not reach bob after the restarts")
reply(bob, bye, bsrc, b"200 OK")
got_ok, _ = recv(alice, b"SIP/2.0 ")
if not got_ok or not got_ok.startswith(b"SIP/2.0 200 "):
    fail("BYE: %r" % got_ok)
print("ok: the call ends with a BYE over its route after the restarts")
