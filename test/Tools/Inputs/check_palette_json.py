"""Checks `qpal palette --json` against the issue's contract."""
import json
import sys

palette = json.load(open(sys.argv[1]))
assert isinstance(palette, list), "expected a JSON array"
names = [q["name"] for q in palette]
assert len(names) == len(set(names)) == 34, names

def rates(family):
    return sorted(q["bits"] for q in palette if q["family"] in family)

tcq = rates(("tcq", "tcq_split"))
quarter_steps = [1.5 + 0.25 * i for i in range(15)]
assert all(b in tcq for b in quarter_steps), tcq
assert rates(("vq",)) == [1.5 + 0.5 * i for i in range(10)], rates(("vq",))
assert rates(("sq",)) == [float(b) for b in range(2, 9)], rates(("sq",))
for q in palette:
    for key in ("name", "family", "bits", "expected_distortion", "kernel_family"):
        assert key in q, (q, key)
    # Every quantizer is within 3x of the Gaussian distortion-rate bound.
    bound = 2.0 ** (-2 * q["bits"])
    assert bound < q["expected_distortion"] < 3 * bound, q
assert "tcq_6_none_0.9" in names and "tcomb_6_7_0.5_none_0.9" in names
assert "ldlq_2_12_none_1.0" in names and "ldlq_1_8_none_1.0" in names
print("palette json ok")
