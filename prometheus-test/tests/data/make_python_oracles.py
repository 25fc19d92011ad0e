"""Writes the Python oracles the signature tests compare against.

Run from this folder with CPython 3 (stdlib only):  python3 make_python_oracles.py
Output is deterministic (fixed random seed), so re-running must not change the files.

- python_float_repr.txt: `<f64 bits as 16 hex digits> <json.dumps(float)>` per line.
- python_dumps.json: random payloads with `text` = json.dumps(payload) (unsorted)
  and `canonical` = json.dumps(payload, sort_keys=True).
"""
import json
import random
import struct

rng = random.Random(20240611)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


floats = [
    0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.1 + 0.2, 1 / 3, 2 / 3, 100.0, 1e15, 1e16, 1e17,
    9999999999999998.0, 9999999999999999.0, 1e16 - 2, 123456789012345678.0,
    1e-4, 1e-5, 0.00011, 0.000099, 1e-7, 5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, 1e22, 1e23, 1e300, 1e-300, 3.14, 2.5, 0.5, 1.5e-10,
    4.35, 0.3, 1.1, 2.0 ** 53, 2.0 ** 53 + 2, 2.0 ** 63, 2.0 ** 64, 12345.678, 1e21, 1e-6,
    float("inf"), float("-inf"), float("nan"),
]
for _ in range(1500):  # random bit patterns: every exponent range
    x = from_bits(rng.getrandbits(64))
    floats.append(x)
for _ in range(500):  # "human" decimals around the format boundaries
    exp = rng.randint(-8, 20)
    digits = rng.randint(1, 17)
    mant = rng.randint(1, 10 ** digits - 1)
    floats.append(float(f"{mant}e{exp - digits}") * rng.choice([1, -1]))
for _ in range(500):  # exact binary fractions: where ties between two shortest candidates happen
    m = rng.getrandbits(53) | (1 << 52)
    floats.append(m * 2.0 ** rng.randint(-60, 20))

with open("python_float_repr.txt", "w") as f:
    f.write("# f64 bits (hex) and json.dumps of that float, written by make_python_oracles.py\n")
    for x in floats:
        f.write(f"{bits(x):016x} {json.dumps(x)}\n")

ALPHABET = (
    list("abcABC_-019 /\\\"'") + ["\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "\x0b"]
    + ["é", "Я", "中", "\u2028", "\uff01", "\ud7ff", "\ue000", "\uffff", "😀", "🚀", "\U0010ffff", "\U00010000"]
)


def rand_str(n=6):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, n)))


def rand_scalar():
    kind = rng.randrange(7)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-(2 ** 130), 2 ** 130) if rng.random() < 0.3 else rng.randint(-1000, 1000)
    if kind == 3:
        return from_bits(rng.getrandbits(64)) if rng.random() < 0.3 else round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))
    return rand_str()


def rand_value(depth):
    if depth <= 0 or rng.random() < 0.35:
        return rand_scalar()
    if rng.random() < 0.5:
        return [rand_value(depth - 1) for _ in range(rng.randint(0, 4))]
    return {rand_str(4): rand_value(depth - 1) for _ in range(rng.randint(0, 5))}


cases = []
for _ in range(250):
    payload = {rand_str(5): rand_value(3) for _ in range(rng.randint(0, 6))}
    try:
        text = json.dumps(payload)
    except ValueError:
        continue
    cases.append({"text": text, "canonical": json.dumps(payload, sort_keys=True)})

with open("python_dumps.json", "w") as f:
    json.dump({"generator": "make_python_oracles.py (CPython json.dumps)", "count": len(cases), "cases": cases}, f, indent=1)
    f.write("\n")
