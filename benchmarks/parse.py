"""Parse + check speed per input format, against a "floor" measured in the same run.

    python -m benchmarks.parse [--repeat N] [--docs N] [--json]

For each format (txt, docx, pdf, doc) it times `nianbao.check.check_file` (read → normalise → every
rule) on generated reports, and on the same files a floor: the least any reader of that format
must do.

- txt:  read bytes, decode UTF-8, splitlines
- docx: python-docx `Document(path)`, every cell of every table row, every paragraph's text
- pdf:  `pdfplumber.open(path)`, `page.extract_text()` for every page
- doc:  LibreOffice's conversion to .docx (one `soffice` call, as the reader makes), then the
        docx floor on its output

The targets: parse+check ≤ 1.5 × floor for docx, and < 1.0 × for pdf (faster than pdfplumber's
text extraction alone: the pdfium fast path). For txt the floor only decodes bytes, and for doc
it is the conversion that dominates both sides, so their ratios are printed for information
with no target (the absolute ms/doc is the figure to watch). This prints figures; it does not gate: the exit
status is 0 whatever the ratios are. The real documents in ../shared (the Huai'an PDF, the
2021 template .docx, the seed .txt files) are reported as separate rows when present.

Each figure is the mean over documents of the per-document median over --repeat runs, after
one warm-up call of each function per row. "rules ms/doc" is `check_parsed` on an already
parsed report: the part of parse+check that is the rules. Peak memory is tracemalloc's peak
for one call on the row's largest file: Python allocations only (libxml2's and other C-level
memory are not seen).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nianbao.check import check_file, check_parsed, parse_file
from nianbao.generate import ReportSpec, balanced_table3, balanced_table4, write_all
from nianbao.libreoffice import ConversionError, soffice

YEAR = 2024
COUNTY = "巨鹿县"
TARGET = 1.5  # docx's (kept in the JSON for its readers)
TARGETS = {"docx": 1.5, "pdf": 1.0}  # pdf: strictly below
FORMATS = ("txt", "docx", "pdf", "doc")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# (table 三 scale, table 四 scale): from a quiet township to a busy department
SCALES = ((5, 1), (20, 3), (50, 3), (200, 5), (1000, 10), (5000, 30))


# ---- floors -----------------------------------------------------------------------------------


def floor_txt(path: Path) -> None:
    path.read_bytes().decode("utf-8").splitlines()


def floor_docx(path: Path) -> None:
    import docx

    doc = docx.Document(str(path))
    for t in doc.tables:
        for r in t.rows:
            for c in r.cells:
                c.text  # noqa: B018 - the access is the work being measured
    for p in doc.paragraphs:
        p.text  # noqa: B018


def floor_pdf(path: Path) -> None:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            page.extract_text()


def floor_doc(path: Path) -> None:
    from nianbao.libreoffice import convert

    with tempfile.TemporaryDirectory(prefix="nianbao-floor-") as tmp:
        (out,) = convert([path], "docx", Path(tmp))
        floor_docx(out)


FLOORS: dict[str, Callable[[Path], None]] = {"txt": floor_txt, "docx": floor_docx, "pdf": floor_pdf, "doc": floor_doc}


def parse_and_check(path: Path):
    return check_file(path, year=YEAR, county=COUNTY)


# ---- documents --------------------------------------------------------------------------------


def specs(n: int, seed: int) -> dict[str, ReportSpec]:
    out: dict[str, ReportSpec] = {}
    for i in range(n):
        rng = random.Random(seed + i)
        s3, s4 = SCALES[i % len(SCALES)]
        out[f"gen{i:02d}"] = ReportSpec(year=YEAR, county=COUNTY, table3=balanced_table3(rng, s3),
                                        table4=balanced_table4(rng, s4))
    return out


def real_documents() -> list[tuple[str, str, list[Path]]]:
    """(format, label, paths) for the real documents in ../shared that exist."""
    groups = [
        ("txt", "seeds", sorted((SHARED / "seeds").glob("*.txt"))),
        ("docx", "template-2021", [SHARED / "samples" / "template-2021.docx"]),
        ("pdf", "huaian-2024", [SHARED / "samples" / "huaian-2024.pdf"]),
    ]
    return [(fmt, label, [p for p in paths if p.is_file()]) for fmt, label, paths in groups
            if any(p.is_file() for p in paths)]



# ---- measuring --------------------------------------------------------------------------------


@dataclass
class Row:
    format: str
    label: str
    docs: int
    floor_ms: float
    parse_check_ms: float
    rules_ms: float
    ratio: float
    meets_target: bool | None  # None: no target for this format (txt)
    peak_mib: float
    floor_peak_mib: float
    verdicts: dict[str, int] = field(default_factory=dict)


def _peak_mib(fn: Callable[[Path], object], path: Path) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1048576


def measure(fmt: str, label: str, paths: list[Path], repeat: int, notes: list[str]) -> Row:
    floor = FLOORS[fmt]
    # warm-up: imports, lazily built tables, the settings cache
    floor(paths[0])
    parse_and_check(paths[0])

    floor_t: dict[Path, list[float]] = {p: [] for p in paths}
    check_t: dict[Path, list[float]] = {p: [] for p in paths}
    gc.collect()
    for rep in range(repeat):
        for p in paths:
            # alternate which goes first so neither always runs on the other's warm caches
            order = ((floor, floor_t), (parse_and_check, check_t))
            for fn, store in order if rep % 2 == 0 else reversed(order):
                t0 = time.perf_counter()
                fn(p)
                store[p].append(time.perf_counter() - t0)

    verdicts: Counter[str] = Counter()
    rules_t: list[float] = []
    for p in paths:
        result = parse_and_check(p)
        verdicts[result.verdict] += 1
        bad = [f.rule for f in result.findings if f.rule.startswith("file.")]
        if bad:
            notes.append(f"{fmt} ({label}) {p.name}: not read ({', '.join(bad)}); its timing is not a parse")
            continue
        parsed = parse_file(p)
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            check_parsed(parsed, year=YEAR, county=COUNTY)
            samples.append(time.perf_counter() - t0)
        rules_t.append(statistics.median(samples))

    floor_ms = statistics.fmean(statistics.median(v) for v in floor_t.values()) * 1000
    check_ms = statistics.fmean(statistics.median(v) for v in check_t.values()) * 1000
    rules_ms = statistics.fmean(rules_t) * 1000 if rules_t else float("nan")
    biggest = max(paths, key=lambda p: p.stat().st_size)
    ratio = check_ms / floor_ms if floor_ms else float("inf")
    return Row(fmt, label, len(paths), round(floor_ms, 3), round(check_ms, 3), round(rules_ms, 3),
               round(ratio, 3), _meets(fmt, ratio), round(_peak_mib(parse_and_check, biggest), 2),
               round(_peak_mib(floor, biggest), 2), dict(verdicts))


def _meets(fmt: str, ratio: float) -> bool | None:
    if fmt not in TARGETS:
        return None
    return ratio < TARGETS[fmt] if fmt == "pdf" else ratio <= TARGETS[fmt]


# ---- output -----------------------------------------------------------------------------------

HEADER = ("format", "docs", "floor ms/doc", "parse+check ms/doc", "rules ms/doc", "ratio",
          "target", "peak MiB", "floor peak MiB")


def _cells(r: Row) -> tuple[str, ...]:
    name = r.format if r.label == "generated" else f"{r.format} (real: {r.label})"
    return (name, str(r.docs), f"{r.floor_ms:.2f}", f"{r.parse_check_ms:.2f}", f"{r.rules_ms:.2f}",
            f"{r.ratio:.2f}×", _target_cell(r), f"{r.peak_mib:.2f}", f"{r.floor_peak_mib:.2f}")


def _target_cell(r: Row) -> str:
    if r.meets_target is None:
        return "n/a"
    bound = f"{'<' if r.format == 'pdf' else '≤'}{TARGETS[r.format]}×"
    return f"{bound} {'yes' if r.meets_target else 'NO'}"


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)  # CJK is two columns wide


def table(rows: list[Row]) -> str:
    body = [HEADER, *(_cells(r) for r in rows)]
    widths = [max(_width(line[i]) for line in body) for i in range(len(HEADER))]

    def fmt(line: tuple[str, ...]) -> str:
        out = []
        for i, (cell, w) in enumerate(zip(line, widths, strict=True)):
            pad = " " * (w - _width(cell))
            out.append(cell + pad if i == 0 else pad + cell)
        return "  ".join(out).rstrip()

    return "\n".join(fmt(line) for line in body)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.parse", description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per document (median taken); default 5")
    ap.add_argument("--docs", type=int, default=12, help="generated documents per format; default 12")
    ap.add_argument("--seed", type=int, default=2024, help="first random seed; default 2024")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    repeat, n_docs = max(1, args.repeat), max(1, args.docs)

    started = time.perf_counter()
    notes: list[str] = []
    rows: list[Row] = []
    formats = list(FORMATS)
    if soffice() is None:
        formats.remove("pdf")
        formats.remove("doc")
        notes.append("pdf and doc skipped: LibreOffice (soffice) not found, so none can be generated")

    with tempfile.TemporaryDirectory(prefix="nianbao-bench-") as tmp:
        t0 = time.perf_counter()
        try:
            written = write_all(specs(n_docs, args.seed), tmp, formats=tuple(formats))
        except ConversionError as exc:
            notes.append(f"pdf and doc skipped: LibreOffice failed ({exc})")
            formats.remove("pdf")
            formats.remove("doc")
            written = write_all(specs(n_docs, args.seed), tmp, formats=tuple(formats))
        if "doc" in formats:
            from nianbao.libreoffice import convert

            names = list(written)
            docs = convert([written[n]["docx"] for n in names], "doc:MS Word 97", Path(tmp) / "doc")
            for name, doc in zip(names, docs, strict=True):
                written[name]["doc"] = doc
        generate_s = time.perf_counter() - t0

        for fmt in formats:
            paths = [d[fmt] for d in written.values()]
            rows.append(measure(fmt, "generated", paths, repeat, notes))
        if SHARED.is_dir():
            for fmt, label, paths in real_documents():
                rows.append(measure(fmt, label, paths, repeat, notes))
        else:
            notes.append(f"real documents skipped: {SHARED} not found")

    total_s = time.perf_counter() - started
    if args.json:
        print(json.dumps({"target_ratio": TARGET, "targets": TARGETS, "repeat": repeat, "generated_docs": n_docs, "seed": args.seed,
                          "rows": [asdict(r) for r in rows], "notes": notes,
                          "generate_s": round(generate_s, 2), "total_s": round(total_s, 2)},
                         ensure_ascii=False, indent=2))
    else:
        print(table(rows))
        print()
        print(f"ms/doc: mean over documents of the median of {repeat} runs; targets: docx ≤ 1.5× its floor, "
              "pdf < 1.0× (faster than pdfplumber's text alone).")
        print("peak MiB: tracemalloc peak (Python allocations only) for one call on the row's largest file.")
        for note in notes:
            print(f"note: {note}")
        print(f"generated {n_docs} documents in {generate_s:.1f} s; whole run {total_s:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
