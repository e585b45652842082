#!/usr/bin/python3
"""Makes grid2x2.heic from a heif-enc (libheif 1.15) HEIC: its 1x1 grid
(item 2 over the coded tile, item 1) becomes a 2x2 grid of that same tile,
as a phone's HEIC is a grid of tiles.

    heif-enc tile.png -o tile.heic && make_grid.py tile.heic grid2x2.heic

Edits in place of a rewrite: the grid's rows and columns and its output size
(idat: twice the tile's), its ispe, and the dimg reference (four tiles instead of one); the
iref grows by 6 bytes, so its parents grow and the offsets into mdat
(iloc base offsets) move by 6.
"""
import struct
import sys

GROWTH = 6
data = bytearray(open(sys.argv[1], "rb").read())


def find(box, start=0):
    at = data.find(box.encode(), start)
    if at < 4:
        sys.exit(f"no {box} box")
    return at - 4  # the box's start, at its size field


def grow(box_start):
    size = struct.unpack_from(">I", data, box_start)[0]
    struct.pack_into(">I", data, box_start, size + GROWTH)


# The tile's ispe comes first, then the grid's, as ipma says. The tile is
# coded larger than the picture (80x64 for 80x48), which the 1x1 grid crops;
# the 2x2 grid shows four whole tiles.
tile_ispe = find("ispe")
grid_ispe = find("ispe", tile_ispe + 8)
width, height = struct.unpack_from(">II", data, tile_ispe + 12)
struct.pack_into(">II", data, grid_ispe + 12, 2 * width, 2 * height)
idat = find("idat")
version, flags, rows, cols = struct.unpack_from(">BBBB", data, idat + 8)
assert (rows, cols, flags) == (0, 0, 0), "expected heif-enc's 1x1 grid with 16-bit sizes"
struct.pack_into(">BBBBHH", data, idat + 8, version, flags, 1, 1, 2 * width, 2 * height)

iloc = find("iloc")
assert data[iloc + 8] == 1, "expected iloc version 1"
sizes = data[iloc + 12]
assert sizes == 0x44 and data[iloc + 13] == 0x40, "expected 4-byte offsets, lengths and bases"
count = struct.unpack_from(">H", data, iloc + 14)[0]
at = iloc + 16
for _ in range(count):
    item, method, _ref = struct.unpack_from(">HHH", data, at)
    if method & 0xF == 0:  # in the file: moves with mdat
        base = struct.unpack_from(">I", data, at + 6)[0]
        struct.pack_into(">I", data, at + 6, base + GROWTH)
    extents = struct.unpack_from(">H", data, at + 10)[0]
    at += 12 + extents * 8

meta, iref = find("meta"), find("iref")
dimg = find("dimg", iref)
source, refs = struct.unpack_from(">HH", data, dimg + 8)
assert refs == 1
tile = struct.unpack_from(">H", data, dimg + 12)[0]
grow(meta)
grow(iref)
grow(dimg)
struct.pack_into(">H", data, dimg + 10, 4)
data[dimg + 14:dimg + 14] = struct.pack(">HHH", tile, tile, tile)
open(sys.argv[2], "wb").write(bytes(data))
