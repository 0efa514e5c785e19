"""Writes the PTX of every gpu.binary in an MLIR file (the assembly of its
#gpu.object, MLIR's string escapes decoded) to OUT.ptx, one file per binary
named after it."""
import re
import sys

text = open(sys.argv[1]).read()
out = sys.argv[2]
count = 0
for match in re.finditer(r'gpu\.binary @(\w+)\s+\[#gpu\.object<.*?assembly = "((?:[^"\\]|\\.)*)"', text):
    name, escaped = match.group(1), match.group(2)
    ptx = re.sub(r'\\([0-9A-Fa-f]{2})', lambda m: chr(int(m.group(1), 16)),
                 escaped).replace('\\"', '"').replace('\\\\', '\\')
    with open("%s.%s.ptx" % (out, name), "w") as f:
        f.write(ptx)
    count += 1
print("%d gpu.binary" % count)
