"""Time and peak memory of the worst hostile case of each kind (issue 10).

    python -m benchmarks.hostile [--json]

Each case runs in a fresh process (its own peak RSS is its peak, whatever ran before), against
the floor measured in the same run: a good report checked the same way. The reader cases give
also the read child's peak (`nianbao.readers.isolated.last_read`). The hostile files are built
by the test modules' builders (tests/test_hostile_*.py), in a temporary folder. This prints
figures; the tests are the gate.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _reader_case(path: str) -> dict:
    from nianbao.check import check_file
    from nianbao.readers import isolated

    t0 = time.perf_counter()
    result = check_file(Path(path), year=2024)
    seconds = time.perf_counter() - t0
    stats = isolated.last_read()
    return {"seconds": seconds, "rules": sorted({f.rule for f in result.errors})[:3],
            "child_peak_mb": round(stats.peak_rss_kb / 1024, 1) if stats and stats.peak_rss_kb else None}


def _roster_case(path: str) -> dict:
    from nianbao.bodies import RosterError, load_roster

    t0 = time.perf_counter()
    try:
        load_roster(path)
        outcome = "loaded"
    except RosterError as exc:
        outcome = f"refused: {str(exc)[:40]}"
    return {"seconds": time.perf_counter() - t0, "rules": [outcome]}


def _intake_case(data: str) -> dict:
    from nianbao.settings import get_settings
    from service import inbox
    from service.env import env

    os.environ["NIANBAO_DATA_DIR"] = data
    get_settings.cache_clear()
    t0 = time.perf_counter()
    e = env()
    taken, aside = 0, []
    with inbox.intake_lock(e):
        scan = inbox.scan(e, "julu", 2024)
        aside += scan.aside
        for item in scan.files:
            done = inbox.take(e, item, "julu", 2024, datetime(2025, 1, 15, tzinfo=UTC))
            if isinstance(done, inbox.Aside):
                aside.append(done)
            elif done is not None:
                taken += 1
    return {"seconds": time.perf_counter() - t0,
            "rules": [f"taken {taken}", f"set aside {sum(1 for a in aside if not a.deferred)}",
                      f"waiting {sum(1 for a in aside if a.deferred)}"]}


CASES = {"reader": _reader_case, "roster": _roster_case, "intake": _intake_case}


def _one(kind: str, arg: str, env: dict[str, str] | None = None) -> dict:
    """Run one case in a fresh process: its figures and its own peak RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.hostile", "--case", kind, arg], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
    out = proc.stdout.read() if proc.stdout else b""
    status = proc.wait()
    figures = json.loads(out or b"{}") if status == 0 else {"rules": ["crashed"], "process_peak_mb": float("nan")}
    figures["process_seconds"] = time.perf_counter() - t0
    return figures


def _inbox(root: Path, good_docx: Path, hostile: bool) -> Path:
    """A data folder with 巨鹿县's roster and 2024 cycle, and an inbox: five good reports, and with
    `hostile` every careless or malicious entry of the issue beside them."""
    import shutil

    from db import migrate, repo
    from db.session import make_engine, session_factory, session_scope
    from nianbao.bodies import load_roster
    from service.inbox import ensure_inbox

    data = root / ("hostile" if hostile else "floor")
    url = f"sqlite:///{data / 'nianbao.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with session_scope(session_factory(engine)) as s:
        repo.import_roster(s, load_roster(ROOT / "examples" / "julu-roster.yaml"), "bench")
        from datetime import date

        repo.open_cycle(s, repo.county(s), 2024, date(2025, 1, 31), [14, 7, 3, 1, 0], "bench")
    engine.dispose()
    box = ensure_inbox(data, ["guanting"])
    from nianbao.corpus import good_report
    from nianbao.generate import write_docx

    for i in range(5):
        write_docx(good_report(9 * i).spec, box / "guanting" / f"good{i}.docx")
    if hostile:
        shutil.copy(good_docx, os.fsencode(box / "guanting") + b"/" + "官亭镇年报.docx".encode("gbk"))
        long = "长" * 83 + ".docx"
        shutil.copy(good_docx, box / "guanting" / long)
        (box / "environ.docx").symlink_to("/proc/self/environ")
        os.mkfifo(box / "pipe.docx")
        with (box / "guanting" / "huge.pdf").open("wb") as fh:  # over the 30 MB limit
            fh.write(b"%PDF-1.4\n")
            fh.truncate(100 * 1024 * 1024)
    return data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", nargs=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.case:
        kind, arg = args.case
        figures = CASES[kind](arg)
        # VmHWM, not ru_maxrss: Linux carries the forking process's peak across exec into ru_maxrss
        hwm = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("VmHWM:"))
        figures["process_peak_mb"] = round(int(hwm.split()[1]) / 1024, 1)
        sys.stdout.write(json.dumps(figures))
        return
    from nianbao.generate import ReportSpec, write_docx
    from tests.test_hostile_readers import docx_huge_xml, docx_many_rels, pdf_bomb
    from tests.test_hostile_roster import billion_laughs

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        good = write_docx(ReportSpec(), d / "good.docx")
        fifo = d / "fifo.docx"
        os.mkfifo(fifo)
        (d / "laughs.yaml").write_text(billion_laughs(), encoding="utf-8")
        reader_cases = [("floor: a good .docx checked", good),
                        ("PDF whose page inflates to 1 GB", pdf_bomb(d / "bomb.pdf")),
                        (".docx with 80,000 relationships", docx_many_rels(good, d / "rels.docx")),
                        (".docx holding 190 MB of XML", docx_huge_xml(good, d / "huge.docx")),
                        ("FIFO given to nianbao check", fifo)]
        for name, path in reader_cases:
            rows.append((name, _one("reader", str(path))))
        rows.append(("YAML roster, billion laughs", _one("roster", str(d / "laughs.yaml"))))
        rows.append(("floor: inbox of 5 good reports", _one("intake", str(_inbox(d, good, False)))))
        rows.append(("inbox: the 5 + GBK name, 254-byte name, link to /proc/self/environ, FIFO, 100 MB file",
                     _one("intake", str(_inbox(d, good, True)))))
    floor_read = rows[0][1]["process_seconds"]
    floor_inbox = rows[6][1]["process_seconds"]
    if args.json:
        sys.stdout.write(json.dumps([{"case": n, **f} for n, f in rows], ensure_ascii=False, indent=2) + "\n")
        return
    print(f"{'case':<92} {'process s':>9} {'× floor':>8} {'peak MB':>8} {'child MB':>8}  outcome")
    for i, (name, f) in enumerate(rows):
        floor = floor_inbox if i >= 6 else floor_read
        child = f.get("child_peak_mb")
        print(f"{name:<92} {f['process_seconds']:>9.2f} {f['process_seconds'] / floor:>8.2f} "
              f"{f['process_peak_mb']:>8.1f} {child if child is not None else '—':>8}  {', '.join(f.get('rules', []))}")
    print(f"(self peak of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
