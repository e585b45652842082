#!/usr/bin/env python3
"""Checks that includes point down the layers only (docs/architecture.md):
formats < io < metrics < model < engine < facade < cli. A file may include
its own layer and any below it, never one above. Usage: check_layers.py ROOT
(the repository root); prints each offending include and exits 1 if any."""
import os
import re
import sys

ORDER = ["formats", "io", "metrics", "model", "engine", "facade", "cli"]

# Public headers, by the layer that implements them; errors.hpp, export.hpp and
# version.hpp belong to every layer.
PUBLIC = {
    "image_probe.hpp": "formats",
    "files.hpp": "io",
    "image_io.hpp": "io",
    "frame_stream.hpp": "io",
    "metadata.hpp": "io",
    "matlab_resize.hpp": "metrics",
    "metrics.hpp": "metrics",
    "model.hpp": "model",
    "weights.hpp": "model",
    "options.hpp": "facade",
    "environment.hpp": "facade",
    "upscaler.hpp": "facade",
}
SHARED = {"errors.hpp", "version.hpp", "export.hpp"}


def layer_of_source(rel):
    """The layer of a file under src/ (a path relative to src/)."""
    top = rel.split("/")[0]
    if top in ("formats", "io", "metrics", "model", "engine", "cli"):
        return top
    return "facade"  # upscaler.cpp, options.cpp, run_plan.cpp, ... at the top


def layer_of_include(name):
    if name.startswith("fdiwn/"):
        base = name[len("fdiwn/"):]
        return None if base in SHARED else PUBLIC.get(base, "unknown")
    return layer_of_source(name)


def main(root):
    bad = []
    paths = []
    for top in ("src", "include/fdiwn"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            paths += [os.path.join(dirpath, f) for f in files if f.endswith((".cpp", ".hpp"))]
    for path in sorted(paths):
        rel = os.path.relpath(path, root)
        if rel.startswith("include/"):
            mine = PUBLIC.get(os.path.basename(rel))
            if mine is None:
                continue  # errors.hpp, version.hpp: included by every layer
        else:
            mine = layer_of_source(os.path.relpath(path, os.path.join(root, "src")))
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                m = re.match(r'#include "([^"]+)"', line)
                if not m:
                    continue
                theirs = layer_of_include(m.group(1))
                if theirs is None:
                    continue
                if theirs == "unknown" or ORDER.index(theirs) > ORDER.index(mine):
                    bad.append(f"{rel}:{n}: {mine} includes {m.group(1)} ({theirs})")
    for b in bad:
        print(b)
    print(f"check_layers: {len(bad)} include(s) pointing up" if bad else "check_layers: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
