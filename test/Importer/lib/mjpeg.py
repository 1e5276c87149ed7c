"""Decodes the frames of an MJPEG AVI (baseline JPEG, e.g. data/movie.avi)
with numpy only, so the real-data tests need neither FFmpeg nor OpenCV.

Supports what such clips use: RIFF AVI with '##dc' video chunks, baseline
sequential Huffman JPEG (SOF0), 8-bit samples, any sampling factors up to 2,
restart intervals, and the standard Huffman tables of JPEG Annex K.3 when a
frame has no DHT (the AVI1 MJPEG convention). Output: RGB uint8 frames
(JFIF YCbCr conversion, chroma upsampled by replication).

    frames = mjpeg.read_avi("data/movie.avi", every=4)   # list of HxWx3 uint8
"""

import struct

import numpy as np

# JPEG Annex K.3 standard tables: (code counts per length 1..16, values).
_STD_DC_LUMA = ([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], list(range(12)))
_STD_DC_CHROMA = ([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], list(range(12)))
_STD_AC_LUMA = ([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d], bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f0"
    "2433627282090a161718191a25262728292a3435363738393a43444546474849"
    "4a535455565758595a636465666768696a737475767778797a83848586878889"
    "8a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5"
    "c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8"
    "f9fa"))
_STD_AC_CHROMA = ([0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77], bytes.fromhex(
    "000102031104052131061241510761711322328108144291a1b1c109233352f0"
    "156272d10a162434e125f11718191a262728292a35363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a828384858687"
    "88898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3"
    "c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8"
    "f9fa"))

_ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63])

# Orthonormal 8-point DCT-II basis: block = C^T @ coeffs @ C.
_C = np.array([[(np.sqrt(0.125) if u == 0 else 0.5) *
                np.cos((2 * x + 1) * u * np.pi / 16) for x in range(8)]
               for u in range(8)])


class JpegError(Exception):
    pass


def _huffman(counts, values):
    """{(length, code bits as str): value}."""
    table, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            table[format(code, "0%db" % length)] = values[k]
            code += 1
            k += 1
        code <<= 1
    return table


class _Bits:
    def __init__(self, data):
        self.bits = "".join(format(b, "08b") for b in data)
        self.pos = 0

    def huff(self, table):
        for length in range(1, 17):
            code = self.bits[self.pos:self.pos + length]
            if code in table:
                self.pos += length
                return table[code]
        raise JpegError("bad Huffman code")

    def receive(self, n):
        if n == 0:
            return 0
        s = self.bits[self.pos:self.pos + n]
        if len(s) < n:
            raise JpegError("entropy-coded data ends early")
        self.pos += n
        v = int(s, 2)
        return v if v >= (1 << (n - 1)) else v - (1 << n) + 1  # EXTEND


def _unstuff(data):
    """Entropy-coded segments between restart markers, FF00 unstuffed."""
    segments, cur, i = [], bytearray(), 0
    while i < len(data):
        b = data[i]
        if b == 0xFF and i + 1 < len(data):
            nxt = data[i + 1]
            if nxt == 0x00:
                cur.append(0xFF)
                i += 2
                continue
            if 0xD0 <= nxt <= 0xD7:
                segments.append(bytes(cur))
                cur = bytearray()
                i += 2
                continue
            if nxt == 0xFF:
                i += 1
                continue
            break  # another marker: end of scan
        cur.append(b)
        i += 1
    segments.append(bytes(cur))
    return segments, i


def decode_jpeg(data):
    if data[:2] != b"\xff\xd8":
        raise JpegError("no SOI marker")
    qt, dc_tables, ac_tables = {}, {}, {}
    restart = 0
    frame = None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            pos += 1 if marker == 0xFF else 2
            continue
        if marker == 0xD9:
            break
        length = struct.unpack_from(">H", data, pos + 2)[0]
        seg = data[pos + 4:pos + 2 + length]
        if marker == 0xDB:  # DQT
            k = 0
            while k < len(seg):
                precision, tid = seg[k] >> 4, seg[k] & 15
                if precision:
                    table = np.array(struct.unpack_from(">64H", seg, k + 1))
                    k += 129
                else:
                    table = np.frombuffer(seg, np.uint8, 64, k + 1).astype(np.int64)
                    k += 65
                q = np.zeros(64, np.int64)
                q[_ZIGZAG] = table
                qt[tid] = q
        elif marker == 0xC4:  # DHT
            k = 0
            while k < len(seg):
                cls, tid = seg[k] >> 4, seg[k] & 15
                counts = list(seg[k + 1:k + 17])
                values = list(seg[k + 17:k + 17 + sum(counts)])
                (ac_tables if cls else dc_tables)[tid] = _huffman(counts, values)
                k += 17 + sum(counts)
        elif marker == 0xDD:  # DRI
            restart = struct.unpack_from(">H", seg, 0)[0]
        elif marker == 0xC0 or marker == 0xC1:  # SOF0/1 baseline
            precision, h, w, n = struct.unpack_from(">BHHB", seg, 0)
            if precision != 8:
                raise JpegError("only 8-bit JPEG is supported")
            comps = []
            for c in range(n):
                cid, hv, tq = struct.unpack_from(">BBB", seg, 6 + 3 * c)
                comps.append(dict(id=cid, h=hv >> 4, v=hv & 15, tq=tq))
            frame = dict(h=h, w=w, comps=comps)
        elif 0xC2 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            raise JpegError("only baseline JPEG is supported")
        elif marker == 0xDA:  # SOS
            if frame is None:
                raise JpegError("SOS before SOF")
            if not dc_tables:
                dc_tables = {0: _huffman(*_STD_DC_LUMA), 1: _huffman(*_STD_DC_CHROMA)}
            if not ac_tables:
                ac_tables = {0: _huffman(*_STD_AC_LUMA), 1: _huffman(*_STD_AC_CHROMA)}
            ns = seg[0]
            sel = {}
            for c in range(ns):
                cid, t = seg[1 + 2 * c], seg[2 + 2 * c]
                sel[cid] = (t >> 4, t & 15)
            scan = data[pos + 2 + length:]
            segments, _ = _unstuff(scan)
            return _decode_scan(frame, sel, qt, dc_tables, ac_tables, restart,
                                segments)
        pos += 2 + length
    raise JpegError("no scan found")


def _decode_scan(frame, sel, qt, dc_tables, ac_tables, restart, segments):
    comps = frame["comps"]
    hmax = max(c["h"] for c in comps)
    vmax = max(c["v"] for c in comps)
    mcux = (frame["w"] + 8 * hmax - 1) // (8 * hmax)
    mcuy = (frame["h"] + 8 * vmax - 1) // (8 * vmax)
    coeffs = [np.zeros((mcuy * c["v"], mcux * c["h"], 64), np.int64) for c in comps]
    pred = [0] * len(comps)
    seg_index = 0
    bits = _Bits(segments[0])
    for m in range(mcux * mcuy):
        if restart and m and m % restart == 0:
            seg_index += 1
            bits = _Bits(segments[seg_index] if seg_index < len(segments) else b"")
            pred = [0] * len(comps)
        my, mx = divmod(m, mcux)
        for ci, c in enumerate(comps):
            dct, act = sel[c["id"]]
            dc, ac = dc_tables[dct], ac_tables[act]
            for by in range(c["v"]):
                for bx in range(c["h"]):
                    block = coeffs[ci][my * c["v"] + by, mx * c["h"] + bx]
                    t = bits.huff(dc)
                    pred[ci] += bits.receive(t)
                    block[0] = pred[ci]
                    k = 1
                    while k < 64:
                        rs = bits.huff(ac)
                        r, s = rs >> 4, rs & 15
                        if s == 0:
                            if r != 15:
                                break
                            k += 16
                            continue
                        k += r
                        if k > 63:
                            raise JpegError("AC coefficient index out of range")
                        block[_ZIGZAG[k]] = bits.receive(s)
                        k += 1
    planes = []
    for ci, c in enumerate(comps):
        q = qt[c["tq"]]
        blocks = (coeffs[ci] * q).reshape(coeffs[ci].shape[:2] + (8, 8)).astype(np.float64)
        pix = np.einsum("ux,abuv,vy->abxy", _C, blocks, _C) + 128.0
        by, bx = pix.shape[:2]
        plane = pix.transpose(0, 2, 1, 3).reshape(by * 8, bx * 8)
        plane = np.repeat(np.repeat(plane, vmax // c["v"], 0), hmax // c["h"], 1)
        planes.append(plane[:frame["h"], :frame["w"]])
    if len(planes) == 1:
        y = planes[0]
        rgb = np.stack([y, y, y], -1)
    else:
        y, cb, cr = planes[0], planes[1] - 128.0, planes[2] - 128.0
        rgb = np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr,
                        y + 1.772 * cb], -1)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def avi_video_chunks(data):
    """The payloads of the '##dc'/'##db' chunks of the AVI's 'movi' list."""
    out = []

    def walk(start, end):
        pos = start
        while pos + 8 <= end:
            fourcc = data[pos:pos + 4]
            size = struct.unpack_from("<I", data, pos + 4)[0]
            body = pos + 8
            if fourcc in (b"RIFF", b"LIST"):
                walk(body + 4, min(body + size, end))
            elif fourcc[2:] in (b"dc", b"db"):
                out.append(data[body:body + size])
            pos = body + size + (size & 1)

    walk(0, len(data))
    return out


def read_avi(path, every=1, limit=None):
    with open(path, "rb") as f:
        data = f.read()
    chunks = [c for c in avi_video_chunks(data) if c[:2] == b"\xff\xd8"]
    frames = []
    for i in range(0, len(chunks), every):
        frames.append(decode_jpeg(chunks[i]))
        if limit and len(frames) >= limit:
            break
    return frames


def resize_bilinear(img, height, width):
    """Half-pixel-centre bilinear resize (like cv2.INTER_LINEAR), float."""
    img = img.astype(np.float64)
    ih, iw = img.shape[:2]

    def axis(insize, outsize):
        v = (np.arange(outsize) + 0.5) * insize / outsize - 0.5
        v = np.clip(v, 0, insize - 1)
        lo = np.floor(v).astype(np.int64)
        hi = np.minimum(lo + 1, insize - 1)
        return lo, hi, v - lo

    y0, y1, dy = axis(ih, height)
    x0, x1, dx = axis(iw, width)
    dy, dx = dy[:, None, None], dx[None, :, None]
    top = img[y0][:, x0] * (1 - dx) + img[y0][:, x1] * dx
    bottom = img[y1][:, x0] * (1 - dx) + img[y1][:, x1] * dx
    return top * (1 - dy) + bottom * dy
