"""Writes malformed TFLite files for the error tests.

    python3 corrupt.py KIND OUT [VALID.tflite]
KIND: empty | tiny | bad-identifier | truncate-half | truncate-100 |
      huge-vector | vtable-outside | offset-outside | flip-bytes
"""

import random
import struct
import sys


def huge_vector():
    # root -> table at 12 whose only field (Model.subgraphs, id 2) points to
    # a vector claiming 2^31 - 1 elements.
    buf = bytearray(36)
    struct.pack_into("<I", buf, 0, 12)
    buf[4:8] = b"TFL3"
    struct.pack_into("<i", buf, 12, 12 - 20)          # vtable at 20
    struct.pack_into("<I", buf, 16, 32 - 16)          # field -> vector at 32
    struct.pack_into("<5H", buf, 20, 10, 8, 0, 0, 4)  # vtable: field 2 at +4
    struct.pack_into("<I", buf, 32, 0x7FFFFFFF)
    return bytes(buf)


def vtable_outside():
    buf = bytearray(16)
    struct.pack_into("<I", buf, 0, 8)
    buf[4:8] = b"TFL3"
    struct.pack_into("<i", buf, 8, -100000)
    return bytes(buf)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    valid = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else b""
    if kind == "empty":
        data = b""
    elif kind == "tiny":
        data = b"TFL3"
    elif kind == "bad-identifier":
        data = valid[:4] + b"XYZ3" + valid[8:]
    elif kind == "truncate-half":
        data = valid[:len(valid) // 2]
    elif kind == "truncate-100":
        data = valid[:100]
    elif kind == "huge-vector":
        data = huge_vector()
    elif kind == "vtable-outside":
        data = vtable_outside()
    elif kind == "offset-outside":
        data = struct.pack("<I", 0xFFFFFF00) + b"TFL3" + bytes(8)
    elif kind == "flip-bytes":
        r = random.Random(7)
        data = bytearray(valid)
        for _ in range(64):
            data[r.randrange(8, len(data))] ^= 0xFF
        data = bytes(data)
    else:
        raise SystemExit("unknown kind " + kind)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
