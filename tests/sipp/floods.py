#!/usr/bin/env python3
"""Floods from one source address against pinholed (issue 14), each
bounded in count and time, to loopback only:

    floods.py relay HOST PORT SRC COUNT RATE HOLD
        register "sink" from SRC, then COUNT INVITEs with an SDP offer to
        it at RATE/s; sink never answers, so each holds its relay
        reservation; keeps reading for HOLD s.
    floods.py bindings HOST PORT SRC COUNT RATE
        COUNT REGISTERs of distinct users from SRC at RATE/s.
    floods.py invite HOST PORT SRC RATE SECONDS
        INVITEs to a user no one registered, never ACKed, at RATE/s.
    floods.py tcp HOST PORT SRC COUNT HOLD
        COUNT TCP connections from SRC, silent, held HOLD s.
    floods.py slowloris HOST PORT SRC COUNT SIZE HOLD
        COUNT TCP connections from SRC, each sending a SIZE-byte header
        that never ends, held HOLD s.

Prints one summary line: what was sent and what came back."""
import collections
import errno
import os
import re
import resource
import socket
import sys
import time

MODE, HOST, PORT, SRC = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ARGS = [float(a) for a in sys.argv[5:]]
if not HOST.startswith("127.") or not SRC.startswith("127."):
    sys.exit("floods.py: loopback only")
TAG = "%d" % os.getpid()
# one descriptor per connection: as many as the hard limit allows
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
answers = collections.Counter()


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    s.bind((SRC, 0))
    s.setblocking(False)
    return s


def drain(s):
    while True:
        try:
            d = s.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        if d.startswith(b"SIP/2.0 "):
            answers[d[8:11].decode()] += 1
            # compact form (a stranger's answer) has no space after ':'
            if d.startswith(b"SIP/2.0 503") and re.search(rb"\r\nRetry-After: ?\d", d):
                answers["503 with Retry-After"] += 1
        else:
            answers[d.split(b" ", 1)[0].decode(errors="replace")] += 1


def request(method, user, lport, i, body="", contact_user=None):
    lines = [
        "%s sip:%s@%s:%d SIP/2.0" % (method, user, HOST, PORT),
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKfl%s.%d" % (SRC, lport, TAG, i),
        "Max-Forwards: 70",
        "From: <sip:flood%d@%s>;tag=fl%s" % (i, HOST, TAG),
        "To: <sip:%s@%s>" % (user, HOST),
        "Call-ID: flood-%s-%d" % (TAG, i),
        "CSeq: 1 %s" % method,
        "Contact: <sip:%s@%s:%d>" % (contact_user or "flood", SRC, lport),
    ]
    if method == "REGISTER":
        lines.append("Expires: 600")
    if body:
        lines.append("Content-Type: application/sdp")
    lines += ["Content-Length: %d" % len(body), "", body]
    return "\r\n".join(lines).encode()


def sdp(port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (SRC, SRC, port))


def paced(count, rate, send, s):
    start = time.time()
    for i in range(count):
        while time.time() < start + i / rate:
            drain(s)
            time.sleep(0.001)
        send(i)
    drain(s)


def hold(s, seconds):
    end = time.time() + seconds
    while time.time() < end:
        drain(s)
        time.sleep(0.01)


def relay():
    count, rate, held = int(ARGS[0]), ARGS[1], ARGS[2]
    s = udp()
    lport = s.getsockname()[1]
    s.sendto(request("REGISTER", "sink", lport, 0, contact_user="sink"), (HOST, PORT))
    hold(s, 0.5)
    paced(count, rate, lambda i: s.sendto(
        request("INVITE", "sink", lport, i + 1, sdp(20000 + 2 * (i % 1000))),
        (HOST, PORT)), s)
    hold(s, held)
    return "%d INVITEs with an offer" % count


def bindings():
    count, rate = int(ARGS[0]), ARGS[1]
    s = udp()
    lport = s.getsockname()[1]
    paced(count, rate, lambda i: s.sendto(
        request("REGISTER", "flood%d" % i, lport, i), (HOST, PORT)), s)
    hold(s, 1.0)
    return "%d REGISTERs" % count


def invite():
    rate, seconds = ARGS[0], ARGS[1]
    s = udp()
    lport = s.getsockname()[1]
    count = int(rate * seconds)
    paced(count, rate, lambda i: s.sendto(
        request("INVITE", "nobody", lport, i, sdp(20000)), (HOST, PORT)), s)
    hold(s, 0.5)
    return "%d INVITEs, never ACKed" % count


def connect_many(count, first=b""):
    socks, refused = [], 0
    for _ in range(count):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.bind((SRC, 0))
        c.settimeout(2)  # a full backlog: the kernel holds the SYN
        try:
            c.connect((HOST, PORT))
            if first:
                c.settimeout(2)
                try:
                    c.sendall(first)
                except OSError:
                    pass  # closed, or no longer read: what pinholed chose
        except OSError:
            refused += 1
            c.close()
            continue
        socks.append(c)
    return socks, refused


def still_open(socks):
    n = 0
    for c in socks:
        c.setblocking(False)
        try:
            n += c.recv(1, socket.MSG_PEEK) != b""
        except (BlockingIOError, InterruptedError):
            n += 1
        except OSError:
            pass
    return n


def tcp():
    count, held = int(ARGS[0]), ARGS[1]
    socks, refused = connect_many(count)
    time.sleep(held)
    n = still_open(socks)
    for c in socks:
        c.close()
    return "%d connections (%d refused at connect), %d still open after %.0f s" % (
        count, refused, n, held)


def slowloris():
    count, size, held = int(ARGS[0]), int(ARGS[1]), ARGS[2]
    head = b"INVITE sip:x@%s SIP/2.0\r\nX-Slow: " % HOST.encode()
    socks, refused = connect_many(count, head + b"a" * size)
    time.sleep(held)
    n = still_open(socks)
    for c in socks:
        c.close()
    return "%d connections with an unfinished %d-byte header (%d refused), " \
           "%d still open after %.0f s" % (count, size, refused, n, held)


what = {"relay": relay, "bindings": bindings, "invite": invite, "tcp": tcp,
        "slowloris": slowloris}[MODE]()
print("floods.py %s from %s: %s; answers: %s" % (
    MODE, SRC, what, ", ".join("%s x%d" % kv for kv in sorted(answers.items())) or "none"))
