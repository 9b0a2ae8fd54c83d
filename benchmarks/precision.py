"""Precision of the rules on the corpus of realistic variation (nianbao/corpus.py).

    python -m benchmarks.precision [--good N] [--flawed-each K] [--formats docx,txt,…] [--json]

Over N good generated reports in every format (a tenth of them 2020 reports on the 2019
template), it counts the errors raised — each one a false rejection, target 0 — and how often
each warning rule fires, per 100 good reports; over the flawed ones (every flaw of
`nianbao.corpus.FLAWS`, K times each), the share whose intended finding is raised (recall,
target 100 %), and the findings a flaw does not explain. A warning that fires on most good
reports is noise a clerk learns to skip.

This prints figures; it does not gate (exit status 0 whatever they are). The corpus test
(tests/test_corpus.py) is the gate, on a smaller corpus.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from nianbao.corpus import FORMATS, corpus, judge, write_corpus
from nianbao.rules import RULES


def run(good: int, flawed_each: int, formats: list[str]) -> dict:
    docs = corpus(good, flawed_each)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nianbao-precision-") as tmp:
        written = write_corpus(docs, Path(tmp), formats)
        t_write = time.perf_counter() - started
        rows = []
        for fmt in formats:
            n_good = n_flawed = caught = 0
            false_errors: Counter[str] = Counter()
            warnings: Counter[str] = Counter()
            unexplained: Counter[str] = Counter()
            missed: defaultdict[str, list[str]] = defaultdict(list)
            t0 = time.perf_counter()
            for doc in docs:
                j = judge(doc, fmt, written[(doc.name, fmt)])
                if doc.intended is None:
                    n_good += 1
                    false_errors.update(set(j.errors))
                    warnings.update(set(j.warnings))
                else:
                    n_flawed += 1
                    caught += j.caught
                    if not j.caught:
                        missed[doc.intended].append(doc.name)
                    unexplained.update(set(j.wrong))
            per100 = 100 / max(n_good, 1)
            rows.append({
                "format": fmt, "good": n_good, "flawed": n_flawed,
                "false_errors_per_100": round(sum(false_errors.values()) * per100, 2),
                "false_errors": dict(false_errors),
                "warning_rate_per_100": {r: round(n * per100, 1) for r, n in warnings.most_common()},
                "recall_pct": round(100 * caught / max(n_flawed, 1), 1),
                "missed": dict(missed), "unexplained": dict(unexplained),
                "ms_per_doc": round(1000 * (time.perf_counter() - t0) / len(docs), 1),
            })
    warning_rules = [r for r, rule in RULES.items() if str(rule.severity) == "warning"]
    return {"good": good, "flawed_each": flawed_each, "write_s": round(t_write, 1), "rows": rows,
            "warning_rules": warning_rules}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.precision", description=__doc__.split("\n\n")[0])
    ap.add_argument("--good", type=int, default=300)
    ap.add_argument("--flawed-each", type=int, default=4)
    ap.add_argument("--formats", default=",".join(FORMATS), help=f"of {', '.join(FORMATS)}")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    unknown = set(formats) - set(FORMATS)
    if unknown:
        ap.error(f"unknown formats: {', '.join(sorted(unknown))}")
    data = run(args.good, args.flawed_each, formats)
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print(f"{data['good']} good reports and every flaw ×{data['flawed_each']}, in {len(formats)} formats "
          f"(written in {data['write_s']} s)")
    print(f"{'format':<10}{'good':>6}{'false errors/100':>18}{'flawed':>8}{'recall':>9}{'ms/doc':>9}")
    for r in data["rows"]:
        print(f"{r['format']:<10}{r['good']:>6}{r['false_errors_per_100']:>18}{r['flawed']:>8}"
              f"{r['recall_pct']:>8}%{r['ms_per_doc']:>9}")
    print("\nwarnings on good reports, per 100 (rules not listed fired on none):")
    for r in data["rows"]:
        rates = ", ".join(f"{k} {v}" for k, v in r["warning_rate_per_100"].items()) or "none"
        print(f"  {r['format']:<10}{rates}")
    for r in data["rows"]:
        for what in ("false_errors", "missed", "unexplained"):
            if r[what]:
                print(f"  {r['format']}: {what}: {r[what]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
