#!/usr/bin/python3
"""Makes the small image fixtures of tests/data/kinds that OpenCV cannot
write itself (run once; the outputs are committed). Needs python3-pil."""
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
# A smooth colour image (the network's output on noise is not informative).
yy, xx = np.mgrid[0:20, 0:30]
rgb = np.dstack([(xx * 8) % 256, (yy * 12) % 256, ((xx + yy) * 5) % 256]).astype(np.uint8)


def path(name):
    return os.path.join(HERE, name)


# Palette PNG whose palette entry 3 is fully transparent (tRNS).
pal = Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16)
pal.save(path("palette_trns.png"), transparency=3)

# Gray + alpha PNG (colour type 4), alpha a left-to-right ramp.
la = np.dstack([rgb[:, :, 0], (xx * 255 // 29).astype(np.uint8)])
Image.fromarray(la, "LA").save(path("gray_alpha.png"))

# CMYK JPEG (Adobe, 4 components).
Image.fromarray(rgb).convert("CMYK").save(path("cmyk.jpg"), quality=95)

# JPEG stored 30x20 with EXIF orientation 6 (display rotated 90 degrees
# clockwise: shown 20x30).
exif = Image.Exif()
exif[0x0112] = 6
Image.fromarray(rgb).save(path("exif_orientation6.jpg"), quality=95, exif=exif.tobytes())

# A PNG whose header claims 100000 x 100000 pixels (a decompression bomb):
# a valid 1x1 PNG with the IHDR size patched and its CRC recomputed.
Image.fromarray(rgb[:1, :1]).save(path("bomb.png"))
data = bytearray(open(path("bomb.png"), "rb").read())
assert data[12:16] == b"IHDR"
data[16:24] = struct.pack(">II", 100000, 100000)
data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
open(path("bomb.png"), "wb").write(bytes(data))

# CMYK TIFF (separated, 4 samples, no alpha) and gray + alpha TIFF (2
# samples): OpenCV reads the first with an alpha it does not have, the
# second without the alpha it has.
Image.fromarray(rgb).convert("CMYK").save(path("cmyk.tif"))
Image.fromarray(la, "LA").save(path("gray_alpha.tif"))
