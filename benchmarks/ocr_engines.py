"""The two OCR engines on the same figures: rapidocr (PP-OCRv4, the one nianbao uses) and tesseract.

    python -m benchmarks.ocr_engines [--reports N] [--dpi 150 200 300] [--json]

Reports from the generator are rendered at each dpi (clean, and with grain and JPEG at quality
30). nianbao's scan reader finds the tables' cells on each page (readers/grid.py); every figure
cell's crop (the figure's ink with a margin, as a text line is cut) is then read by both engines, each told it reads a figure: rapidocr's recogniser
restricted to digits (`ocr.Engine.read`, what the reader does), both on the page as the reader
prepares it (red ink out, grain filtered), tesseract 5 with `--psm 7` (one
line) and a digits whitelist, all crops of a page in one tesseract call (a list file). Against
the .docx's figures it prints, per engine and page set: cell accuracy, seconds per 100 cells and
per page (recognition only; finding the cells is common to both and not counted).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.ocr import COUNTY, YEAR, jpeg, noise, render, specs
from nianbao.check import check_file
from nianbao.generate import write_all


def cells_and_crops(page_images: list[np.ndarray], dpi: int, work: Path, tag: str):
    """Every figure cell the reader finds: (key, crop) with key (table, row, index)."""
    from PIL import Image

    tif = work / f"{tag}.tif"
    ims = [Image.fromarray(p) for p in page_images]
    ims[0].save(tif, save_all=True, append_images=ims[1:], dpi=(dpi, dpi), compression="tiff_deflate")
    res = check_file(tif, year=YEAR, county=COUNTY)
    out = []
    if res.parsed is None:
        return out
    import cv2

    from nianbao.readers.scan import _denoise, _grey

    # both engines get the page as the reader prepares it: red ink out, grain filtered
    page_images = [cv2.cvtColor(_denoise(_grey(p)), cv2.COLOR_GRAY2RGB) for p in page_images]
    f = dpi / 72
    for info in res.parsed.evidence.tables.values():
        for c in info.cells:
            if c.source is None or c.source.box is None or c.source.page is None:
                continue
            x0, t, x1, b = (int(v * f) for v in c.source.box)
            inset = max(2, int(dpi * 0.015))
            crop = page_images[c.source.page - 1][t + inset:b - inset, x0 + inset:x1 - inset]
            if crop.size:
                out.append(((c.table, c.row, c.col_index), _tight(crop)))
    return out


def _tight(crop: np.ndarray) -> np.ndarray:
    """The figure's ink with a margin of a third of its height, as a text line is cropped: both
    engines read a line best so (a cell's blank area shrinks the digits for PP-OCR's 48-px input)."""
    dark = crop.min(axis=2) < 140
    ys, xs = np.nonzero(dark)
    if not len(ys):
        return crop
    h = ys.max() - ys.min() + 1
    m = max(3, h // 3)
    return crop[max(0, ys.min() - m):ys.max() + 1 + m, max(0, xs.min() - m):xs.max() + 1 + m]


def rapid(crops: list[np.ndarray]) -> tuple[list[str], float]:
    from nianbao.readers.ocr import engine

    e = engine()
    t0 = time.perf_counter()
    reads = e.read(crops)
    return ["".join(g.char for g in r.figure) for r in reads], time.perf_counter() - t0


def tesseract(crops: list[np.ndarray], work: Path) -> tuple[list[str], float]:
    from PIL import Image

    paths = []
    for k, c in enumerate(crops):
        p = work / f"t{k:05d}.png"
        Image.fromarray(c).save(p)
        paths.append(p)
    listing = work / "list.txt"
    listing.write_text("\n".join(str(p) for p in paths) + "\n")
    t0 = time.perf_counter()
    out = subprocess.run(["tesseract", str(listing), "-", "--psm", "7", "-l", "eng",
                          "-c", "tessedit_char_whitelist=0123456789."], capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t0
    texts = [t.strip() for t in out.stdout.split("\f")][:len(crops)]
    texts += [""] * (len(crops) - len(texts))
    return texts, seconds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=2)
    ap.add_argument("--dpi", type=int, nargs="+", default=[150, 200, 300])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if shutil.which("tesseract") is None:
        print("tesseract is not installed (apt-get install tesseract-ocr)", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="nianbao-engines-") as tmp:
        work = Path(tmp)
        docs = write_all(specs(args.reports, 31), work, formats=("docx", "pdf"))
        truth = {}
        for name, paths in docs.items():
            res = check_file(paths["docx"], year=YEAR, county=COUNTY)
            truth[name] = {(c.table, c.row, c.col_index): c.raw for info in res.parsed.evidence.tables.values()
                           for c in info.cells}
        for dpi in args.dpi:
            for degradation in ("clean", "grain+jpeg"):
                n = {"rapidocr": [0, 0, 0.0], "tesseract": [0, 0, 0.0]}  # right, cells, seconds
                pages = 0
                for k, (name, paths) in enumerate(docs.items()):
                    imgs = render(paths["pdf"], dpi)
                    if degradation != "clean":
                        rng = random.Random(k)
                        imgs = [jpeg(noise(p, rng, dpi), rng, dpi, 30) for p in imgs]
                    pages += len(imgs)
                    cells = cells_and_crops(imgs, dpi, work, f"{name}-{dpi}-{degradation}")
                    keys = [key for key, _ in cells]
                    crops = [c for _, c in cells]
                    for engine_name, (texts, seconds) in (("rapidocr", rapid(crops)),
                                                          ("tesseract", tesseract(crops, work))):
                        right = sum(1 for key, t in zip(keys, texts, strict=True) if t == (truth[name].get(key) or ""))
                        n[engine_name][0] += right
                        n[engine_name][1] += len(keys)
                        n[engine_name][2] += seconds
                for engine_name, (right, total, seconds) in n.items():
                    row = {"engine": engine_name, "dpi": dpi, "degradation": degradation, "cells": total,
                           "accuracy": right / total if total else 0.0,
                           "s_per_100_cells": 100 * seconds / total if total else 0.0,
                           "s_per_page": seconds / pages if pages else 0.0}
                    rows.append(row)
                    if not args.json:
                        print(f"{dpi:>4} dpi {degradation:<10} {engine_name:<9} cells {total:>4}  accuracy "
                              f"{row['accuracy']:.2%}  {row['s_per_100_cells']:.2f} s/100 cells  "
                              f"{row['s_per_page']:.2f} s/page", flush=True)
    if args.json:
        json.dump({"rows": rows}, sys.stdout, ensure_ascii=False, indent=1)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
