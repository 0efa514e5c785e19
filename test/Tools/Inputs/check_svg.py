#!/usr/bin/env python3
"""Checks qpal's pictures against the data they draw.

  check_svg.py plan PLAN.svg PLAN.json   (`qpal allocate --plot --json`)
  check_svg.py rd RD.svg                 (`qpal palette --measure --plot`)
  check_svg.py png IMAGE.png             (a rendering is not blank)

plan: one cell per (block, role); cells of equal bits share a colour and
cells of different bits do not; one ring per SIMT layer; one outline per
contiguous run of a fused group's members (q/k/v, gate/up order), all
counted from the plan JSON here. rd: one marker per quantizer, one line per
family plus the dashed bound, and within a family the distortion falls as
the bits rise (markers higher up mean more distortion in SVG coordinates).
png: decodes the PNG (8-bit, non-interlaced) and counts its colours.
"""
import json
import struct
import sys
import xml.etree.ElementTree as ET
import zlib

NS = "{http://www.w3.org/2000/svg}"
ROLES = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
         "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
GROUPS = {"qk": [0, 1], "kv": [1, 2], "qv": [0, 2], "qkv": [0, 1, 2],
          "ug": [4, 5]}


def bits(name):
    if name == "f16":
        return 16.0
    parts = name.split(":")[0].split("_")
    if parts[0] == "tcq":
        return int(parts[1]) / 2
    if parts[0] == "tcomb":
        return (int(parts[1]) + int(parts[2])) / 4
    return int(parts[2]) / int(parts[1])  # ldlq_{v}_{b}


def fail(message):
    print("error: " + message, file=sys.stderr)
    sys.exit(1)


def check_plan(svg_path, json_path):
    root = ET.parse(svg_path).getroot()
    plan = json.load(open(json_path))
    blocks = plan["model"]["num_hidden_layers"]
    layers = plan["plan"]
    cells = [r for r in root.iter(NS + "rect")
             if r.get("width") == "20" and r.get("height") == "22"
             and r.get("stroke") == "#ffffff"]
    if len(cells) != 7 * blocks:
        fail(f"{len(cells)} cells, expected {7 * blocks}")
    colour_of = {}
    for b in range(blocks):
        for r, role in enumerate(ROLES):
            cell = cells[b * 7 + r]
            rate = bits(layers[f"{b}_{role}"])
            colour = cell.get("fill")
            if colour_of.setdefault(rate, colour) != colour:
                fail(f"block {b} {role}: {rate} bits drawn {colour}, "
                     f"elsewhere {colour_of[rate]}")
    if len(set(colour_of.values())) != len(colour_of):
        fail("two rates share a colour")
    simt = sum(name.endswith(":simt") for name in layers.values())
    rings = [c for c in root.iter(NS + "circle") if c.get("fill") == "#ffffff"]
    rings = len(rings) - 1  # the legend's
    if rings != simt:
        fail(f"{rings} rings, {simt} SIMT layers")
    runs = 0
    for groups in plan.get("fusion", {}).values():
        for group in groups:
            members = GROUPS[group]
            runs += 1 + sum(b != a + 1 for a, b in zip(members, members[1:]))
    outlines = [r for r in root.iter(NS + "rect")
                if r.get("stroke") == "#d62728"] 
    if len(outlines) - 1 != runs:  # the legend's
        fail(f"{len(outlines) - 1} outlines, {runs} fused runs")
    title = next(root.iter(NS + "text")).text
    print(f"{len(cells)} cells, {len(colour_of)} colours, {rings} SIMT rings, "
          f"{runs} fused outlines")
    print("title: " + title)


def check_rd(svg_path):
    root = ET.parse(svg_path).getroot()
    markers = [c for c in root.iter(NS + "circle")]
    lines = [p for p in root.iter(NS + "polyline")]
    dashed = [p for p in lines if p.get("stroke-dasharray")]
    if len(dashed) != 1:
        fail(f"{len(dashed)} dashed bounds")
    for line in lines:
        points = [tuple(map(float, p.split(",")))
                  for p in line.get("points").split()]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            if not (x1 > x0 and y1 > y0):
                fail("a line does not fall as the bits rise")
    print(f"{len(markers)} markers, {len(lines) - 1} family lines, 1 bound")


def check_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or interlace or not channels:
        fail(f"unsupported PNG: depth {depth}, colour {colour}")
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours = set()
    for row in range(height):
        kind = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        for i in range(0, stride, channels):
            colours.add(bytes(line[i:i + channels]))
        previous = line
    if len(colours) < 8:
        fail(f"the rendering is blank: {len(colours)} colours")
    print(f"rendered {width}x{height}, not blank")


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "plan":
        check_plan(sys.argv[2], sys.argv[3])
    elif kind == "rd":
        check_rd(sys.argv[2])
    elif kind == "png":
        check_png(sys.argv[2])
    else:
        fail("unknown check " + kind)
