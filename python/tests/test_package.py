# Part of the qpal project, under the Apache License v2.0 with LLVM Exceptions.
"""The Python bindings against qpal-run and a float64 reference.

The tiny Llama fixture is compiled by `qpal compile` ($QPAL_TOOLS: the
directory of qpal and qpal-run); the package is then run through the
bindings and through qpal-run, which must agree, and the logits must give
the perplexity when scored here in float64. With $QPAL_SMOLLM2_PACKAGE set,
SmolLM2's package is checked the same way.
"""

import json
import math
import os
import subprocess

import numpy as np
import pytest

import qpal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.environ.get("QPAL_TOOLS", os.path.join(ROOT, "build", "bin"))
MODEL = os.path.join(ROOT, "test", "Model", "Inputs", "tiny-llama-vocab.gguf")
TEXT = os.path.join(ROOT, "test", "Tools", "Inputs", "tiny-text.txt")


def tool(name):
    return os.path.join(TOOLS, name)


@pytest.fixture(scope="module")
def package_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("qpal") / "sq4.qpal")
    subprocess.run([tool("qpal"), "compile", MODEL, "--quantizer",
                    "ldlq_1_4_none_1.0:simt", "-o", path], check=True)
    return path


@pytest.fixture(scope="module")
def package(package_path):
    return qpal.Package(package_path, threads=2)


def qpal_run_json(*args):
    out = subprocess.run([tool("qpal-run"), *args, "--json"], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def test_info_is_the_manifest(package, package_path):
    info = qpal_run_json(package_path, "--info")
    assert package.info["vocab_size"] == info["model"]["vocab_size"] == 64
    assert package.info["layers"] == info["model"]["layers"] == 2
    assert package.info["format_version"] == info["format_version"]
    assert qpal.__version__ == info["qpal_version"]


def test_perplexity_equals_qpal_run(package, package_path):
    expected = qpal_run_json(package_path, "--perplexity", "--text", TEXT,
                             "--ctx", "16", "--threads", "2")["perplexity"]
    got = package.perplexity(open(TEXT).read(), ctx=16)
    assert got == pytest.approx(expected, rel=1e-12)


def test_logits_give_the_perplexity(package):
    # Score each window of 16 tokens here, in float64, from the logits.
    tokens = package.tokenize(open(TEXT).read())
    total, scored = 0.0, 0
    for begin in range(0, len(tokens) - 15, 16):
        window = tokens[begin:begin + 16]
        logits = package.logits(window).astype(np.float64)
        assert logits.shape == (16, package.info["vocab_size"])
        top = logits.max(axis=1, keepdims=True)
        log_softmax = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
        total -= sum(log_softmax[t, window[t + 1]] for t in range(15))
        scored += 15
    assert math.exp(total / scored) == pytest.approx(
        package.perplexity(open(TEXT).read(), ctx=16), rel=1e-6)


def test_greedy_generation_equals_qpal_run(package, package_path):
    out = subprocess.run([tool("qpal-run"), package_path, "--prompt",
                          "the cat sat on", "-n", "24", "--threads", "2"],
                         check=True, capture_output=True, text=True).stdout
    assert package.generate("the cat sat on", n=24) == out.rstrip("\n")


def test_sampling_is_seeded(package):
    a = package.generate("the dog", n=16, temperature=0.8, top_p=0.9, seed=7)
    b = package.generate("the dog", n=16, temperature=0.8, top_p=0.9, seed=7)
    assert a == b


def test_tokens_round_trip(package):
    text = "the cat sat on the mat"
    assert package.detokenize(package.tokenize(text)) == text


def test_bench_reports_speeds(package):
    bench = package.bench(prompt_tokens=8, decode_tokens=4, repeats=1)
    assert bench["decode_tokens_per_second"] > 0
    assert bench["prefill_tokens_per_second"] > 0


def test_errors_raise_with_the_runtime_message(package, package_path, tmp_path):
    with pytest.raises(qpal.Error, match="/nonexistent.qpal"):
        qpal.Package("/nonexistent.qpal")
    truncated = tmp_path / "truncated.qpal"
    truncated.write_bytes(open(package_path, "rb").read()[:1000])
    with pytest.raises(qpal.Error, match="truncated.qpal"):
        qpal.Package(str(truncated))
    with pytest.raises(ValueError):
        package.logits([])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        package.detokenize([999])
    with pytest.raises(qpal.Error):
        package.logits([70])  # a token id beyond the vocabulary of 64
    with pytest.raises(ValueError):
        qpal.Package(package_path, threads=-1)


@pytest.mark.skipif(not os.environ.get("QPAL_FAKE_CUDA"),
                    reason="set QPAL_FAKE_CUDA to the stand-in CUDA driver")
def test_nvptx_package_runs_through_the_bindings(tmp_path):
    # An nvptx package's code calls the runtime's mgpu* functions, which
    # the extension (the runtime linked in, loaded RTLD_LOCAL by Python)
    # must make visible to it; on the stand-in driver its kernels do
    # nothing, so what is compared is the run, not the numbers.
    path = str(tmp_path / "sq4-sm90.qpal")
    compiled = subprocess.run([tool("qpal"), "compile", MODEL, "--quantizer",
                               "ldlq_1_4_none_1.0:simt", "--target", "nvptx",
                               "--chip", "sm_90", "-o", path, "--quiet"],
                              capture_output=True, text=True)
    if compiled.returncode != 0 and "libdevice" in compiled.stderr:
        pytest.skip("no CUDA toolkit: " + compiled.stderr.strip())
    assert compiled.returncode == 0, compiled.stderr
    os.environ["QPALRT_CUDA_DRIVER"] = os.environ["QPAL_FAKE_CUDA"]
    try:
        package = qpal.Package(path)
        assert package.info["target"] == "nvptx"
        out = subprocess.run([tool("qpal-run"), path, "--prompt", "ab", "-n",
                              "4"], check=True, capture_output=True,
                             text=True).stdout
        assert package.generate("ab", n=4) == out.rstrip("\n")
        assert package.logits(package.tokenize("ab")).shape == (2, 64)
    finally:
        del os.environ["QPALRT_CUDA_DRIVER"]


@pytest.mark.skipif(not os.environ.get("QPAL_SMOLLM2_PACKAGE"),
                    reason="set QPAL_SMOLLM2_PACKAGE to a SmolLM2 package")
def test_smollm2_generation_equals_qpal_run():
    path = os.environ["QPAL_SMOLLM2_PACKAGE"]
    model = qpal.Package(path, threads=2)
    out = subprocess.run([tool("qpal-run"), path, "--prompt",
                          "The capital of France is", "-n", "16"],
                         check=True, capture_output=True, text=True).stdout
    assert model.generate("The capital of France is", n=16) == out.rstrip("\n")


@pytest.mark.skipif(not os.environ.get("QPAL_SMOLLM2_PACKAGE")
                    or not os.environ.get("QPAL_SMOLLM2_TEXT"),
                    reason="set QPAL_SMOLLM2_PACKAGE and QPAL_SMOLLM2_TEXT")
def test_smollm2_perplexity_equals_qpal_run():
    path = os.environ["QPAL_SMOLLM2_PACKAGE"]
    text = os.environ["QPAL_SMOLLM2_TEXT"]
    expected = qpal_run_json(path, "--perplexity", "--text", text,
                             "--threads", "2")["perplexity"]
    got = qpal.Package(path, threads=2).perplexity(open(text).read())
    assert 1 < got < 100
    assert got == pytest.approx(expected, rel=1e-12)
