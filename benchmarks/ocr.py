"""Scans: how well OCR reads the tables, how often a wrong figure goes unflagged, how fast.

    python -m benchmarks.ocr [--reports N] [--dpi 150 200 300] [--degrade clean skew …] [--json]

Reports from the generator are written as .docx, turned into PDF by LibreOffice (one call), and
their pages rendered to images at each dpi, then degraded the way real scans are:

- clean:       the rendered page
- skew:        turned by up to ±3°
- noise:       grain (Gaussian, σ 14) and specks
- jpeg:        saved as JPEG at quality 30, sent as a .zip of pages
- stamp:       a red round seal (公章) over part of table 三
- grey:        grey, unevenly lit paper
- photo:       a phone's photo: the page on a dark desk, seen at an angle (perspective), a little blur
- all:         skew, noise, stamp, grey and JPEG together

Each scan goes through `check_file` as any submission would (isolated read, every rule). Against
the .docx of the same report it counts, per dpi and degradation:

- cells: every figure of tables 二–四 (the .docx's); right: read as the .docx has it;
- flagged: a wrong cell that file.ocr_uncertain names; caught: a wrong cell another error
  finding points at (the arithmetic of its row or column, an invalid cell) — the clerk is told
  either way; silent: wrong and neither (target 0);
- false flags: right cells that file.ocr_uncertain names (a question the clerk answers for nothing);
- verdicts equal to the .docx's;
- seconds per page (the isolated read, wall time) and the reader's peak memory.

Targets: cell accuracy ≥ 99.5 %, silently wrong cells 0. The figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from nianbao.check import check_file
from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, render_pages, write_all
from nianbao.readers import isolated

YEAR = 2024
COUNTY = "巨鹿县"
DEGRADATIONS = ("clean", "skew", "noise", "jpeg", "stamp", "grey", "photo", "all")
TARGET_ACCURACY = 0.995


def specs(n: int, seed: int) -> dict[str, ReportSpec]:
    out = {}
    for i in range(n):
        rng = random.Random(seed + i)
        out[f"scan{i:02d}"] = ReportSpec(year=YEAR, county=COUNTY, table3=balanced_table3(rng, (20, 60, 300)[i % 3]),
                                         table4=balanced_table4(rng, 3))
    return out


def render(pdf: Path, dpi: int) -> list[np.ndarray]:
    return [np.array(p) for p in render_pages(pdf, dpi)]


# ---- degradations (each takes and gives an RGB page) ------------------------------------------


def skew(img: np.ndarray, rng: random.Random, dpi: int) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    angle = rng.choice((-1, 1)) * rng.uniform(1.0, 3.0)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


def noise(img: np.ndarray, rng: random.Random, dpi: int) -> np.ndarray:
    g = np.random.default_rng(rng.randrange(1 << 30))
    out = img.astype(np.float32) + g.normal(0, 14, img.shape[:2])[:, :, None]
    specks = g.random(img.shape[:2]) < 0.002
    out[specks] = 0
    return np.clip(out, 0, 255).astype(np.uint8)


def jpeg(img: np.ndarray, rng: random.Random, dpi: int, quality: int = 30) -> np.ndarray:
    import cv2

    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1]


def stamp(img: np.ndarray, rng: random.Random, dpi: int) -> np.ndarray:
    """A red seal 4.2 cm across (a government's 公章), its ink multiplied over the print."""
    import cv2

    h, w = img.shape[:2]
    r = int(dpi * 4.2 / 2.54 / 2)
    cx, cy = int(w * rng.uniform(0.55, 0.75)), int(h * rng.uniform(0.3, 0.6))
    seal = np.full((h, w), 255, np.uint8)
    cv2.circle(seal, (cx, cy), r, 0, max(3, dpi // 40))
    star = np.array([(cx + r * 0.35 * math.cos(a), cy + r * 0.35 * math.sin(a))
                     for a in np.linspace(-math.pi / 2, 3.5 * math.pi, 6)[:5]], np.int32)
    cv2.fillPoly(seal, [star[[0, 2, 4, 1, 3]]], 0)
    for k in range(12):  # the seal's ring of characters, as strokes
        a = -math.pi * 0.9 + k * math.pi * 1.8 / 11
        x, y = int(cx + r * 0.75 * math.cos(a)), int(cy + r * 0.75 * math.sin(a))
        cv2.rectangle(seal, (x - dpi // 20, y - dpi // 20), (x + dpi // 20, y + dpi // 20), 0, -1)
    ink = (255 - seal).astype(np.float32) / 255 * 0.85
    red = np.array([225, 30, 40], np.float32)
    out = img.astype(np.float32) * (1 - ink[:, :, None]) + (img.astype(np.float32) * red / 255) * ink[:, :, None]
    return np.clip(out, 0, 255).astype(np.uint8)


def grey(img: np.ndarray, rng: random.Random, dpi: int) -> np.ndarray:
    h, w = img.shape[:2]
    light = np.linspace(0.78, 0.9, w, dtype=np.float32)[None, :] * np.linspace(0.95, 1.0, h, dtype=np.float32)[:, None]
    return np.clip(img.astype(np.float32) * light[:, :, None], 0, 255).astype(np.uint8)


def photo(img: np.ndarray, rng: random.Random, dpi: int) -> np.ndarray:
    """The page on a desk, photographed from a little off square."""
    import cv2

    h, w = img.shape[:2]
    pad = int(0.08 * w)
    desk = np.full((h + 2 * pad, w + 2 * pad, 3), (70, 60, 50), np.uint8)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    d = 0.03
    jitter = [rng.uniform(0, d) for _ in range(8)]
    dst = np.float32([[pad + jitter[0] * w, pad + jitter[1] * h], [pad + w - jitter[2] * w, pad + jitter[3] * h],
                      [pad + w - jitter[4] * w, pad + h - jitter[5] * h], [pad + jitter[6] * w, pad + h - jitter[7] * h]])
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(img, m, (desk.shape[1], desk.shape[0]), dst=desk, borderMode=cv2.BORDER_TRANSPARENT)
    return cv2.GaussianBlur(out, (3, 3), 0.8)


def apply(name: str, page: np.ndarray, page_no: int, rng: random.Random, dpi: int) -> np.ndarray:
    if name == "clean":
        return page
    if name == "all":
        for step in (grey, stamp, skew, noise):
            if step is stamp and page_no != 2:
                continue
            page = step(page, rng, dpi)
        return jpeg(page, rng, dpi, 45)
    if name == "stamp" and page_no != 2:  # table 三 is on page 2
        return page
    return {"skew": skew, "noise": noise, "jpeg": jpeg, "stamp": stamp, "grey": grey, "photo": photo}[name](page, rng, dpi)


def write_scan(pages: list[np.ndarray], dpi: int, degradation: str, out: Path) -> Path:
    """A lossless multi-page TIFF, or a .zip of JPEG pages where the degradation is JPEG's."""
    from PIL import Image

    ims = [Image.fromarray(p) for p in pages]
    if degradation in ("jpeg", "all", "photo"):
        path = out.with_suffix(".zip")
        with zipfile.ZipFile(path, "w") as zf:
            for k, im in enumerate(ims, 1):
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=92, dpi=(dpi, dpi))  # already degraded: saved as it is
                zf.writestr(f"第{k}页.jpg", buf.getvalue())
        return path
    path = out.with_suffix(".tif")
    ims[0].save(path, save_all=True, append_images=ims[1:], dpi=(dpi, dpi), compression="tiff_deflate")
    return path


# ---- measuring --------------------------------------------------------------------------------


def cells_of(result) -> dict[tuple[str, str, int], object]:
    ev = result.parsed.evidence if result.parsed else None
    if ev is None:
        return {}
    return {(c.table, c.row, c.col_index): c.value for info in ev.tables.values() for c in info.cells}


def _confidences(result) -> dict:
    ev = result.parsed.evidence if result.parsed else None
    if ev is None:
        return {}
    return {(c.table, c.row, c.col_index): round(c.source.ocr.conf, 3) for info in ev.tables.values() for c in info.cells
            if c.source is not None and c.source.ocr is not None}


def places(findings, rule: str | None = None, errors_only: bool = False):
    out = []
    for f in findings:
        if rule is not None and f.rule != rule or rule is None and f.rule == "file.ocr_uncertain":
            continue
        if errors_only and str(f.severity) != "error":
            continue
        for loc in f.location.places or (f.location,):
            out.append((f.rule, loc.table or f.location.table, loc.row or f.location.row, loc.column or f.location.column))
    return out


def measure(scan: Path, want: dict, want_verdict: str, columns: dict) -> dict:
    t0 = time.monotonic()
    res = check_file(scan, year=YEAR, county=COUNTY)
    seconds = time.monotonic() - t0
    stats = isolated.last_read()
    got = cells_of(res)
    conf = _confidences(res)
    flagged = {(t, r, c) for _, t, r, c in places(res.findings, "file.ocr_uncertain")}
    other = places(res.findings, None, errors_only=True)
    wrong = flagged_wrong = caught = silent = false_flags = 0
    silent_cells = []
    wrong_conf: list = []
    false_conf: list = []
    for key, value in want.items():
        table, row, idx = key
        col = columns.get(key)
        ok = got.get(key, "missing") == value
        is_flagged = (table, row, col) in flagged
        if ok:
            false_flags += is_flagged
            if is_flagged:
                false_conf.append(conf.get(key))
            continue
        wrong += 1
        wrong_conf.append(conf.get(key))
        if is_flagged:
            flagged_wrong += 1
        elif any(t == table and (r is None or r == row or c == col) and (r is not None or c is not None or True)
                 for _, t, r, c in other if t == table):
            caught += 1
        else:
            silent += 1
            silent_cells.append(f"{table}/{row}/{col}: {got.get(key, 'missing')} for {value}")
    return {"cells": len(want), "wrong": wrong, "flagged": flagged_wrong, "caught": caught, "silent": silent,
            "false_flags": false_flags, "verdict_equal": res.verdict == want_verdict, "seconds": seconds,
            "peak_mib": (stats.peak_rss_kb or 0) / 1024 if stats else None, "silent_cells": silent_cells,
            "wrong_conf": wrong_conf, "false_conf": false_conf,
            "unread": res.findings[0].rule if res.parsed is None and res.findings else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=2)
    ap.add_argument("--dpi", type=int, nargs="+", default=[150, 200, 300])
    ap.add_argument("--degrade", nargs="+", default=list(DEGRADATIONS), choices=DEGRADATIONS)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", type=Path, help="keep the scans in this folder")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="nianbao-ocr-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        docs = write_all(specs(args.reports, args.seed), work, formats=("docx", "pdf"))
        base = {}
        for name, paths in docs.items():
            res = check_file(paths["docx"], year=YEAR, county=COUNTY)
            cols = {(c.table, c.row, c.col_index): c.column for info in res.parsed.evidence.tables.values()
                    for c in info.cells}
            base[name] = (cells_of(res), res.verdict, cols)
        for dpi in args.dpi:
            pages = {name: render(paths["pdf"], dpi) for name, paths in docs.items()}
            for degradation in args.degrade:
                agg: dict = defaultdict(float)
                agg_silent: list[str] = []
                wrong_conf: list = []
                false_conf: list = []
                peak = 0.0
                n_pages = 0
                unread = []
                for k, name in enumerate(docs):
                    rng = random.Random(f"{args.seed}-{dpi}-{degradation}-{k}")
                    degraded = [apply(degradation, p, i + 1, rng, dpi) for i, p in enumerate(pages[name])]
                    scan = write_scan(degraded, dpi, degradation, work / f"{name}-{dpi}-{degradation}")
                    want, verdict, cols = base[name]
                    m = measure(scan, want, verdict, cols)
                    for key in ("cells", "wrong", "flagged", "caught", "silent", "false_flags", "seconds"):
                        agg[key] += m[key]
                    agg["verdicts_equal"] += m["verdict_equal"]
                    agg_silent += [f"{name}: {s}" for s in m["silent_cells"]]
                    wrong_conf += m["wrong_conf"]
                    false_conf += m["false_conf"]
                    peak = max(peak, m["peak_mib"] or 0)
                    n_pages += len(degraded)
                    if m["unread"]:
                        unread.append(m["unread"])
                row = {"dpi": dpi, "degradation": degradation, "reports": len(docs), "pages": n_pages,
                       "cells": int(agg["cells"]), "wrong": int(agg["wrong"]),
                       "accuracy": 1 - agg["wrong"] / agg["cells"] if agg["cells"] else 0.0,
                       "flagged": int(agg["flagged"]), "caught": int(agg["caught"]), "silent": int(agg["silent"]),
                       "false_flags": int(agg["false_flags"]), "verdicts_equal": int(agg["verdicts_equal"]),
                       "s_per_page": agg["seconds"] / n_pages if n_pages else 0.0, "peak_mib": round(peak),
                       "silent_cells": agg_silent[:10], "unread": unread,
                       "wrong_conf": sorted(wrong_conf, key=lambda x: -1 if x is None else x),
                       "false_flag_conf": sorted(x for x in false_conf if x is not None)}
                rows.append(row)
                if not args.json:
                    print(f"{dpi:>4} dpi {degradation:<6} cells {row['cells']:>4}  accuracy {row['accuracy']:.2%}  "
                          f"wrong {row['wrong']:>3} (flagged {row['flagged']}, caught {row['caught']}, silent {row['silent']})  "
                          f"false flags {row['false_flags']:>3}  verdicts {row['verdicts_equal']}/{row['reports']}  "
                          f"{row['s_per_page']:.1f} s/page  {row['peak_mib']} MiB" + (f"  unread {unread}" if unread else ""),
                          flush=True)
                    if row["wrong_conf"] or row["false_flag_conf"]:
                        print(f"        confidence of the wrong cells {row['wrong_conf']}, of the false flags "
                              f"{row['false_flag_conf']}")
                    for s in row["silent_cells"]:
                        print(f"        silent: {s}")
    total_cells = sum(r["cells"] for r in rows)
    summary = {"cells": total_cells, "accuracy": 1 - sum(r["wrong"] for r in rows) / total_cells if total_cells else 0.0,
               "silent": sum(r["silent"] for r in rows), "target_accuracy": TARGET_ACCURACY,
               "accuracy_met": all(r["accuracy"] >= TARGET_ACCURACY for r in rows),
               "silent_met": all(r["silent"] == 0 for r in rows)}
    if args.json:
        json.dump({"rows": rows, "summary": summary}, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        print(f"all: {summary['cells']} cells, accuracy {summary['accuracy']:.2%} (target ≥ {TARGET_ACCURACY:.1%} in "
              f"every row: {'met' if summary['accuracy_met'] else 'missed'}), silent {summary['silent']} "
              f"(target 0: {'met' if summary['silent_met'] else 'missed'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
