#!/usr/bin/env python3
"""pinholed is no open relay and no reflector (issue 14): it sends only to
registered bindings, along routes it signed, and answers where a request
came from. A victim listens on VICTIM (UDP and TCP) and must hear nothing;
a stranger on STRANGER holds a dialog's route but is neither of its sides.

    openrelay.py HOST PORT [CASE...]

CASE is one of route, maddr, stray, ruri, stranger, fwwin, fwbad (default:
all). Prints one "ok:" line per check; exits 1 at the first failure."""
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipsock import callee_reply, fail, header, sip  # noqa: E402

HOST, PORT = sys.argv[1], int(sys.argv[2])
VICTIM, STRANGER = "127.0.0.5", "127.0.0.6"
WAIT = 2.0
seq = [0]


def udp(host=HOST, port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    s.settimeout(WAIT)
    return s


def port_of(s):
    return s.getsockname()[1]


def base(method, via, user="alice", to="bob", call=None, cseq=1,
         to_tag=None, from_tag=None):
    seq[0] += 1
    return [
        "Via: %s;branch=z9hG4bKor%d" % (via, seq[0]),
        "Max-Forwards: 70",
        "From: <sip:%s@%s>;tag=%s" % (user, HOST, from_tag or "or%d" % seq[0]),
        "To: <sip:%s@%s>%s" % (to, HOST, ";tag=" + to_tag if to_tag else ""),
        "Call-ID: %s" % (call or "openrelay-%d" % seq[0]),
        "CSeq: %d %s" % (cseq, method),
    ]


def via_of(s, proto="UDP"):
    return "SIP/2.0/%s %s:%d;rport" % (proto, s.getsockname()[0], port_of(s))


def status(data):
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def recv_sip(s, skip_100=True):
    """The next SIP message on s that is not 100 Trying, or None."""
    end = time.monotonic() + WAIT
    while time.monotonic() < end:
        try:
            data = s.recv(65535)
        except socket.timeout:
            break
        if not (skip_100 and data.startswith(b"SIP/2.0 100 ")):
            return data
    return None


def answer(s):
    data = recv_sip(s)
    return status(data) if data else None


def expect(case, got, want):
    if not got or not got.startswith(want):
        fail("%s: expected %r, got %r" % (case, want, got))


def sdp_media(msg):
    """(c= address, m= port) of a message's SDP."""
    body = msg.split(b"\r\n\r\n", 1)[1].decode()
    addr = port = None
    for line in body.split("\r\n"):
        if line.startswith("c=IN IP4 "):
            addr = line[9:].strip()
        elif line.startswith("m=audio "):
            port = int(line.split()[1])
    return addr, port


def sdp(addr, port, extra=""):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\n%s" % (addr, addr, port, extra))


class Victim:
    """Sockets on VICTIM: an RTP/RTCP pair and a TCP listener. Nothing may
    arrive on any of them."""

    def __init__(self):
        for _ in range(50):
            self.rtp = udp(VICTIM)
            try:
                self.rtcp = udp(VICTIM, port_of(self.rtp) + 1)
                break
            except OSError:
                self.rtp.close()
        else:
            fail("no port pair on %s" % VICTIM)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind((VICTIM, 0))
        self.tcp.listen(4)

    def quiet(self, case, secs=1.0):
        end = time.monotonic() + secs
        socks = [self.rtp, self.rtcp, self.tcp]
        while time.monotonic() < end:
            r, _, _ = select.select(socks, [], [], end - time.monotonic())
            if r:
                what = "a connection" if r[0] is self.tcp else \
                    "%r" % r[0].recv(65535)[:60]
                fail("%s: the victim got %s" % (case, what))
        print("ok: %s; nothing reached the victim" % case)

    def close(self):
        for s in (self.rtp, self.rtcp, self.tcp):
            s.close()


def register(s, user):
    hdr = base("REGISTER", via_of(s), user, user)
    hdr += ["Contact: <sip:%s@%s:%d>" % (user, HOST, port_of(s)),
            "Expires: 300"]
    s.sendto(sip("REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT), hdr),
             (HOST, PORT))
    expect("REGISTER " + user, answer(s), "SIP/2.0 200 ")


def rtp(n):
    return struct.pack("!BBHII", 0x80, 0, n, n * 160, 0x1234) + b"\0" * 160


def count(s, secs=0.6):
    n, end = 0, time.monotonic() + secs
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], end - time.monotonic())
        if r:
            s.recv(65535)
            n += 1
    return n


def pump(src, dst, n=20):
    for i in range(n):
        src.sendto(rtp(i), dst)
        time.sleep(0.002)


class Call:
    """A relayed call from alice (a) to a registered callee (b), answered
    and ACKed, with each side's relay port."""

    def __init__(self, callee, extra_hdr=(), media=None):
        self.a, self.b = udp(), udp()
        self.am, self.bm = udp(), udp()
        register(self.b, callee)
        self.callee = callee
        self.call_id = "openrelay-call-%s" % callee
        addr, port = media or (HOST, port_of(self.am))
        hdr = base("INVITE", via_of(self.a), to=callee, call=self.call_id,
                   from_tag="caller")
        hdr += ["Contact: <sip:alice@%s:%d>" % (HOST, port_of(self.a)),
                "Content-Type: application/sdp"] + list(extra_hdr)
        self.a.sendto(sip("INVITE sip:%s@%s:%d SIP/2.0" % (callee, HOST, PORT),
                          hdr, sdp(addr, port)), (HOST, PORT))
        inv, src = self.b.recvfrom(65535)
        self.rb = sdp_media(inv)
        self.rr = header(inv, "Record-Route")
        if not self.rr:
            fail("the forwarded INVITE has no Record-Route")
        self.answer = lambda: callee_reply(self.b, inv, src, b"200 OK", "callee",
                                           "callee", sdp(HOST, port_of(self.bm)))
        self.answer()
        ok = recv_sip(self.a)
        expect("INVITE to " + callee, ok and status(ok), "SIP/2.0 200 ")
        self.ra = sdp_media(ok)
        self.cseq = 1
        self.in_dialog(self.a, "ACK", "caller", "callee")
        ack = recv_sip(self.b)
        if not ack or not ack.startswith(b"ACK "):
            fail("the ACK did not follow the route: %r" % ack)

    def in_dialog(self, s, method, from_tag, to_tag, body="", to="bob"):
        self.cseq += 1
        hdr = base(method, via_of(s), to=self.callee, call=self.call_id,
                   cseq=self.cseq, to_tag=to_tag, from_tag=from_tag)
        hdr += ["Route: %s" % self.rr,
                "Contact: <sip:x@%s:%d>" % s.getsockname()]
        if body:
            hdr.append("Content-Type: application/sdp")
        s.sendto(sip("%s sip:%s@%s:%d SIP/2.0" % (method, to, HOST,
                                                  port_of(self.b)),
                     hdr, body), (HOST, PORT))

    def close(self):
        for s in (self.a, self.b, self.am, self.bm):
            s.close()


def route_case():
    """A Route naming pinholed's flow-token parameters, unsigned or badly
    signed, is refused 403 and nothing is sent, over UDP or TCP."""
    v, s = Victim(), udp()
    vu, vt = port_of(v.rtp), v.tcp.getsockname()[1]
    for bt, vport, sig in (("udp", vu, ""), ("tcp", vt, ""),
                           ("udp", vu, ";ph-s=AAAAAAAAAAAAAAAA")):
        route = ("<sip:%s:%d;lr;ph-a=%s:%d;ph-at=udp;ph-b=%s:%d;ph-bt=%s%s>"
                 % (HOST, PORT, HOST, port_of(s), VICTIM, vport, bt, sig))
        for method, tag in (("INVITE", None), ("BYE", "x"), ("ACK", "x")):
            hdr = base(method, via_of(s), to="900", to_tag=tag)
            hdr += ["Route: " + route]
            s.sendto(sip("%s sip:900123@%s:%d SIP/2.0" % (method, VICTIM, vport),
                         hdr), (HOST, PORT))
            if method != "ACK":
                expect("%s with a forged Route (%s%s)" % (method, bt, sig),
                       answer(s), "SIP/2.0 403 Forbidden: Route not signed")
    v.quiet("INVITE, BYE, ACK along forged Routes to UDP and TCP: 403")
    v.close()
    s.close()


def maddr_case():
    """Answers go to the request's source: not to the Via's maddr, nor to
    the port its Via names without rport."""
    v, s, other = Victim(), udp(), udp()
    for method, ruri, via in (
            ("OPTIONS", "sip:%s:%d" % (HOST, PORT),
             "SIP/2.0/UDP %s:%d;maddr=%s" % (VICTIM, port_of(v.rtp), VICTIM)),
            ("INVITE", "sip:nobody@%s:%d" % (HOST, PORT),
             "SIP/2.0/UDP %s:%d;maddr=%s;rport" % (HOST, port_of(v.rtp), VICTIM)),
            ("REGISTER", "sip:%s:%d" % (HOST, PORT),
             "SIP/2.0/UDP %s:%d;maddr=%s" % (HOST, port_of(v.rtp), VICTIM)),
            ("OPTIONS", "sip:%s:%d" % (HOST, PORT),
             "SIP/2.0/UDP %s:%d" % (HOST, port_of(other)))):
        hdr = base(method, via, "maddr", "maddr")
        if method == "REGISTER":
            hdr += ["Contact: <sip:maddr@%s:%d>" % (HOST, port_of(s))]
        s.sendto(sip("%s %s SIP/2.0" % (method, ruri), hdr), (HOST, PORT))
        got = answer(s)
        if not got or not got.startswith("SIP/2.0 "):
            fail("%s with Via %s: no answer at the source" % (method, via))
    other.settimeout(0.3)
    try:
        fail("an answer went to the Via's port: %r" % other.recv(65535)[:60])
    except socket.timeout:
        pass
    v.quiet("OPTIONS, INVITE, REGISTER with Via maddr or a foreign port "
            "answered at the source")
    v.close()
    s.close()
    other.close()


def stray_case():
    """A response no transaction claims, whose top Via pinholed did not
    add, is dropped: whatever its next Vias name."""
    v, s = Victim(), udp()
    for top in ("z9hG4bKnotours", "z9hG4bKph" + "A" * 24):
        for proto, port in (("UDP", port_of(v.rtp)),
                            ("TCP", v.tcp.getsockname()[1])):
            hdr = ["Via: SIP/2.0/UDP %s:%d;branch=%s" % (HOST, PORT, top),
                   "Via: SIP/2.0/%s %s:%d;branch=z9hG4bKv2;rport=%d"
                   % (proto, VICTIM, port, port),
                   "Via: SIP/2.0/%s %s:%d;branch=z9hG4bKv3" % (proto, VICTIM,
                                                                port),
                   "From: <sip:a@%s>;tag=1" % HOST,
                   "To: <sip:b@%s>;tag=2" % HOST,
                   "Call-ID: openrelay-stray-%s" % proto,
                   "CSeq: 1 INVITE"]
            s.sendto(sip("SIP/2.0 200 OK", hdr), (HOST, PORT))
    v.quiet("responses with three Vias and a top Via not ours dropped")
    v.close()
    s.close()


def ruri_case():
    """A Request-URI that is no registered user of a served domain: 404 or
    480, and nothing sent (the .sh checks what pinholed sent)."""
    s = udp()
    for ruri, want in (("sip:900123@198.51.100.7", "SIP/2.0 404 Not Found: domain not served"),
                       ("sip:900123@%s:%d" % (VICTIM, PORT), "SIP/2.0 404 Not Found: domain not served"),
                       ("sip:nobody@%s" % HOST, "SIP/2.0 480 ")):
        hdr = base("INVITE", via_of(s), to="900123")
        hdr += ["Contact: <sip:alice@%s:%d>" % (HOST, port_of(s))]
        s.sendto(sip("INVITE %s SIP/2.0" % ruri, hdr), (HOST, PORT))
        expect("INVITE " + ruri, answer(s), want)
    print("ok: INVITEs to no registered user refused")
    s.close()


def stranger_case():
    """The dialog's route, used from neither of its flows: 403, nothing
    forwarded, the relay does not move; its own sides still may."""
    c = Call("bob")
    pump(c.am, c.ra)
    pump(c.bm, c.rb)
    if not count(c.bm) or not count(c.am):
        fail("the relayed call carries no media")
    st, stm = udp(STRANGER), udp(STRANGER)
    c.in_dialog(st, "INVITE", "caller", "callee", sdp(STRANGER, port_of(stm)))
    expect("re-INVITE from a stranger", answer(st),
           "SIP/2.0 403 Forbidden: not from this dialog's flows")
    # the stranger sends to the callee's relay port; the caller's media
    # must still go to the callee, not to it
    pump(stm, c.rb)
    pump(c.am, c.ra)
    got_b, got_st = count(c.bm), count(stm)
    if got_st or not got_b:
        fail("after a stranger's re-INVITE the relay sent %d packets to it, "
             "%d to the callee" % (got_st, got_b))
    for method, body in (("UPDATE", sdp(STRANGER, port_of(stm))),
                         ("BYE", "")):
        c.in_dialog(st, method, "caller", "callee", body)
        expect("%s from a stranger" % method, answer(st),
               "SIP/2.0 403 Forbidden: not from this dialog's flows")
    for side in (c.a, c.b):
        side.settimeout(0.5)
        got = recv_sip(side)
        if got:
            fail("a stranger's request was forwarded: %r" % got[:60])
    print("ok: a stranger's re-INVITE, UPDATE, BYE refused; media stays")
    # the sides themselves: a re-INVITE from the caller, a BYE from the callee
    c.a.settimeout(WAIT)
    c.b.settimeout(WAIT)
    c.in_dialog(c.a, "INVITE", "caller", "callee", sdp(HOST, port_of(c.am)))
    got = recv_sip(c.b)
    if not got or not got.startswith(b"INVITE "):
        fail("the caller's re-INVITE was not forwarded: %r" % got)
    c.in_dialog(c.b, "BYE", "callee", "caller", to="alice")
    got = recv_sip(c.a)
    while got and not got.startswith(b"BYE "):
        got = recv_sip(c.a)
    if not got:
        fail("the callee's BYE was not forwarded")
    print("ok: the dialog's own sides still re-INVITE and BYE")
    # a 2xx retransmitted after the INVITE's transaction has gone: a stray
    # response whose top Via pinholed added, forwarded along it
    c.answer()
    got = recv_sip(c.a)
    while got and not got.startswith(b"SIP/2.0 200 OK"):
        got = recv_sip(c.a)
    if not got or header(got, "CSeq") != "1 INVITE":
        fail("a retransmitted 200 to the INVITE did not reach the caller")
    print("ok: a retransmitted 200 to the INVITE still reaches the caller")
    st.close()
    stm.close()
    c.close()


def fwwin_case():
    """An INVITE whose Firewall-Window names a victim, with its SDP there
    too: not one relayed RTP or RTCP packet reaches the victim."""
    v = Victim()
    c = Call("carol", ["Firewall-Window: %s;mapping=apdm;filtering=apdf;"
                       "hops=2;lifetime=30" % VICTIM],
             media=(VICTIM, port_of(v.rtp)))
    bm2 = udp()
    for i in range(100):
        c.bm.sendto(rtp(i), c.rb)
        bm2.sendto(b"\x81\xc8\x00\x01" + b"\0" * 24, (c.rb[0], c.rb[1] + 1))
        time.sleep(0.002)
    v.quiet("100 RTP and 100 RTCP packets toward a Firewall-Window victim")
    # the relay works: the caller's real media latches and gets them
    pump(c.am, c.ra)
    pump(c.bm, c.rb)
    if not count(c.am):
        fail("the relay forwarded nothing to the caller once it latched")
    print("ok: the caller's own media latched and was relayed")
    bm2.close()
    v.close()
    c.close()


def fwbad_case():
    """An INVITE with a malformed or doubled Firewall-Window: 400, and the
    callee gets nothing."""
    s, b = udp(), udp()
    register(b, "dave")
    for fws, want in (
            (["198.51.100.2;hops=123"], "SIP/2.0 400 Bad Firewall-Window: "),
            (["198.51.100.2;mapping=sideways"], "SIP/2.0 400 Bad Firewall-Window: "),
            (["%s;mapping=eim" % HOST, "%s;mapping=eim" % HOST],
             "SIP/2.0 400 Duplicate Firewall-Window header")):
        hdr = base("INVITE", via_of(s), to="dave")
        hdr += ["Contact: <sip:alice@%s:%d>" % (HOST, port_of(s))]
        hdr += ["Firewall-Window: " + f for f in fws]
        s.sendto(sip("INVITE sip:dave@%s:%d SIP/2.0" % (HOST, PORT), hdr,
                     ""), (HOST, PORT))
        expect("Firewall-Window %r" % fws, answer(s), want)
    b.settimeout(0.5)
    got = recv_sip(b)
    if got:
        fail("an INVITE with a bad Firewall-Window was forwarded: %r" % got[:60])
    print("ok: malformed and doubled Firewall-Window on INVITE answered 400")
    s.close()
    b.close()


CASES = {"route": route_case, "maddr": maddr_case, "stray": stray_case,
         "ruri": ruri_case, "stranger": stranger_case, "fwwin": fwwin_case,
         "fwbad": fwbad_case}
for case in sys.argv[3:] or CASES:
    CASES[case]()
