#!/usr/bin/python3
"""Convert the authors' FDIWN checkpoints into fdiwn weights files.

The authors release `FDIWNx{2,3,4}.pt`: legacy-format (pre-zip) PyTorch
pickles holding a flat `state_dict` in which most convolutions are
weight-normalised (`weight_g`, `weight_v`). fdiwn reads a simpler file:

    {"format": "fdiwn-weights", "version": 1, "scale": s,
     "tensors": {name: float32 tensor, ...}}

saved in PyTorch's zip format, so LibTorch's `torch::pickle_load` reads it
without Python. Weight normalisation is folded here, once, with the same
`torch._weight_norm` PyTorch evaluates on every forward call, so the folded
weights are bit-identical to the ones the authors' network uses.

The checkpoint is checked against the complete FDIWN key/shape schema (the
widths are read from the checkpoint, then every key is checked against them):
an unknown, missing or mis-shaped key is refused, with the key named.

Usage: /usr/bin/python3 scripts/convert_weights.py IN.pt OUT.pt [--scale N]
Needs Debian's python3-torch (run it with /usr/bin/python3).
"""

import argparse
import io
import os
import sys
import tempfile

FORMAT = "fdiwn-weights"
VERSION = 1
N_FEATS = 24  # FDIWN's trunk width, the same at every scale


class ConvertError(Exception):
    pass


def _conv(schema, name, cin, cout, k, bias=True, wn=False, groups=1):
    if wn:
        schema[name + ".weight_g"] = (cout, 1, 1, 1)
        schema[name + ".weight_v"] = (cout, cin // groups, k, k)
    else:
        schema[name + ".weight"] = (cout, cin // groups, k, k)
    if bias:
        schema[name + ".bias"] = (cout,)


def _attention(schema, name, c):
    g = c // 12  # 6 groups, halved: the parameters are per half-group channel
    for p in ("cweight", "cbias", "sweight", "sbias"):
        schema[f"{name}.{p}"] = (1, g, 1, 1)
    schema[name + ".gn.weight"] = (g,)
    schema[name + ".gn.bias"] = (g,)


def _weighted_unit(schema, name, cin, w1, w2, cout, with_conv):
    """SRBW1 (WIRW, with_conv=False), SRBW (WCRW) and SRBW2 (fusion)."""
    schema[name + ".res_scale.scale"] = (1,)
    schema[name + ".x_scale.scale"] = (1,)
    _conv(schema, name + ".body.0", cin, w1, 1, wn=True)
    _conv(schema, name + ".body.2", w1, w2, 1, wn=True)
    _conv(schema, name + ".body.3", w2, cout, 3, wn=True)
    _attention(schema, name + ".SAlayer", N_FEATS)
    if with_conv:
        _conv(schema, name + ".conv", cin, cout, 3)


def _coffconv(schema, name, c):
    r = c // 8
    _conv(schema, name + ".upper_branch.1", c, r, 1)
    _conv(schema, name + ".upper_branch.3", r, c, 1)
    _conv(schema, name + ".lower_branch.0", c, r, 1)
    _conv(schema, name + ".lower_branch.2", r, c, 1)


def expected_schema(scale, wirw_w1, wirw_w2, wcrw_w1, fuse_w1, tail):
    """Every key of an FDIWN checkpoint with its shape, in the legacy layout."""
    n, h = N_FEATS, N_FEATS // 2
    s = {}
    _conv(s, "Sub_mean", 3, 3, 1)
    _conv(s, "Add_mean", 3, 3, 1)
    _conv(s, "head", 3, n, 3)
    for li in ("Li1", "Li2", "Li3"):
        for my in ("MY1", "MY2", "MY3"):
            p = f"{li}.{my}"
            for srb in ("srb1", "srb2", "srb3", "srb4"):
                _weighted_unit(s, f"{p}.{srb}", n, wirw_w1, wirw_w2, n, False)
            for rb in ("rb1", "rb2"):
                _weighted_unit(s, f"{p}.{rb}", h, wcrw_w1, h, n, True)
            for c in ("A1", "B1", "A2", "B2"):
                _coffconv(s, f"{p}.{c}_coffconv", n)
            _conv(s, p + ".conv_distilled1", h, n, 3, bias=False)
            _conv(s, p + ".conv_distilled2", h, n, 3, bias=False)
            s[p + ".scale_x1.scale"] = (1,)
            s[p + ".scale_x2.scale"] = (1,)
            _weighted_unit(s, p + ".fuse1", 2 * n, fuse_w1, n, n, True)
            _conv(s, p + ".fuse2", 2 * n, n, 1, bias=False)
            _attention(s, p + ".SAlayer", n)
        _conv(s, li + ".conv", n, n, 3, bias=False)
        _conv(s, li + ".conv1", 2 * n, n, 3, bias=False, groups=4)
        _conv(s, li + ".conv2", 2 * n, n, 3, bias=False, groups=4)
        _weighted_unit(s, li + ".rb1", n, wirw_w1, wirw_w2, n, False)
        s[li + ".scale_x.scale"] = (1,)
        s[li + ".scale_res.scale"] = (1,)
    _conv(s, "conv1", n, tail, 3, bias=False)
    _conv(s, "conv2", 3, tail, 3)
    _conv(s, "UP1.0", tail, 3 * scale * scale, 3)
    _conv(s, "UP2.0", tail, 3 * scale * scale, 3)
    return s


def _shape(sd, key):
    if key not in sd:
        raise ConvertError(f"missing key '{key}': not an FDIWN checkpoint")
    return tuple(sd[key].shape)


def infer_widths(sd):
    up = _shape(sd, "UP1.0.weight")
    r2 = up[0] // 3
    scale = next((s for s in (2, 3, 4) if s * s == r2 and up[0] == 3 * r2), None)
    if scale is None:
        raise ConvertError(
            f"'UP1.0.weight' has shape {list(up)}: {up[0]} output channels is "
            "not 3*s*s for a scale s in 2, 3, 4")
    return dict(
        scale=scale,
        wirw_w1=_shape(sd, "Li1.MY1.srb1.body.0.weight_v")[0],
        wirw_w2=_shape(sd, "Li1.MY1.srb1.body.2.weight_v")[0],
        wcrw_w1=_shape(sd, "Li1.MY1.rb1.body.0.weight_v")[0],
        fuse_w1=_shape(sd, "Li1.MY1.fuse1.body.0.weight_v")[0],
        tail=_shape(sd, "conv1.weight")[0],
    )


def check_schema(sd, schema):
    problems = []
    for k, shape in schema.items():
        if k not in sd:
            problems.append(f"missing key '{k}' (expected shape {list(shape)})")
        elif tuple(sd[k].shape) != shape:
            problems.append(f"key '{k}': expected shape {list(shape)}, "
                            f"found {list(sd[k].shape)}")
    for k in sd:
        if k not in schema:
            problems.append(f"unexpected key '{k}' (shape {list(sd[k].shape)})")
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise ConvertError("not a recognised FDIWN checkpoint: "
                           + "; ".join(problems[:20]) + more)


def fold(sd):
    """state_dict with weight_g/weight_v pairs replaced by folded weights."""
    import torch
    out = {}
    for k, v in sd.items():
        if k.endswith(".weight_g"):
            base = k[: -len("weight_g")]
            w = torch._weight_norm(sd[base + "weight_v"], v, 0)
            out[base + "weight"] = w.detach().float().contiguous()
        elif k.endswith(".weight_v"):
            continue
        else:
            out[k] = v.detach().float().contiguous()
    return out


def convert(src, dst, scale=None):
    import torch
    try:
        sd = torch.load(src, map_location="cpu")
    except Exception as e:  # noqa: BLE001 - any failure means "not readable"
        raise ConvertError(f"cannot read checkpoint: {e}") from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in sd.items()):
        raise ConvertError("not a state_dict (a dict of name -> tensor)")
    widths = infer_widths(sd)
    if scale is not None and scale != widths["scale"]:
        raise ConvertError(f"checkpoint is for x{widths['scale']}, --scale says x{scale}")
    check_schema(sd, expected_schema(**widths))
    for k, v in sd.items():
        if not v.is_floating_point():
            raise ConvertError(f"key '{k}' has dtype {v.dtype}, expected a float tensor")
    tensors = fold(sd)
    # The paper counts parameters before folding (weight_g included).
    source_params = sum(v.numel() for v in sd.values())
    payload = {"format": FORMAT, "version": VERSION, "scale": widths["scale"],
               "source": os.path.basename(src),
               "source_parameters": source_params,
               "tensors": tensors}
    # Write next to the destination and rename, so a failed run never
    # leaves a truncated weights file behind.
    d = os.path.dirname(os.path.abspath(dst))
    fd, tmp = tempfile.mkstemp(prefix=".fdiwn-weights-", suffix=".tmp", dir=d)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.chmod(tmp, 0o666 & ~umask)
        # Through memory, so that the archive's internal folder is the fixed
        # "archive" rather than the temporary file's name.
        buffer = io.BytesIO()
        torch.save(payload, buffer, _use_new_zipfile_serialization=True)
        with open(tmp, "wb") as f:
            f.write(buffer.getvalue())
        os.replace(tmp, dst)
    except BaseException:
        os.unlink(tmp)
        raise
    return widths["scale"], len(sd), len(tensors), source_params


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="the authors' checkpoint (FDIWNx{2,3,4}.pt)")
    ap.add_argument("dst", help="the fdiwn weights file to write")
    ap.add_argument("--scale", type=int, choices=(2, 3, 4),
                    help="refuse the checkpoint unless it is for this scale")
    args = ap.parse_args(argv)
    try:
        scale, n_in, n_out, n_params = convert(args.src, args.dst, args.scale)
    except ConvertError as e:
        print(f"convert_weights: {args.src}: {e}", file=sys.stderr)
        return 1
    print(f"{args.src} -> {args.dst}: x{scale}, {n_in} checkpoint tensors -> "
          f"{n_out} tensors, {n_params:,} parameters before folding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
