"""townhall's long-run security and reliability harness (issue 8): the kill loop, the flood,
the soak and the full API fuzz, against real `townhall serve` processes on loopback.

`python security/run.py --help` runs them with bounded defaults and prints the figures;
tests/security/ runs CI-sized versions of the same code."""
