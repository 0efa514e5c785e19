"""Checks `qpal palette --measure --json` against the reference distortions."""
import json
import sys

palette = json.load(open(sys.argv[1]))
tolerance = float(sys.argv[2])
for q in palette:
    for key in ("name", "family", "bits", "distortion", "weights_per_second"):
        assert key in q, (key, q)
    diff = q["distortion"] / q["expected_distortion"] - 1
    assert abs(diff) < tolerance, (q["name"], q["distortion"], q["expected_distortion"])
    assert q["weights_per_second"] > 0, q
print("%d quantizers within %.1f%% of the reference" % (len(palette), 100 * tolerance))
