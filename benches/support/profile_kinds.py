#!/usr/bin/env python3
"""Splits a profile's folded stacks (inferno-collapse-perf --all) by kind of work, for
benches/profile_media.sh: one line per kind with its CPU time and share.

A stack goes to the first kind in `KINDS` whose rule matches: the recording (any frame of our
recorder or Janus's), then crypto and copies by the innermost user frames of a stack that stays
in user space, the kernel's network path and its scheduling by any kernel frame, the rest of the
kernel, then webrtc-rs's interceptors, tokio, and Janus's own libraries by the innermost frames;
what is left is "rest of user space". A heuristic on frame names, not an exact account.
"""
import re
import sys
from collections import Counter

K = r"_\[k\]$"  # a kernel frame, as `inferno-collapse-perf --all` marks it

# (kind, which frames the rule looks at, rule): "any" every frame; "leaf" the innermost three
# user frames of a stack with no kernel frame; "kernel" every kernel frame; "leaf1" the innermost
KINDS = [
    ("recording: files and their threads", "any", re.compile(
        r"rtc::record::|recordings::|janus_recorder|write_loop")),
    ("SRTP/DTLS crypto", "leaf", re.compile(
        r"aes|gcm|ghash|polyval|srtp_|EVP_|sha1|hmac|ctr32|cipher::|libsoftokn|libfreebl|libcrypto|"
        r"libsrtp", re.I)),
    ("copies and allocation", "leaf", re.compile(
        r"memmove|memcpy|memset|malloc|free|realloc|BytesMut|put_slice|put_u8|unlink_chunk|"
        r"tcache|_int_|copy_user|_copy_to_iter|_copy_from_iter|shared_drop|drop_slow")),
    ("kernel: network (send, receive)", "kernel", re.compile(
        r"sendto|recvfrom|sendmsg|recvmsg|sendmmsg|recvmmsg|udp|ip_|net_rx|netif|sock_|skb")),
    ("kernel: scheduling and wake-ups", "kernel", re.compile(
        r"futex|schedule|wake|task_switch|epoll|ep_poll|poll|spin_unlock|nanosleep|hrtimer|"
        r"idle|enqueue_task|dequeue_task")),
    ("rest of the kernel", "leaf1", re.compile(K)),
    ("webrtc-rs interceptors (reports, NACK, TWCC, stats)", "leaf", re.compile(r"interceptor::")),
    ("tokio runtime, channels and timers", "leaf", re.compile(r"tokio::")),
    ("Janus, libnice and GLib", "leaf", re.compile(r"janus|nice_|^g_|glib", re.I)),
]


def kind(stack: str) -> str:
    frames = stack.split(";")
    kernel = [f for f in frames if re.search(K, f)]
    user = [f for f in frames if not re.search(K, f)]
    looks = {
        "any": frames,
        "leaf": [] if kernel else user[-3:],
        "leaf1": frames[-1:],
        "kernel": kernel,
    }
    for name, where, rule in KINDS:
        if any(rule.search(f) for f in looks[where]):
            return name
    return "rest of user space"


def main() -> None:
    counts: Counter = Counter()
    total = 0
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if not n.isdigit():
                continue
            counts[kind(stack)] += int(n)
            total += int(n)
    # perf's cpu-clock weighs each sample by its period in nanoseconds
    print(f"CPU in the window: {total / 1e9:.2f} s")
    print("| kind of work | CPU | share |\n|---|---|---|")
    order = [k for k, _, _ in KINDS] + ["rest of user space"]
    for k in order:
        share = 100.0 * counts[k] / total if total else 0.0
        print(f"| {k} | {counts[k] / 1e9:.2f} s | {share:.1f} % |")


if __name__ == "__main__":
    main()
