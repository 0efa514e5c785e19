#!/usr/bin/env python3
"""Where a package's step spends its time, by symbol of the compiled code.

    scripts/profile_package.py PACKAGE [--qpal-run build/bin/qpal-run] \
        [-- qpal-run options, default: --bench --prompt-tokens 8
            --decode-tokens 256 --threads 1]

Runs `perf record` on `qpal-run`, extracts the package's `code.cpu` section
(the section table is in runtime/include/qpalpkg.h), and adds the samples
that fall in the package's code (loaded from a memfd, which perf cannot
name) to the symbols `nm` finds in the extracted object. Kernel names lose
their shape (`_m576_k1536` becomes `_mK`) so a family's calls add up.
Needs `perf` and `nm`.
"""

import argparse
import bisect
import collections
import os
import re
import struct
import subprocess
import sys
import tempfile


def extract_section(package, name, out):
    with open(package, "rb") as f:
        data = f.read()
    table, count = struct.unpack_from("<Q", data, 24)[0], struct.unpack_from(
        "<I", data, 32)[0]
    for i in range(count):
        entry = data[table + 64 * i:table + 64 * (i + 1)]
        if entry[:32].rstrip(b"\0").decode() == name:
            offset, size = struct.unpack_from("<QQ", entry, 32)
            with open(out, "wb") as f:
                f.write(data[offset:offset + size])
            return
    sys.exit(f"{package}: no '{name}' section")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("package")
    p.add_argument("--qpal-run", default="build/bin/qpal-run")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--by-thread", action="store_true",
                   help="one list per thread (the calling thread first): "
                   "what the pool's workers wait through is the work the "
                   "calling thread does alone")
    p.add_argument("run_args", nargs="*")
    a = p.parse_args()
    run_args = a.run_args or ["--bench", "--prompt-tokens", "8",
                              "--decode-tokens", "256", "--threads", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        code = os.path.join(tmp, "code.so")
        extract_section(a.package, "code.cpu", code)
        data = os.path.join(tmp, "perf.data")
        subprocess.run(["perf", "record", "-q", "-o", data, a.qpal_run,
                        a.package] + run_args, check=True)
        symbols = []
        nm = subprocess.run(["nm", "-n", "--defined-only", code],
                            capture_output=True, text=True, check=True)
        for line in nm.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[1].lower() in "tw":
                symbols.append((int(parts[0], 16), parts[2]))
        addresses = [address for address, _ in symbols]
        report = subprocess.run(
            ["perf", "report", "-i", data, "--no-children", "--sort",
             "pid,dso,sym" if a.by_thread else "dso,sym", "-g", "none",
             "--percent-limit", "0", "--stdio"],
            capture_output=True, text=True, check=True).stdout
    shares = collections.Counter()
    threads = collections.Counter()
    for line in report.splitlines():
        thread = ""
        if a.by_thread:
            t = re.match(r"(\s+[\d.]+%\s+)(\d+):\S+\s+(.*)", line)
            if not t:
                continue
            thread = t.group(2)
            line = t.group(1) + t.group(3)
        m = re.match(r"\s+([\d.]+)%\s+(\S.*?)\s+\[(.)\]\s+(\S+)", line)
        if not m:
            continue
        share, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), \
            m.group(4)
        threads[thread] += share
        if "memfd" in dso and sym.startswith("0x"):
            i = bisect.bisect_right(addresses, int(sym, 16)) - 1
            name = symbols[i][1] if i >= 0 else "?"
            key = "package: " + re.sub(r"_m\d+_k\d+", "_mK", name)
        elif kind == "k":
            key = "[kernel]"
        else:
            key = os.path.basename(dso) + ": " + sym
        shares[(thread, key)] += share
    # The calling thread is the process's first (its id is the smallest).
    for thread in sorted(threads, key=lambda t: int(t) if t else 0):
        if thread:
            role = "calling thread" if thread == min(threads, key=int) \
                else "worker"
            print(f"thread {thread} ({role}): {threads[thread]:.2f}% of the "
                  f"samples")
        listed = [(share, key) for (t, key), share in shares.items()
                  if t == thread]
        for share, key in sorted(listed, reverse=True)[:a.top]:
            print(f"{share:6.2f}%  {key}")


if __name__ == "__main__":
    main()
