# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""Run qpal-compiled model packages from Python.

    import qpal
    model = qpal.Package("smollm2.qpal", threads=2)
    print(model.generate("The capital of France is", n=16))
    print(model.perplexity(open("speech.txt").read()))
    logits = model.logits(model.tokenize("Hello"))   # numpy, tokens x vocab

The bindings wrap the qpal runtime (runtime/, no MLIR or LLVM); packages
come from `qpal compile`.
"""

from ._qpal import PACKAGE_FORMAT_VERSION, Error, Package, __version__

__all__ = ["Package", "Error", "PACKAGE_FORMAT_VERSION", "__version__"]
