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
             "dso,sym", "-g", "none", "--percent-limit", "0", "--stdio"],
            capture_output=True, text=True, check=True).stdout
    shares = collections.Counter()
    for line in report.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S.*?)\s+\[(.)\]\s+(\S+)", line)
        if not m:
            continue
        share, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), \
            m.group(4)
        if "memfd" in dso and sym.startswith("0x"):
            i = bisect.bisect_right(addresses, int(sym, 16)) - 1
            name = symbols[i][1] if i >= 0 else "?"
            shares["package: " + re.sub(r"_m\d+_k\d+", "_mK", name)] += share
        elif kind == "k":
            shares["[kernel]"] += share
        else:
            shares[os.path.basename(dso) + ": " + sym] += share
    for name, share in shares.most_common(a.top):
        print(f"{share:6.2f}%  {name}")


if __name__ == "__main__":
    main()
