#!/usr/bin/env python3
"""SIGTERM stops pinholed gracefully (sigterm.sh): with a relayed call in
progress and another ringing, SIGTERM; then a new INVITE gets 503 with
Retry-After, a REGISTER still gets its 200, the ringing call ends with its
callee's answer (486), and pinholed exits by itself.

    sigterm.py HOST PORT PID"""
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipsock import callee_reply  # noqa: E402

HOST, PORT, PID = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seq = [0]


def fail(why):
    sys.exit("FAIL: " + why)


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(2.0)
    return s


def sip(start, headers, body=""):
    lines = [start] + headers + ["Content-Length: %d" % len(body), "", body]
    return "\r\n".join(lines).encode()


def sdp(ip):
    # a private address: pinholed relays a plain phone that names one
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio 4000 RTP/AVP 0\r\n" % (ip, ip))


def base(s, method, user, to, call, cseq=1):
    seq[0] += 1
    return ["Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKst%d"
            % (HOST, s.getsockname()[1], seq[0]),
            "Max-Forwards: 70",
            "From: <sip:%s@example.com>;tag=st%d" % (user, seq[0]),
            "To: <sip:%s@example.com>" % to, "Call-ID: %s" % call,
            "CSeq: %d %s" % (cseq, method),
            "Contact: <sip:%s@%s:%d>" % (user, HOST, s.getsockname()[1])]


def recv(s, want):
    """The first message starting with want (bytes), else None."""
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            return None, None
        if data.startswith(want):
            return data, src
    return None, None


def status(s):
    end = time.monotonic() + 3
    while time.monotonic() < end:
        data, _ = recv(s, b"SIP/2.0 ")
        if not data or not data.startswith(b"SIP/2.0 1"):
            return data
    return None


def register(s, user):
    s.sendto(sip("REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT),
                 base(s, "REGISTER", user, user, "st-reg-" + user) +
                 ["Expires: 300"]), (HOST, PORT))
    got = status(s)
    if not got or not got.startswith(b"SIP/2.0 200 "):
        fail("REGISTER %s: %r" % (user, got))


def invite(s, call, body=""):
    hdr = base(s, "INVITE", "alice", "carol", call)
    if body:
        hdr.append("Content-Type: application/sdp")
    s.sendto(sip("INVITE sip:carol@example.com SIP/2.0", hdr, body),
             (HOST, PORT))


def reply(s, request, src, code, body=""):
    """The callee's answer to a request pinholed forwarded to it."""
    callee_reply(s, request, src, code, "carol", "cl", body)


def gone():
    try:
        with open("/proc/%d/stat" % PID) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


carol, alice, dave = udp(), udp(), udp()
register(carol, "carol")

invite(alice, "sigterm-1", sdp("10.0.0.1"))
req, src = recv(carol, b"INVITE ")
if not req:
    fail("the INVITE did not reach carol")
reply(carol, req, src, b"200 OK", sdp("10.0.0.2"))
got = status(alice)
if not got or not got.startswith(b"SIP/2.0 200 "):
    fail("call 1 not answered: %r" % got)
if b"c=IN IP4 10.0.0.2" in got:
    fail("call 1 is not relayed: the answer names carol's own address")
print("ok: call 1 answered, relayed")

invite(alice, "sigterm-2")
ringing, rsrc = recv(carol, b"INVITE ")
if not ringing:
    fail("the second INVITE did not reach carol")
reply(carol, ringing, rsrc, b"180 Ringing")
print("ok: call 2 ringing")

os.kill(PID, signal.SIGTERM)
time.sleep(0.2)
if gone():
    fail("pinholed exited at once, with a call still ringing")
invite(alice, "sigterm-3")
got = status(alice)
if not got or not got.startswith(b"SIP/2.0 503 ") or \
        b"\r\nretry-after: " not in got.lower():
    fail("a new INVITE after SIGTERM got %r, not 503 with Retry-After" % got)
print("ok: a new call after SIGTERM: " + got.split(b"\r\n")[0].decode())
register(dave, "dave")
print("ok: a REGISTER after SIGTERM still gets 200")

reply(carol, ringing, rsrc, b"486 Busy Here")
got = status(alice)
if not got or not got.startswith(b"SIP/2.0 486 "):
    fail("the ringing call did not end with its callee's answer: %r" % got)
print("ok: the call being set up ended with its callee's 486")
end = time.monotonic() + 5
while not gone() and time.monotonic() < end:
    time.sleep(0.05)
if not gone():
    fail("pinholed still runs 5 s after SIGTERM")
print("ok: pinholed stopped by itself")
