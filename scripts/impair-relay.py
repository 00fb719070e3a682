#!/usr/bin/env python3
"""Delay and jitter for a link, in user space (this kernel has no netem).

Runs in the impairment namespace of the network-namespace tests (tests/e2e/lib/netns.mjs): policy
routing sends every packet arriving on the two link interfaces into the TUN device `--dev`; this
program reads each packet, holds it for `--delay-ms` plus a uniform random 0..`--jitter-ms`, and
writes it back to the TUN device, from where the kernel forwards it on (main routing table).
Each direction (towards `--down-net` = downlink, the rest = uplink) is a FIFO: a packet never
overtakes an earlier one of its direction (jitter without reordering, like a cellular link's
queue). Standard library only.
"""
import argparse
import fcntl
import heapq
import ipaddress
import os
import random
import select
import struct
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", required=True)
    ap.add_argument("--down-net", required=True)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--jitter-ms", type=float, default=0.0)
    a = ap.parse_args()
    down = ipaddress.ip_network(a.down_net)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.dev.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    queue = []  # (release time, seq, packet)
    last = {True: 0.0, False: 0.0}  # last release time per direction (FIFO)
    seq = 0
    while True:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else 1.0
        r, _, _ = select.select([fd], [], [], timeout)
        if r:
            for _ in range(256):
                try:
                    pkt = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if len(pkt) < 20 or pkt[0] >> 4 != 4:
                    continue
                is_down = ipaddress.ip_address(pkt[16:20]) in down
                now = time.monotonic()
                t = now + (a.delay_ms + random.uniform(0, a.jitter_ms)) / 1000.0
                t = max(t, last[is_down])
                last[is_down] = t
                seq += 1
                heapq.heappush(queue, (t, seq, pkt))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, pkt = heapq.heappop(queue)
            try:
                os.write(fd, pkt)
            except OSError:
                pass


if __name__ == "__main__":
    main()
