#!/usr/bin/env python3
# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Writes a copy of a GGUF file with every tensor dequantized to F32 (by the
`gguf` package, independently of qpal).

llama.cpp quantizes activations to 8 bits inside its dot products with
quantized weights; on the F32 copy (and with an F32 KV cache) it computes in
float32 like qpal's reference evaluator, so the two can be compared tightly.

Usage: dequantize_gguf.py IN.gguf OUT.gguf
"""

import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType
from gguf.quants import dequantize


def main():
    src, dst = sys.argv[1], sys.argv[2]
    reader = GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    writer = GGUFWriter(dst, arch)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value = field.contents()
        if key == "general.file_type":
            value = int(LlamaFileType.ALL_F32)
        vtype = field.types[0]
        sub = field.types[1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(key, value, vtype, sub_type=sub)
    for tensor in reader.tensors:
        values = dequantize(tensor.data, tensor.tensor_type)
        shape = [int(d) for d in reversed(tensor.shape)]
        writer.add_tensor(tensor.name,
                          np.ascontiguousarray(values, dtype=np.float32)
                          .reshape(shape))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
