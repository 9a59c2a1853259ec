"""Digest authentication against the real pinholed (auth.sh runs it):
challenges, SHA-256 and MD5 credentials, replay, ownership, 407 for
calls, the same answer for unknown users, bans, and bytes out / bytes in
for what an unauthenticated source sends, over UDP and TCP.

usage: auth.py HOST PORT REALM  (users alice:alicepw, bob:bobpw)
       auth.py HOST PORT DOMAIN open  (no users: open_mode())
"""
import hashlib
import os
import re
import socket
import sys
import time

HOST, PORT, REALM = sys.argv[1], int(sys.argv[2]), sys.argv[3]
PW = {"alice": "alicepw", "bob": "bobpw"}
HASH = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length",
           "m": "contact", "c": "content-type"}
# what a phone's request carries besides the essentials (a typical phone's
# REGISTER is 450-700 bytes): room for both challenges in the answer
PHONE = ["User-Agent: auth.py test phone 1.0",
         "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, NOTIFY, REFER",
         "Supported: path, gruu, outbound"]
failures = []
passes = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    (passes if cond else failures).append(what)


class Peer:
    """One source address, over UDP or TCP; counts the bytes each way."""

    def __init__(self, transport="udp", ip="127.0.0.1"):
        self.tr, self.ip = transport, ip
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.s = socket.socket(socket.AF_INET, kind)
        self.s.bind((ip, 0))
        self.s.settimeout(2)
        if transport == "tcp":
            self.s.connect((HOST, PORT))
        self.port = self.s.getsockname()[1]
        self.n, self.buf = 0, b""

    def send(self, data):
        if self.tr == "udp":
            self.s.sendto(data, (HOST, PORT))
        else:
            self.s.sendall(data)
        return len(data)

    def recv(self, wait, one=False):
        """Every message that arrives within wait s: [(bytes, parsed)];
        one: the first only, as soon as it comes."""
        out, end = [], time.time() + wait
        while time.time() < end and not (one and out):
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                data = self.s.recv(65535) if self.tr == "tcp" else self.s.recvfrom(65535)[0]
            except socket.timeout:
                break
            if not data:
                break
            if self.tr == "udp":
                out.append(data)
                continue
            self.buf += data
            while b"\r\n\r\n" in self.buf:
                head, rest = self.buf.split(b"\r\n\r\n", 1)
                m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                n = int(m.group(1)) if m else 0
                out.append(head + b"\r\n\r\n" + rest[:n])
                self.buf = rest[n:]
        return [(d, parse(d)) for d in out]

    def request(self, method, user="alice", to=None, frm=None, auth=None,
                contact=True, extra=PHONE, totag=None, ruri=None, callid=None,
                cseq=1, body=""):
        self.n += 1
        to = to or user
        frm = frm or user
        ruri = ruri or ("sip:%s:%d" % (HOST, PORT) if method == "REGISTER"
                        else "sip:%s@%s" % (to, REALM))
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK%s%d;rport" % (
                     self.tr.upper(), self.ip, self.port, os.urandom(4).hex(), self.n),
                 "Max-Forwards: 70",
                 "From: <sip:%s@%s>;tag=f%d" % (frm, REALM, self.n),
                 "To: <sip:%s@%s>%s" % (to, REALM, ";tag=" + totag if totag else ""),
                 "Call-ID: %s" % (callid or "%s-%d@test" % (os.urandom(4).hex(), self.n)),
                 "CSeq: %d %s" % (cseq, method)]
        if contact:
            lines.append("Contact: <sip:%s@%s:%d;transport=%s>" % (
                user, self.ip, self.port, self.tr))
        if method == "REGISTER" and contact:
            lines.append("Expires: 600")
        lines += list(extra)
        if auth:
            lines.append(auth)
        if body:
            lines.append("Content-Type: application/sdp")
        lines += ["Content-Length: %d" % len(body), "", body]
        return "\r\n".join(lines).encode(), ruri


def parse(data):
    head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
    m = re.match(r"SIP/2.0 (\d+) ", head[0])
    hdrs = []
    for line in head[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            hdrs.append((COMPACT.get(k, k), v.strip()))
    return {"status": int(m.group(1)) if m else 0, "hdrs": hdrs, "first": head[0]}


def hdr(r, name):
    return [v for k, v in r["hdrs"] if k == name.lower()]


def challenges(r):
    out = []
    for v in hdr(r, "www-authenticate") + hdr(r, "proxy-authenticate"):
        params = dict((k.lower(), v.strip('"')) for k, v in
                       re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', v))
        out.append(params)
    return out


def credentials(ch, user, pw, method, uri, nc=1, name="Authorization"):
    alg = ch.get("algorithm", "MD5")
    h = lambda s: HASH[alg](s.encode()).hexdigest()
    cnonce = os.urandom(8).hex()
    ha1 = h("%s:%s:%s" % (user, ch["realm"], pw))
    ha2 = h("%s:%s" % (method, uri))
    resp = h("%s:%s:%08x:%s:auth:%s" % (ha1, ch["nonce"], nc, cnonce, ha2))
    return ('%s: Digest username="%s",realm="%s",nonce="%s",uri="%s",'
            'response="%s",algorithm=%s,cnonce="%s",qop=auth,nc=%08x' % (
                name, user, ch["realm"], ch["nonce"], uri, resp, alg, cnonce, nc))


def exchange(peer, method, wait=1.0, **kw):
    """A request, and the first answer within wait s (a wait given: all
    answers within it)."""
    data, ruri = peer.request(method, **kw)
    peer.send(data)
    got = peer.recv(wait, one=wait == 1.0)
    return data, ruri, got


def first(got):
    return got[0][1] if got else {"status": 0, "hdrs": [], "first": ""}


def authed(peer, method, user, pw, alg, **kw):
    """A request, its challenge, the request again with credentials."""
    data, ruri, got = exchange(peer, method, user=kw.pop("owner", user), **kw)
    chs = [c for c in challenges(first(got)) if c.get("algorithm") == alg]
    if not chs:
        return 0, first(got), None
    name = "Authorization" if method == "REGISTER" else "Proxy-Authorization"
    cred = credentials(chs[0], user, pw, method, ruri, name=name)
    kw2 = dict(kw)
    kw2["auth"] = cred
    data2, _, got2 = exchange(peer, method, user=kw.get("to") or user, **kw2)
    return data2, first(got2), cred


def main():
    u = Peer("udp")
    # an unauthenticated REGISTER: 401, SHA-256 then MD5, qop=auth
    data, _, got = exchange(u, "REGISTER")
    r = first(got)
    chs = challenges(r)
    check(r["status"] == 401, "unauthenticated REGISTER -> 401 (got %d)" % r["status"])
    check([c.get("algorithm") for c in chs] == ["SHA-256", "MD5"],
          "401 offers SHA-256 then MD5: %s" % [c.get("algorithm") for c in chs])
    check(all(c.get("qop") == "auth" and c.get("realm") == REALM for c in chs),
          "qop=auth, realm %s" % REALM)
    check(not hdr(r, "contact"), "401 lists no binding")

    for alg in ("SHA-256", "MD5"):
        _, r, _ = authed(u, "REGISTER", "alice", PW["alice"], alg)
        check(r["status"] == 200, "alice with %s -> 200 (got %d)" % (alg, r["status"]))

    # replay: the very same authenticated request again (same nonce, nc)
    data, ruri, got = exchange(u, "REGISTER")
    ch = challenges(first(got))[0]
    cred = credentials(ch, "alice", PW["alice"], "REGISTER", ruri)
    req, _ = u.request("REGISTER", auth=cred, callid="replay@test", cseq=5)
    u.send(req)
    r1 = first(u.recv(1, True))
    check(r1["status"] == 200, "fresh credentials -> 200 (got %d)" % r1["status"])
    req2 = req.replace(b"CSeq: 5", b"CSeq: 6")
    u.send(req2)
    r2 = first(u.recv(1, True))
    check(r2["status"] == 401 and any(c.get("stale") == "true" for c in challenges(r2)),
          "replayed nonce-count -> 401 stale=true (got %d)" % r2["status"])

    # a nonce given to another address: stale, right password or not
    o = Peer("udp", "127.0.0.3")
    _, ruri, got = exchange(o, "REGISTER")
    ch = challenges(first(got))[0]
    _, _, got = exchange(u, "REGISTER", auth=credentials(ch, "alice", PW["alice"], "REGISTER", ruri))
    r = first(got)
    check(r["status"] == 401 and challenges(r)[0].get("stale") == "true",
          "another address's nonce -> 401 stale=true (got %d)" % r["status"])

    # ownership: bob's credentials for alice's AoR
    _, r, _ = authed(u, "REGISTER", "bob", PW["bob"], "SHA-256", owner="alice", to="alice")
    check(r["status"] == 403, "bob's credentials for alice's AoR -> 403 (got %d)" % r["status"])

    # a query (no Contact): 401 unauthenticated, the bindings to the owner
    _, _, got = exchange(u, "REGISTER", contact=False)
    r = first(got)
    check(r["status"] == 401 and not hdr(r, "contact"),
          "unauthenticated query -> 401 without contacts (got %d)" % r["status"])
    _, r, _ = authed(u, "REGISTER", "alice", PW["alice"], "MD5", contact=False)
    check(r["status"] == 200 and hdr(r, "contact"), "alice's query -> 200 with her contacts")

    # wrong password and unknown user: the same answer
    _, rw, _ = authed(u, "REGISTER", "alice", "wrong", "SHA-256")
    _, rn, _ = authed(u, "REGISTER", "nobody", "wrong", "SHA-256", owner="nobody")
    shape = lambda r: (r["status"], [k for k, _ in r["hdrs"]],
                       [sorted(c) for c in challenges(r)])
    check(rw["status"] == 401 and shape(rw) == shape(rn),
          "wrong password and unknown user: same 401 (%d, %d)" % (rw["status"], rn["status"]))

    # calls: 407 for anyone unauthenticated, existing user or not
    _, _, got = exchange(u, "INVITE", user="bob", to="alice", frm="bob", wait=1.2)
    r = first(got)
    check(r["status"] == 407 and len(got) == 1, "unauthenticated INVITE -> one 407 (got %s)"
          % [g[1]["status"] for g in got])
    _, _, got2 = exchange(u, "INVITE", user="bob", to="nobody", frm="bob")
    check(shape(first(got2)) == shape(r), "INVITE to an unknown user: the same 407")
    _, r, _ = authed(u, "INVITE", "alice", PW["alice"], "MD5", frm="bob", to="bob",
                     owner="bob")
    check(r["status"] == 403, "alice's credentials with From bob -> 403 (got %d)" % r["status"])
    _, r, _ = authed(u, "MESSAGE", "bob", PW["bob"], "MD5", frm="bob", to="carol",
                     owner="bob")
    check(r["status"] == 480, "bob authenticated, MESSAGE to nobody registered -> 480 (got %d)"
          % r["status"])

    forwarded()
    amplification()
    ban()
    print("%d passed, %d failed" % (len(passes), len(failures)))
    sys.exit(1 if failures else 0)


def answer(req, status):
    """A UAS's answer to a request it received (data)."""
    head = req.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    keep = [l for l in head[1:] if re.match(r"(?i)(via|v|from|f|to|t|call-id|i|cseq)\s*:", l)]
    keep = [l + ";tag=callee" if re.match(r"(?i)(to|t)\s*:", l) else l for l in keep]
    return ("\r\n".join(["SIP/2.0 %d OK" % status] + keep +
                         ["Content-Length: 0", "", ""])).encode()


def forwarded():
    """An authenticated MESSAGE reaches its callee, without the
    credentials meant for pinholed (RFC 3261 22.3), and its 200 comes back."""
    bob = Peer("udp")
    _, r, _ = authed(bob, "REGISTER", "bob", PW["bob"], "SHA-256")
    check(r["status"] == 200, "bob registered (got %d)" % r["status"])
    a = Peer("udp")
    data, ruri, got = exchange(a, "MESSAGE", user="alice", to="bob", frm="alice")
    ch = [c for c in challenges(first(got)) if c.get("algorithm") == "MD5"][0]
    cred = credentials(ch, "alice", PW["alice"], "MESSAGE", ruri,
                       name="Proxy-Authorization")
    req, _ = a.request("MESSAGE", user="alice", to="bob", frm="alice", auth=cred)
    a.send(req)
    got = bob.recv(2, True)
    check(got and got[0][0].startswith(b"MESSAGE "), "alice's MESSAGE reached bob")
    if not got:
        return
    check(not hdr(got[0][1], "proxy-authorization"),
          "pinholed's credentials taken out before forwarding")
    bob.send(answer(got[0][0], 200))
    r = first(a.recv(2, True))
    check(r["status"] == 200, "bob's 200 reached alice (got %d)" % r["status"])

    # an authenticated INVITE rings bob; alice's CANCEL (never challenged,
    # RFC 3261 22.1) reaches him through its transaction
    data, ruri, got = exchange(a, "INVITE", user="alice", to="bob", frm="alice",
                               extra=PHONE + ["X-Pad: " + "p" * 200])
    ch = [c for c in challenges(first(got)) if c.get("algorithm") == "MD5"][0]
    cred = credentials(ch, "alice", PW["alice"], "INVITE", ruri,
                       name="Proxy-Authorization")
    inv, _ = a.request("INVITE", user="alice", to="bob", frm="alice", auth=cred)
    a.send(inv)
    got = bob.recv(3, True)
    check(got and got[0][0].startswith(b"INVITE "), "alice's INVITE reached bob")
    if not got:
        return
    bob.send(answer(got[0][0], 180))   # RFC 3261 9.1: no CANCEL before it
    a.recv(1, True)
    cancel = re.sub(rb"^INVITE ", b"CANCEL ", inv)
    cancel = re.sub(rb"CSeq: (\d+) INVITE", rb"CSeq: \1 CANCEL", cancel)
    cancel = re.sub(rb"Proxy-Authorization: [^\r]*\r\n", b"", cancel)
    a.send(cancel)
    got = [g for g in bob.recv(2) if g[0].startswith(b"CANCEL ")]
    check(len(got) > 0, "alice's CANCEL reached bob")


def amplification():
    """Bytes out / bytes in for what an unauthenticated source sends."""
    cases = [("OPTIONS", dict(ruri="sip:%s:%d" % (HOST, PORT), contact=False, extra=())),
             ("OPTIONS", dict(ruri="sip:%s:%d" % (HOST, PORT), contact=False)),
             ("REGISTER", dict(extra=())),
             ("REGISTER", dict()),
             ("REGISTER", dict(contact=False, extra=())),
             ("REGISTER", dict(contact=False)),
             ("INVITE", dict(to="alice", frm="mallory", extra=())),
             ("INVITE", dict(to="alice", frm="mallory")),
             ("INVITE", dict(to="alice", frm="mallory", totag="x1")),
             ("MESSAGE", dict(to="alice", frm="mallory", extra=())),
             ("SUBSCRIBE", dict(to="alice", frm="mallory", extra=["Event: presence"])),
             ("BYE", dict(to="alice", frm="mallory", totag="x2", extra=())),
             ("INFO", dict(to="nobody", frm="mallory")),
             ("FOO", dict(ruri="sip:%s:%d" % (HOST, PORT), extra=())),
             ("CANCEL", dict(to="alice", frm="mallory", extra=())),
             ("ACK", dict(to="alice", frm="mallory", extra=())),
             ("UPDATE", dict(to="alice", frm="mallory"))]
    for tr in ("udp", "tcp"):
        table(Peer(tr, "127.0.0.4"), cases, True)


def table(p, cases, bound):
    """Each case from peer p: bytes in, bytes out, statuses; bound: check
    bytes out <= bytes in. The answers, by case."""
    answers = []
    for method, kw in cases:
        data, _ = p.request(method, **kw)
        bin_ = p.send(data)
        # an INVITE's answer, if sent with a transaction, would come
        # again after T1 (0.5 s, RFC 3261 17.2.1)
        got = p.recv(1.0 if method == "INVITE" else 0.25)
        bout = sum(len(d) for d, _ in got)
        st = [g[1]["status"] for g in got]
        print("  %s %-9s %4d bytes in, %4d out (%.2f) %s %s" % (
            p.tr, method, bin_, bout, bout / bin_, st,
            got[0][1]["first"][12:] if got else ""))
        if bound:
            check(bout <= bin_, "%s %s: bytes out <= bytes in" % (p.tr, method))
        answers.append(got)
    return answers


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.4\r\ns=-\r\nc=IN IP4 127.0.0.4\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def open_mode():
    """pinholed without users (amplify.sh): what a stranger's UDP request
    gets back is no larger than it (stranger.h); TCP proves its source and
    gets the whole answers."""
    reg = lambda **kw: ("REGISTER", kw)
    ruri = "sip:%s:%d" % (HOST, PORT)
    phones = [Peer("tcp") for _ in range(4)]
    for ph in phones:  # alice, four bindings: a query's answer is big
        _, _, got = exchange(ph, "REGISTER")
        check(first(got)["status"] == 200, "alice registers over TCP")
    cases = [("OPTIONS", dict(ruri=ruri, contact=False, extra=())),
             ("OPTIONS", dict(ruri=ruri, contact=False)),
             reg(contact=False, extra=()),  # a query of alice's 4 bindings
             reg(contact=False),
             reg(user="carol", extra=()),  # a new AoR
             reg(),  # alice's 5th binding: the 200 lists 5
             reg(extra=()),
             ("INVITE", dict(to="nobody", frm="mallory", extra=())),
             ("INVITE", dict(to="nobody", frm="mallory")),
             ("INVITE", dict(to="alice", frm="mallory", totag="x1")),
             ("INVITE", dict(to="alice", ruri="sip:%s" % REALM, extra=())),
             ("INVITE", dict(to="nobody", frm="mallory", extra=(), body=SDP)),
             ("INVITE", dict(to="nobody", frm="mallory", extra=(),
                             body=SDP.replace("m=audio 40000", "m=audio 4x"))),
             ("MESSAGE", dict(to="nobody", frm="mallory", extra=())),
             ("SUBSCRIBE", dict(to="nobody", frm="mallory", extra=["Event: presence"])),
             ("BYE", dict(to="alice", frm="mallory", totag="x2", extra=())),
             ("FOO", dict(ruri=ruri, extra=())),
             ("CANCEL", dict(to="nobody", frm="mallory", extra=())),
             ("ACK", dict(to="alice", frm="mallory", extra=()))]
    a = table(Peer("udp", "127.0.0.4"), cases, True)
    st = lambda got: [g[1]["status"] for g in got]
    check(st(a[0]) == [200], "a stranger's bare OPTIONS -> 200 (%s)" % st(a[0]))
    q = first(a[3])
    check(q["status"] == 200 and "of 4 bindings, all over TCP" in q["first"],
          "a stranger's query: 200 saying what is left out (%s)" % q["first"])
    check(st(a[4]) == [200] and hdr(first(a[4]), "contact"),
          "a stranger's REGISTER of a new AoR -> 200 with its binding")
    r = first(a[5])
    check(r["status"] == 200 and "127.0.0.4" in " ".join(hdr(r, "contact")) and
          "of 5 bindings" in r["first"],
          "alice's 5th binding, over UDP: its own binding listed first (%s)" % r["first"])
    check(st(a[7]) == [480] and st(a[8]) == [480] and st(a[11]) == [480],
          "INVITE to nobody registered, with an offer or not: one 480, not resent "
          "(%s %s %s)" % (st(a[7]), st(a[8]), st(a[11])))
    check(st(a[12]) == [400], "INVITE with a bad offer: one 400, not resent (%s)" % st(a[12]))
    _, _, got = exchange(phones[0], "REGISTER", contact=False)
    r = first(got)
    check(r["status"] == 200 and r["first"] == "SIP/2.0 200 OK" and
          len(",".join(hdr(r, "contact")).split(",")) == 5,
          "over TCP the query lists all 5 of alice's bindings (%s)" % hdr(r, "contact"))
    table(Peer("tcp", "127.0.0.4"), cases[:4], False)


def ban():
    """auth.sh starts pinholed with auth_ban_failures=5: five wrong tries
    from one address, then silence for it; others still served."""
    p = Peer("udp", "127.0.0.5")
    statuses = []
    for _ in range(5):
        _, r, _ = authed(p, "REGISTER", "alice", "guess", "MD5")
        statuses.append(r["status"])
    check(statuses == [401] * 5, "5 wrong passwords -> 401 each (%s)" % statuses)
    _, _, got = exchange(p, "REGISTER", wait=0.6)
    check(not got, "banned source: no answer (got %s)" % [g[1]["status"] for g in got])
    _, _, got = exchange(p, "OPTIONS", ruri="sip:%s:%d" % (HOST, PORT), contact=False, wait=0.6)
    check(not got, "banned source: no answer to OPTIONS either")
    _, r, _ = authed(Peer("udp"), "REGISTER", "alice", PW["alice"], "MD5")
    check(r["status"] == 200, "another address still served (got %d)" % r["status"])


if sys.argv[4:] == ["open"]:
    open_mode()
    print("%d passed, %d failed" % (len(passes), len(failures)))
    sys.exit(1 if failures else 0)
main()
