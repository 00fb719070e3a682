// The weak-link profiles of the benchmark (issue 14 §2). link: lib/netns.mjs Net.impair —
// rateKbit by tbf on both directions, delayMs added round trip (half each way) and jitterMs
// (uniform 0..jitter extra each way, FIFO) by scripts/impair-relay.py, lossPct by iptables
// statistic on each direction. outageS: every packet dropped both ways for that long, 10 s in.
export const PROFILES = {
  good4g: { label: 'good 4G', link: { rateKbit: 20000, delayMs: 40 } },
  '3g': { label: '3G', link: { rateKbit: 750, delayMs: 150, lossPct: 1 } },
  bad: { label: 'bad', link: { rateKbit: 300, delayMs: 300, lossPct: 5, jitterMs: 30 } },
  outage: { label: 'good 4G + 10 s outage', link: { rateKbit: 20000, delayMs: 40 }, outageS: 10 },
};
