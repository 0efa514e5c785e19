#!/usr/bin/env python3
# ===- check_launch_log.py - Check a stand-in driver's launch log -------=== #
#
# Part of the qpal project, under the Apache License v2.0 with LLVM
# Exceptions. See LICENSE for license information.
#
# ===------------------------------------------------------------------=== #
#
# Reads the launches the stand-in CUDA driver logged
# ($QPAL_FAKE_CUDA_LAUNCH_LOG: "name gx,gy,gz bx,by,bz params" per launch,
# "synchronize" per cuCtxSynchronize) while an nvptx package ran batch-1
# steps, and checks that there were `--steps` steps (each starts with the
# step's first kernel, qpal_step_b1_k0), that every step launched the same
# kernels with the same geometry and waited once, at its end (its
# functions' stream synchronizations do not wait), and that qpal's linear
# kernels (rotation and dequant-matmul) were among them.
#
#   check_launch_log.py LOG --steps N
#
# ===------------------------------------------------------------------=== #

import argparse
import sys

parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("--steps", type=int, required=True)
args = parser.parse_args()

steps, waited = [], []
for line in open(args.log):
    if line.strip() == "synchronize":
        # (The runtime's own waits between steps are not the step's.)
        if steps:
            waited[-1] = True
        continue
    name, grid, block, params = line.split()
    if name == "qpal_step_b1_k0":
        steps.append([])
        waited.append(False)
    if not steps:
        sys.exit(f"launch of {name} before the first step's first kernel")
    if waited[-1]:
        sys.exit(f"step {len(steps) - 1} waited before launching {name}")
    steps[-1].append((name, grid, block, int(params)))

if len(steps) != args.steps:
    sys.exit(f"expected {args.steps} steps, found {len(steps)}")
for index, step in enumerate(steps[1:], 1):
    if step != steps[0]:
        sys.exit(f"step {index} launched other kernels than step 0")
for index, done in enumerate(waited):
    if not done:
        sys.exit(f"step {index} did not wait for its kernels")
names = {launch[0] for launch in steps[0]}
if not any(n.startswith("qpal_rotate_") for n in names):
    sys.exit("no rotation kernel was launched")
if not any(n.startswith(("qpal_tcq_", "qpal_ldlq_")) for n in names):
    sys.exit("no dequant-matmul kernel was launched")
print(f"{len(steps)} steps of {len(steps[0])} launches each and one wait, "
      f"{len(names)} distinct kernels, qpal's linear kernels among them")
