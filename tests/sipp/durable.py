#!/usr/bin/env python3
"""Every binding that got a 200 survives kill -9 (durable.sh).

    durable.py load HOST PORT PID N KILL_AT OUT
        REGISTERs for N distinct AoRs (user0..), up to WINDOW unanswered at
        once; once KILL_AT have their 200, kill -9 PID while the rest are
        in flight; writes the AoRs answered 200 to OUT, one a line.
    durable.py check HOST PORT N ACKED
        asks pinholed (a REGISTER without Contact: RFC 3261 10.3 step 8)
        for each AoR's bindings: every one in ACKED must be there, whole;
        one that got no answer is there whole or not at all."""
import os
import select
import signal
import socket
import sys
import time

WINDOW = 300
DOMAIN = "example.com"


def register(host, port, lport, i, contact):
    h = ["REGISTER sip:%s:%d SIP/2.0" % (host, port),
         "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKdur%d" % (host, lport, i),
         "Max-Forwards: 70", "From: <sip:user%d@%s>;tag=d%d" % (i, DOMAIN, i),
         "To: <sip:user%d@%s>" % (i, DOMAIN), "Call-ID: dur-%d" % i,
         "CSeq: %d REGISTER" % (2 if contact else 1)]
    if contact:
        h += ["Contact: <sip:user%d@%s:%d>" % (i, host, lport),
              "Expires: 3600"]
    else:  # as a phone's query: open, pinholed answers a UDP source no
        # more than it sent (stranger.h), and a bare one has no room for
        # the binding
        h += ["User-Agent: durable.py", "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"]
    return ("\r\n".join(h + ["Content-Length: 0", "", ""])).encode()


def answers(s):
    """(call number, status line, message) of every answer waiting."""
    out = []
    while True:
        try:
            d = s.recv(65535)
        except BlockingIOError:
            return out
        start = d.split(b"\r\n", 1)[0]
        for line in d.split(b"\r\n"):  # full or compact form (i:)
            name, _, value = line.partition(b":")
            if name.lower() in (b"call-id", b"i") and \
                    value.strip().startswith(b"dur-"):
                out.append((int(value.strip()[4:]), start, d))
                break


def load(host, port, pid, n, kill_at, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.setblocking(False)
    lport = s.getsockname()[1]
    acked, answered, sent, killed = set(), set(), 0, None
    t0 = time.monotonic()
    end = t0 + 20
    while time.monotonic() < end:
        if killed is None and len(acked) >= kill_at:
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            print("killed pinholed: %d answered 200, %d sent" %
                  (len(acked), sent))
        if killed is not None and time.monotonic() - killed > 0.5:
            break
        while killed is None and sent < n and sent - len(answered) < WINDOW:
            s.sendto(register(host, port, lport, sent, True), (host, port))
            sent += 1
        select.select([s], [], [], 0.05)
        for i, start, _ in answers(s):
            if not start.startswith(b"SIP/2.0 100 "):
                answered.add(i)
            if start.startswith(b"SIP/2.0 200 "):
                acked.add(i)
            elif not start.startswith(b"SIP/2.0 100 "):
                sys.exit("FAIL: user%d: %r" % (i, start))
    if killed is None:
        sys.exit("FAIL: pinholed answered only %d of %d before the kill "
                 "point %d" % (len(acked), sent, kill_at))
    with open(out, "w") as f:
        f.write("%d\n" % lport)
        f.writelines("%d\n" % i for i in sorted(acked))
    print("ok: %d REGISTERs sent, %d answered 200, %d unanswered at the "
          "kill (%.1f s)" % (sent, len(acked), sent - len(acked),
                             time.monotonic() - t0))


def check(host, port, n, acked_file):
    with open(acked_file) as f:
        lport = int(f.readline())
        acked = set(int(x) for x in f)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.setblocking(False)
    want = ("<sip:user%%d@%s:%d>;expires=" % (host, lport)).encode()
    got, sent, t0 = {}, 0, time.monotonic()
    sent_at = {}
    while len(got) < n and time.monotonic() < t0 + 20:
        now = time.monotonic()
        while sent < n and len(sent_at) < WINDOW:
            s.sendto(register(host, port, 0, sent, False), (host, port))
            sent_at[sent] = now
            sent += 1
        for i, at in list(sent_at.items()):  # lost: asked again
            if now - at > 1:
                s.sendto(register(host, port, 0, i, False), (host, port))
                sent_at[i] = now
        select.select([s], [], [], 0.05)
        for i, start, d in answers(s):
            if not start.startswith(b"SIP/2.0 200 "):
                sys.exit("FAIL: query of user%d: %r" % (i, start))
            contacts = [ln for ln in d.split(b"\r\n")
                        if ln.lower().startswith((b"contact:", b"m:"))]
            got[i] = contacts
            sent_at.pop(i, None)
    if len(got) < n:
        sys.exit("FAIL: %d of %d queries answered" % (len(got), n))
    lost, stored, half = [], 0, []
    for i in range(n):
        c = got[i]
        whole = len(c) == 1 and (want % i) in c[0]
        if c and not whole:
            half.append(i)
        elif whole:
            stored += 1
        elif i in acked:
            lost.append(i)
    if lost:
        sys.exit("FAIL: %d of the %d bindings answered 200 are gone after "
                 "kill -9 (user%d ...)" % (len(lost), len(acked), lost[0]))
    if half:
        sys.exit("FAIL: user%d has a binding not as registered: %r" %
                 (half[0], got[half[0]]))
    print("ok: all %d bindings answered 200 are there after kill -9 and a "
          "restart; %d stored in all, %d of them unanswered; none partly "
          "(%.1f s)" % (len(acked), stored, stored - len(acked),
                        time.monotonic() - t0))


if sys.argv[1] == "load":
    load(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
         int(sys.argv[6]), sys.argv[7])
else:
    check(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
