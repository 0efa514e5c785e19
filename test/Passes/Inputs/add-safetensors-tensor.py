#!/usr/bin/env python3
"""Copies a single-file safetensors checkpoint directory and adds one F32
tensor to it.

    add-safetensors-tensor.py SRC_DIR DST_DIR NAME ROWS COLS VALUE...

The copy has SRC_DIR's config.json and a model.safetensors holding SRC_DIR's
tensors and NAME, a ROWS x COLS F32 tensor of the given values (row-major).
"""

import json
import os
import shutil
import struct
import sys


def main():
    src, dst, name = sys.argv[1:4]
    rows, cols = int(sys.argv[4]), int(sys.argv[5])
    values = [float(v) for v in sys.argv[6:]]
    if len(values) != rows * cols:
        sys.exit(f"expected {rows * cols} values, got {len(values)}")
    with open(os.path.join(src, "model.safetensors"), "rb") as f:
        blob = f.read()
    (header_size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_size])
    data = blob[8 + header_size:]
    extra = struct.pack(f"<{len(values)}f", *values)
    header[name] = {
        "dtype": "F32",
        "shape": [rows, cols],
        "data_offsets": [len(data), len(data) + len(extra)],
    }
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(src, "config.json"), os.path.join(dst, "config.json"))
    with open(os.path.join(dst, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        f.write(data)
        f.write(extra)


if __name__ == "__main__":
    main()
