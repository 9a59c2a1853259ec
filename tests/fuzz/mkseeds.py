#!/usr/bin/env python3
"""Seeds for the sip and sdp fuzz targets, from the SIPp scenarios'
messages (tests/sipp/*.xml): every request a scenario sends, as the caller
would send it to pinholed (to bob where it names a user), and every INVITE
paired with every answer a scenario's callee gives (the callee part of a
fuzz_sip input); every SDP body, for fuzz_sdp.

    mkseeds.py SIPP_DIR OUT_DIR      (writes OUT_DIR/sip and OUT_DIR/sdp)

Run again when the scenarios change; the seeds are kept in the tree."""
import hashlib
import os
import re
import sys
import xml.etree.ElementTree as ET

VALUES = {
    "local_ip": "127.0.0.1", "remote_ip": "127.0.0.1", "local_port": "6000",
    "remote_port": "5060", "transport": "UDP", "call_number": "1",
    "pid": "77", "user": "bob", "service": "bob", "media_port": "41000",
    "routes": "", "next_url": "sip:bob@127.0.0.1:6000", "uas": "bob",
    "fw": "127.0.0.1:41000",
}


def expand(text):
    text = text.strip("\n")
    lines = []
    for line in text.split("\n"):
        if "[last_" in line:  # copied from a received message: the
            continue          # harness adds those itself
        line = line.replace("[call_id]", "seed-call-1@127.0.0.1")
        line = line.replace("[branch]", "z9hG4bKseed1")
        line = re.sub(r"\[([a-z_]+)\]",
                      lambda m: VALUES.get(m.group(1), m.group(0)), line)
        if line.strip() == "" and lines and lines[-1] == "":
            continue
        lines.append(line)
    head, _, body = "\r\n".join(lines).partition("\r\n\r\n")
    if body:
        body = body.rstrip("\r\n") + "\r\n"
    head = head.replace("[len]", str(len(body)))
    head = "\r\n".join(h for h in head.split("\r\n") if h.strip())
    return head + "\r\n\r\n" + body, body


def messages(sipp_dir):
    for name in sorted(os.listdir(sipp_dir)):
        if not name.endswith(".xml"):
            continue
        root = ET.parse(os.path.join(sipp_dir, name)).getroot()
        for send in root.iter("send"):
            if send.text and send.text.strip():
                yield name, expand(send.text)


def write(folder, data):
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    sipp_dir, out = sys.argv[1], sys.argv[2]
    requests, answers = [], []
    for _, (msg, body) in messages(sipp_dir):
        if body.startswith("v=0"):
            write(os.path.join(out, "sdp"), body.encode())
        if msg.startswith("SIP/2.0 "):
            answers.append(msg[len("SIP/2.0 "):])
        else:
            requests.append(msg)
    for req in requests:
        write(os.path.join(out, "sip"), req.encode())
    invites = [r for r in requests if r.startswith("INVITE ")]
    for inv in invites[:4]:
        for ans in answers:
            write(os.path.join(out, "sip"),
                  (inv + "\n=====\n" + ans).encode())


main()
