#!/usr/bin/env python3
"""A flood of STUN Binding requests from COUNT spoofed sources of one
network (NET.0/24, random ports), each padded to pay for its answer so
that pinholed answers and remembers it: what pushed a caller's window out
of the STUN memory (issue 14). Raw socket (IP_HDRINCL): needs
CAP_NET_RAW; sends only to HOST, which must be a loopback address.

    stunflood.py HOST PORT NET COUNT [PAUSE_EVERY]

Pauses 2 ms every PAUSE_EVERY (default 200) datagrams so that the
receiver's socket buffer does not overflow: the point is that pinholed
answers them all."""
import os
import random
import socket
import struct
import sys
import time
import zlib

HOST, PORT, NET, COUNT = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
EVERY = int(sys.argv[5]) if len(sys.argv) > 5 else 200
if not HOST.startswith("127."):
    sys.exit("stunflood.py: loopback only")
MAGIC = 0x2112A442


def stun():
    pad = 64 - 20 - 8 - 4  # the full IPv4 answer: 64 bytes
    body = struct.pack("!HH", 0x0026, pad) + b"\0" * pad
    msg = struct.pack("!HHI", 1, len(body) + 8, MAGIC) + os.urandom(12) + body
    crc = (zlib.crc32(msg) ^ 0x5354554E) & 0xFFFFFFFF
    return msg + struct.pack("!HHI", 0x8028, 4, crc)


s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dst = socket.inet_aton(HOST)
for i in range(COUNT):
    src = socket.inet_aton("%s.%d" % (NET, random.randint(1, 254)))
    payload = stun()
    udp = struct.pack("!HHHH", random.randint(1024, 65535), PORT,
                      8 + len(payload), 0) + payload
    # the kernel fills in the IP checksum and the ID; UDP checksum 0: none
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64,
                     socket.IPPROTO_UDP, 0, src, dst)
    s.sendto(ip + udp, (HOST, 0))
    if i % EVERY == EVERY - 1:
        time.sleep(0.002)
print("stunflood: %d requests from %s.0/24" % (COUNT, NET))
