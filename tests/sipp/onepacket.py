#!/usr/bin/env python3
"""Requests that once stopped pinholed, each sent as it was, from anyone,
and after each the proof that pinholed still answers: an OPTIONS to itself
gets 200 within 2 s.

    onepacket.py HOST PORT [CASE...]

CASE is one of maxfwd, sdp, fork, deadflow, pipelined, tcpcontact,
nulheader, truncated (default: all). Prints one
"ok:" line per check; exits 1 at the first failure."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipsock import fail, sip  # noqa: E402

HOST, PORT = sys.argv[1], int(sys.argv[2])
WAIT = 2.0
seq = [0]


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(WAIT)
    return s


def base(method, ruri, via, user="alice", to="bob", call=None, cseq=1):
    seq[0] += 1
    return [
        "Via: SIP/2.0/%s;rport;branch=z9hG4bKop%d" % (via, seq[0]),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=op%d" % (user, HOST, seq[0]),
        "To: <sip:%s@%s>" % (to, HOST),
        "Call-ID: %s" % (call or "onepacket-%d" % seq[0]),
        "CSeq: %d %s" % (cseq, method),
    ]


def via_of(s, proto="UDP"):
    return "%s %s:%d" % (proto, HOST, s.getsockname()[1])


def status(data):
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def answer(s):
    """The first answer that is not 100 Trying."""
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        try:
            data = s.recv(65535)
        except socket.timeout:
            break
        if not data.startswith(b"SIP/2.0 100 "):
            return status(data)
    return None


def alive(case):
    s = udp()
    s.sendto(sip("OPTIONS sip:%s:%d SIP/2.0" % (HOST, PORT),
                 base("OPTIONS", "", via_of(s), to="x")), (HOST, PORT))
    got = answer(s)
    s.close()
    if not got or not got.startswith("SIP/2.0 200 "):
        fail("%s: pinholed no longer answers OPTIONS (got %r)" % (case, got))
    print("ok: %s; pinholed still answers" % case)


def register(s, user, contact, proto="UDP"):
    hdr = base("REGISTER", "", via_of(s, proto), user, user)
    hdr += ["Contact: <%s>" % contact, "Expires: 300"]
    msg = sip("REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT), hdr)
    if proto == "UDP":
        s.sendto(msg, (HOST, PORT))
        got = answer(s)
    else:
        s.sendall(msg)
        got = status(s.recv(65535))
    if not got or not got.startswith("SIP/2.0 200 "):
        fail("REGISTER %s: %r" % (user, got))


def reply(s, request, src, code):
    """An answer to a request pinholed forwarded, from its headers."""
    head = request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = [h for h in head if h.split(b":", 1)[0].strip().lower() in
            (b"via", b"from", b"to", b"call-id", b"cseq", b"record-route")]
    keep = [h + b";tag=cl" if h.lower().startswith(b"to:") else h
            for h in keep]
    keep.append(b"Contact: <sip:callee@%s:%d>"
                % (HOST.encode(), s.getsockname()[1]))
    s.sendto(b"SIP/2.0 " + code + b"\r\n" + b"\r\n".join(keep) +
             b"\r\nContent-Length: 0\r\n\r\n", src)


def expect(case, got, want):
    if not got or not got.startswith(want):
        fail("%s: expected %r, got %r" % (case, want, got))


def max_forwards_twice():
    s = udp()
    hdr = base("OPTIONS", "", via_of(s), to="x")
    hdr.insert(1, "Max-Forwards: 70")
    s.sendto(sip("OPTIONS sip:%s:%d SIP/2.0" % (HOST, PORT), hdr),
             (HOST, PORT))
    expect("Max-Forwards twice", answer(s),
           "SIP/2.0 400 Bad Request: Max-Forwards Header repeated")
    alive("OPTIONS with Max-Forwards twice answered 400")


SDP_HEAD = ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            % (HOST, HOST))
BAD_SDP = [
    ("m=audio 5m <\r\n", "malformed m= line"),
    ("m=audio 4000 udp 0 <\r\n", "malformed m= line"),
    ("m=audio 4000 RTP/AVP 0\r\nx\r\n",
     "SDP line not of the form <type>=<value>"),
    ("t=x 0\r\nm=audio 4000 RTP/AVP 0\r\n", "malformed t= line"),
    ("b=AS:x\r\nm=audio 4000 RTP/AVP 0\r\n", "malformed b= line"),
]


def bad_sdp(to):
    for body, why in BAD_SDP:
        s = udp()
        hdr = base("INVITE", "", via_of(s), to=to)
        hdr += ["Contact: <sip:alice@%s:%d>" % (HOST, s.getsockname()[1]),
                "Content-Type: application/sdp"]
        s.sendto(sip("INVITE sip:%s@%s:%d SIP/2.0" % (to, HOST, PORT), hdr,
                     SDP_HEAD + body), (HOST, PORT))
        expect("SDP %r to %s" % (body, to), answer(s),
               "SIP/2.0 400 Bad Request: " + why)
        s.close()
        alive("INVITE to %s with SDP %r answered 400 %s" % (to, body, why))


def tcp_fork(method, calls, aor):
    """method over TCP to an AoR with two UDP bindings; the client closes
    its connection; both bindings answer 200 (and 180 first for INVITE)."""
    a, b = udp(), udp()
    for s in (a, b):
        register(s, aor, "sip:%s@%s:%d" % (aor, HOST, s.getsockname()[1]))
    t = socket.create_connection((HOST, PORT), timeout=WAIT)
    for i in range(calls):
        hdr = base(method, "", via_of(t, "TCP"), to=aor)
        hdr += ["Contact: <sip:alice@%s:%d;transport=tcp>"
                % (HOST, t.getsockname()[1])]
        body = SDP_HEAD + "m=audio 4000 RTP/AVP 0\r\n"
        if method == "INVITE":
            hdr += ["Content-Type: application/sdp"]
        else:
            hdr += ["Content-Type: text/plain"]
            body = "hello"
        t.sendall(sip("%s sip:%s@%s:%d SIP/2.0" % (method, aor, HOST, PORT),
                      hdr, body))
    got = []
    for s in (a, b):
        for _ in range(calls):
            data, src = s.recvfrom(65535)
            got.append((s, data, src))
    t.close()
    time.sleep(0.2)
    for s, data, src in got:
        if method == "INVITE":
            reply(s, data, src, b"180 Ringing")
        reply(s, data, src, b"200 OK")
    time.sleep(0.3)
    alive("%d %s over TCP forked to two bindings answering 200 after the "
          "client closed" % (calls, method))
    a.close()
    b.close()


def dead_tcp_binding():
    t = socket.create_connection((HOST, PORT), timeout=WAIT)
    register(t, "carol", "sip:carol@192.0.2.9:5060;transport=tcp", "TCP")
    t.close()
    time.sleep(0.3)
    s = udp()
    for _ in range(3):
        hdr = base("MESSAGE", "", via_of(s), to="carol")
        s.sendto(sip("MESSAGE sip:carol@%s:%d SIP/2.0" % (HOST, PORT), hdr,
                     "hi"), (HOST, PORT))
    for _ in range(3):
        expect("MESSAGE to a closed TCP binding", answer(s),
               "SIP/2.0 480 Temporarily Unavailable")
    alive("MESSAGEs to a binding whose TCP connection closed answered 480")


def sdp_cases():
    bad_sdp("nobody")
    s = udp()
    register(s, "bob", "sip:bob@%s:%d" % (HOST, s.getsockname()[1]))
    bad_sdp("bob")


def fork_cases():
    tcp_fork("MESSAGE", 1, "fork1")
    tcp_fork("MESSAGE", 3, "fork2")
    tcp_fork("INVITE", 2, "fork3")


def options_tcp(user, content_length=0, body=""):
    hdr = base("OPTIONS", "", "TCP %s:9" % HOST, to=user)
    msg = sip("OPTIONS sip:%s@%s:%d SIP/2.0" % (user, HOST, PORT), hdr, body)
    return msg.replace(b"Content-Length: %d" % len(body),
                       b"Content-Length: %d" % content_length) if content_length \
        else msg


def pipelined():
    """Two messages in one write on a TCP connection: both answered; the
    second with a Content-Length near 2^32 (sofia-sip parsed the second
    without its size limit and wrote outside its buffer), then FIN."""
    t = socket.create_connection((HOST, PORT), timeout=WAIT)
    t.sendall(options_tcp("nobody") + options_tcp("noone"))
    got = b""
    end = time.monotonic() + WAIT
    while got.count(b"SIP/2.0 ") < 2 and time.monotonic() < end:
        try:
            got += t.recv(65535)
        except socket.timeout:
            break
    if got.count(b"SIP/2.0 ") < 2:
        fail("two pipelined requests on TCP: %d answers" % got.count(b"SIP/2.0 "))
    t.close()
    for cl in (4294967295, 4294967200):
        t = socket.create_connection((HOST, PORT), timeout=WAIT)
        t.sendall(options_tcp("nobody") + options_tcp("noone", cl, "hello"))
        time.sleep(0.05)
        t.shutdown(socket.SHUT_WR)
        time.sleep(0.3)
        t.close()
    alive("pipelined requests on TCP, the second with Content-Length near 2^32")


def tcp_contact():
    """A TCP binding whose Contact names the IP it registered from (no NAT:
    the port it listens on) is still reached once the registering
    connection has closed: over a new connection to that port."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind((HOST, 0))
    lst.listen(4)
    lst.settimeout(WAIT)
    t = socket.create_connection((HOST, PORT), timeout=WAIT)
    register(t, "tc", "sip:tc@%s:%d;transport=tcp"
             % (HOST, lst.getsockname()[1]), "TCP")
    t.close()
    time.sleep(1.5)  # the tick forgets the closed connection
    s = udp()
    s.sendto(sip("MESSAGE sip:tc@%s:%d SIP/2.0" % (HOST, PORT),
                 base("MESSAGE", "", via_of(s), to="tc") +
                 ["Content-Type: text/plain"], "hi"), (HOST, PORT))
    try:
        conn, _ = lst.accept()
    except socket.timeout:
        fail("a TCP Contact at its own IP: no connection came")
    conn.settimeout(WAIT)
    req = conn.recv(65535)
    head = req.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = [h for h in head if h.split(b":", 1)[0].strip().lower() in
            (b"via", b"from", b"to", b"call-id", b"cseq")]
    conn.sendall(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep) +
                 b"\r\nContent-Length: 0\r\n\r\n")
    expect("MESSAGE to a TCP Contact at its own IP", answer(s), "SIP/2.0 200 ")
    conn.close()
    lst.close()
    alive("a TCP binding with a Contact at its own IP reached anew")


def nul_header():
    """A callee's answer over UDP with a NUL byte in a header name and no
    Content-Length, forwarded to a caller over TCP: it arrives framed (the
    line sofia could not read once swallowed the line end, and the
    Content-Length pinholed added was glued to it: fuzz-net)."""
    callee = udp()
    register(callee, "nul", "sip:nul@%s:%d" % (HOST, callee.getsockname()[1]))
    t = socket.create_connection((HOST, PORT), timeout=WAIT)
    t.sendall(sip("MESSAGE sip:nul@%s:%d SIP/2.0" % (HOST, PORT),
                  base("MESSAGE", "", "TCP %s:%d" % (HOST, t.getsockname()[1]),
                       to="nul") + ["Content-Type: text/plain"], "hi"))
    req, src = callee.recvfrom(65535)
    head = req.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = [h for h in head if h.split(b":", 1)[0].strip().lower() in
            (b"via", b"from", b"to", b"call-id", b"cseq")]
    callee.sendto(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep) +
                  b"\r\nCo\x00ntent-Length: 0\r\n\r\n", src)
    got = b""
    end = time.monotonic() + WAIT
    while b"\r\n\r\n" not in got and time.monotonic() < end:
        try:
            got += t.recv(65535)
        except socket.timeout:
            break
    head = got.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    if not got.startswith(b"SIP/2.0 200 ") or b"Content-Length: 0" not in head:
        fail("an answer with a NUL in a header name, to TCP: %r" % got)
    t.close()
    callee.close()
    alive("an answer with a NUL byte in a header name, forwarded over TCP")


def truncated():
    """A datagram that ends before the body its Content-Length announces
    (RFC 3261 18.3): a request gets 400; an answer is not passed on with
    a Content-Length no body follows (fuzz-net, seed 2412540828): a final
    one taken by a transaction ends it 502."""
    s = udp()
    hdr = base("OPTIONS", "", via_of(s), to="x")
    s.sendto(sip("OPTIONS sip:%s:%d SIP/2.0" % (HOST, PORT), hdr)
             .replace(b"Content-Length: 0", b"Content-Length: 500"), (HOST, PORT))
    expect("a request shorter than its Content-Length", answer(s),
           "SIP/2.0 400 Bad Request: body shorter than its Content-Length")
    callee = udp()
    register(callee, "trunc", "sip:trunc@%s:%d" % (HOST, callee.getsockname()[1]))
    s.sendto(sip("MESSAGE sip:trunc@%s:%d SIP/2.0" % (HOST, PORT),
                 base("MESSAGE", "", via_of(s), to="trunc") +
                 ["Content-Type: text/plain"], "hi"), (HOST, PORT))
    req, src = callee.recvfrom(65535)
    head = req.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
    keep = [h for h in head if h.split(b":", 1)[0].strip().lower() in
            (b"via", b"from", b"to", b"call-id", b"cseq")]
    callee.sendto(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep) +
                  b"\r\nContent-Length: 99999\r\n\r\n", src)
    expect("the MESSAGE whose 200 was shorter than its Content-Length",
           answer(s), "SIP/2.0 502 ")
    callee.close()
    alive("a request shorter than its Content-Length answered 400, an "
          "answer so cut short ended the transaction 502")


CASES = {"maxfwd": max_forwards_twice, "sdp": sdp_cases, "fork": fork_cases,
         "deadflow": dead_tcp_binding, "pipelined": pipelined,
         "tcpcontact": tcp_contact, "nulheader": nul_header,
         "truncated": truncated}
for case in sys.argv[3:] or CASES:
    CASES[case]()
