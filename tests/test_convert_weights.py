#!/usr/bin/python3
"""Tests of scripts/convert_weights.py.

Run by CTest as: /usr/bin/python3 test_convert_weights.py CONVERTER WEIGHTS_DIR
(Debian's python3-torch is only visible to /usr/bin/python3.)

A small checkpoint with FDIWN's complete key set but tiny widths is written
in the authors' legacy (pre-zip) pickle format, converted, and the folded
weights are checked against weight normalisation computed here by hand.
"""

import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

import torch

CONVERTER = None
WEIGHTS_DIR = None

# Tiny widths keep the checkpoint small; the trunk width (24) is fixed.
TINY = dict(scale=3, wirw_w1=6, wirw_w2=4, wcrw_w1=5, fuse_w1=7, tail=4)


def load_converter():
    spec = importlib.util.spec_from_file_location("convert_weights", CONVERTER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def random_checkpoint(conv, **widths):
    gen = torch.Generator().manual_seed(1234)
    sd = {}
    for key, shape in conv.expected_schema(**widths).items():
        t = torch.randn(shape, generator=gen)
        if key.endswith("weight_g"):
            t = t.abs() + 0.1
        sd[key] = t
    return sd


def save_legacy(sd, path):
    torch.save(sd, path, _use_new_zipfile_serialization=False)


def run_converter(*args):
    return subprocess.run([sys.executable, CONVERTER, *args], capture_output=True, text=True)


class ConvertTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conv = load_converter()

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def convert_ok(self, sd, *extra):
        src, dst = self.path("legacy.pt"), self.path("out.pt")
        save_legacy(sd, src)
        with open(src, "rb") as f:
            self.assertNotEqual(f.read(2), b"PK", "test checkpoint must be legacy format")
        r = run_converter(src, dst, *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return torch.load(dst)

    def test_folds_weight_normalisation(self):
        sd = random_checkpoint(self.conv, **TINY)
        out = self.convert_ok(sd)
        self.assertEqual(out["format"], "fdiwn-weights")
        self.assertEqual(out["version"], 1)
        self.assertEqual(out["scale"], 3)
        self.assertEqual(out["source_parameters"], sum(v.numel() for v in sd.values()))
        tensors = out["tensors"]
        n_folded = 0
        for key, v in sd.items():
            if key.endswith(".weight_v"):
                base = key[: -len("weight_v")]
                g = sd[base + "weight_g"]
                # weight = g * v / ||v||, the norm over everything but dim 0.
                norm = v.pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt()
                expected = g * v / norm
                got = tensors[base + "weight"]
                self.assertEqual(got.dtype, torch.float32)
                torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-7,
                                           msg=f"folded {base}weight")
                # Folded rows have the norm g.
                torch.testing.assert_close(got.flatten(1).norm(dim=1), g.flatten(),
                                           rtol=1e-5, atol=1e-6)
                n_folded += 1
            elif not key.endswith(".weight_g"):
                self.assertTrue(torch.equal(tensors[key], v), key)
        self.assertGreater(n_folded, 100)
        self.assertFalse(any(k.endswith(("weight_g", "weight_v")) for k in tensors))
        self.assertEqual(
            len(tensors), len(sd) - n_folded, "one tensor per folded pair, others kept")

    def test_output_is_zip_format(self):
        sd = random_checkpoint(self.conv, **TINY)
        self.convert_ok(sd)
        with open(self.path("out.pt"), "rb") as f:
            self.assertEqual(f.read(4), b"PK\x03\x04")

    def refused(self, sd, needle, *extra):
        src, dst = self.path("bad.pt"), self.path("never.pt")
        save_legacy(sd, src)
        r = run_converter(src, dst, *extra)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(needle, r.stderr)
        self.assertIn(src, r.stderr)
        self.assertFalse(os.path.exists(dst), "no output for a refused checkpoint")
        self.assertEqual([f for f in os.listdir(self.dir) if f.endswith(".tmp")], [])

    def test_refuses_unknown_key(self):
        sd = random_checkpoint(self.conv, **TINY)
        sd["Li4.conv.weight"] = torch.zeros(24, 24, 3, 3)
        self.refused(sd, "unexpected key 'Li4.conv.weight'")

    def test_refuses_missing_key(self):
        sd = random_checkpoint(self.conv, **TINY)
        del sd["Li2.MY3.scale_x1.scale"]
        self.refused(sd, "missing key 'Li2.MY3.scale_x1.scale'")

    def test_refuses_wrong_shape(self):
        sd = random_checkpoint(self.conv, **TINY)
        sd["Li3.conv.weight"] = torch.zeros(24, 24, 1, 1)
        self.refused(sd, "key 'Li3.conv.weight': expected shape [24, 24, 3, 3], found [24, 24, 1, 1]")

    def test_refuses_other_scale_than_asked(self):
        self.refused(random_checkpoint(self.conv, **TINY), "checkpoint is for x3", "--scale", "2")

    def test_refuses_a_non_checkpoint(self):
        src = self.path("text.pt")
        with open(src, "w") as f:
            f.write("hello")
        r = run_converter(src, self.path("never.pt"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot read checkpoint", r.stderr)


class CommittedWeightsTest(unittest.TestCase):
    """The bundled files are what the converter makes of the authors' release."""

    def test_bundled_weights(self):
        conv = load_converter()
        paper = {2: 629176, 3: 646486, 4: 663848}
        for scale in (2, 3, 4):
            with self.subTest(scale=scale):
                out = torch.load(os.path.join(WEIGHTS_DIR, f"FDIWNx{scale}.pt"))
                self.assertEqual(out["format"], "fdiwn-weights")
                self.assertEqual(out["scale"], scale)
                self.assertEqual(out["source_parameters"], paper[scale])
                tensors = out["tensors"]
                self.assertTrue(all(t.dtype == torch.float32 for t in tensors.values()))
                # Undo the folding as (g, v) = (||w||, w): the result must be
                # exactly the authors' key set, which the schema check verifies.
                schema = conv.expected_schema(**conv_widths(tensors, scale))
                sd = {}
                for key in schema:
                    if key.endswith(".weight_g") or key.endswith(".weight_v"):
                        w = tensors[key[: -len("_g")]]
                        sd[key] = w.flatten(1).norm(dim=1).view(-1, 1, 1, 1) \
                            if key.endswith("_g") else w
                    elif key in tensors:
                        sd[key] = tensors[key]
                self.assertEqual(len(sd), len(schema))
                self.assertEqual(set(tensors),
                                 {k[: -len("_g")] if k.endswith(".weight_g") else k
                                  for k in schema if not k.endswith(".weight_v")})
                conv.check_schema(sd, schema)


def conv_widths(tensors, scale):
    return dict(scale=scale,
                wirw_w1=tensors["Li1.MY1.srb1.body.0.weight"].shape[0],
                wirw_w2=tensors["Li1.MY1.srb1.body.2.weight"].shape[0],
                wcrw_w1=tensors["Li1.MY1.rb1.body.0.weight"].shape[0],
                fuse_w1=tensors["Li1.MY1.fuse1.body.0.weight"].shape[0],
                tail=tensors["conv1.weight"].shape[0])


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: test_convert_weights.py CONVERTER WEIGHTS_DIR [unittest args]")
    CONVERTER, WEIGHTS_DIR = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
