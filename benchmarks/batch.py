"""A batch of generated reports in mixed formats checked on every core: reports per second and
peak memory, whole process tree (issue 12, benchmark 3).

    python -m benchmarks.batch [--reports N] [--jobs J] [--json] [--profile K]

Target: 20,000 reports in ≤ 600 s and ≤ 1 GiB of memory in all, on the 2-core machine.

The reports: a pool of distinct base reports (--pool specs, each written as .txt, .docx and .pdf
by `nianbao.generate`, texts worded differently per spec, over six scales from a quiet township to
a busy department, one in five flawed: a wrong total, a missing section, last year's report, the
2019 template), plus a few .doc bases (LibreOffice from the .docx). The N files are hard links
(copies where links fail) of the pool's files under distinct names, formats in turn: txt, docx,
pdf, with one .doc in every --doc-every files. LibreOffice costs ~1.2 s a call, so writing
20,000 distinct PDFs would take hours; a link is a distinct path that the check opens, reads and
parses like any other (the bytes come from the page cache, as they would for a batch just
received). Generation runs in a child process, is timed apart and is not counted.

What is measured: one call `nianbao.check.check_files(paths, jobs=J, light=True, …)` (its
process pool's start included), wall time; reports per second; the files per format and the
verdicts; whether every copy got its base's verdict. Memory: a thread samples the whole process
tree every --sample seconds (psutil): this process, the pool's workers, each worker's reader
fork server and its short-lived read children (nianbao/readers/isolated.py), LibreOffice for a
.doc. "tree peak RSS" is the largest sum of RSS over one sample (counts pages shared by a
fork server and its children once per process, so an upper bound); "tree peak PSS" the same with
proportional set sizes (shared pages split). Per process the peak is the kernel's high-water mark
(VmHWM) for the long-lived ones and the largest sample for the read children (most live < 0.2 s,
so theirs is a floor). The parent's peak is its VmHWM; it holds every (light) Result check_files returns.

--profile K: afterwards, cProfile of a sequential run (jobs=1, reads in this process, not
isolated, so the readers show) of K of the files, top functions by own time. This prints
figures; it does not gate: the exit status is 0 whatever they are.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.readers.isolated import peak_kb

YEAR = 2024
COUNTY = "巨鹿县"
TARGET_S = 600.0
TARGET_MIB = 1024.0
SCALES = ((5, 1), (20, 3), (50, 3), (200, 5), (1000, 10), (5000, 30))
BODIES = ("巨鹿县官亭镇人民政府", "巨鹿县王虎寨镇人民政府", "巨鹿县教育局", "巨鹿县自然资源和规划局",
          "巨鹿县西郭城镇人民政府", "巨鹿县卫生健康局", "巨鹿县堤村乡人民政府", "巨鹿县人民政府办公室")
FLAWS = ("wrong_total", "missing_section", "last_year", "template_2019")
MIB = 1048576


# ---- generation (in a child process) -----------------------------------------------------------


def _spec(i: int, seed: int):
    import random

    from nianbao.generate import ReportSpec, balanced_table3, balanced_table4
    from nianbao.template import T3_TOTAL

    rng = random.Random(seed + i)
    s3, s4 = SCALES[i % len(SCALES)]
    spec = ReportSpec(body=BODIES[i % len(BODIES)], year=YEAR, county=COUNTY, table3=balanced_table3(rng, s3),
                      table4=balanced_table4(rng, s4), variety=seed + i)
    if i % 5 != 4:
        return spec, None
    flaw = FLAWS[(i // 5) % len(FLAWS)]
    if flaw == "wrong_total":
        spec.table3["total"][T3_TOTAL] += 1
    elif flaw == "missing_section":
        spec.headings = {"5": None}
        spec.sections = {"5": []}
    elif flaw == "last_year":
        spec.year = YEAR - 1
    else:
        spec.template = "2019"
    return spec, flaw


def generate_pool(outdir: str, pool: int, docs: int, seed: int) -> dict[str, Any]:
    """The pool's files: {"files": {format: [path, …]}, "flawed": count, "notes": [...]}."""
    from nianbao.generate import write_all
    from nianbao.libreoffice import ConversionError, convert, soffice

    notes: list[str] = []
    specs, flawed = {}, 0
    for i in range(pool):
        spec, flaw = _spec(i, seed)
        specs[f"base{i:04d}"] = spec
        flawed += flaw is not None
    formats: tuple[str, ...] = ("txt", "docx", "pdf")
    if soffice() is None:
        formats = ("txt", "docx")
        notes.append("pdf and doc skipped: LibreOffice (soffice) not found")
    try:
        written = write_all(specs, outdir, formats=formats)
    except ConversionError as exc:
        notes.append(f"pdf and doc skipped: LibreOffice failed ({exc})")
        formats = ("txt", "docx")
        written = write_all(specs, outdir, formats=formats)
    files: dict[str, list[str]] = {fmt: [str(d[fmt]) for d in written.values()] for fmt in formats}
    if "pdf" in formats and docs:
        try:
            made = convert([written[n]["docx"] for n in list(specs)[:docs]], "doc:MS Word 97", Path(outdir) / "doc")
            files["doc"] = [str(p) for p in made]
        except ConversionError as exc:
            notes.append(f"doc skipped: LibreOffice failed ({exc})")
    return {"files": files, "flawed": flawed, "notes": notes}


def lay_out(pool_files: dict[str, list[str]], n: int, doc_every: int, outdir: Path) -> tuple[list[Path], list[str]]:
    """n distinct paths, formats in turn; returns (paths, the base each one is a link of)."""
    cycle = [f for f in ("txt", "docx", "pdf") if f in pool_files]
    taken: Counter[str] = Counter()
    paths: list[Path] = []
    bases: list[str] = []
    linked = True
    for i in range(n):
        fmt = "doc" if "doc" in pool_files and doc_every and i % doc_every == doc_every - 1 else cycle[i % len(cycle)]
        choices = pool_files[fmt]
        base = choices[taken[fmt] % len(choices)]
        taken[fmt] += 1
        sub = outdir / f"{i // 1000:03d}"  # a thousand files a folder
        sub.mkdir(exist_ok=True)
        dest = sub / f"r{i:06d}-{Path(base).stem}.{fmt}"
        if linked:
            try:
                os.link(base, dest)
            except OSError:
                linked = False
        if not linked:
            shutil.copyfile(base, dest)
        paths.append(dest)
        bases.append(base)
    return paths, bases


# ---- memory sampling -----------------------------------------------------------------------------


@dataclass
class Proc:
    pid: int
    role: str
    ppid: int
    peak_kb: int = 0  # VmHWM, or the largest sample where the process went before it was read


@dataclass
class Sampler:
    interval: float
    procs: dict[int, Proc] = field(default_factory=dict)
    tree_rss_peak: int = 0
    tree_pss_peak: int = 0
    role_peak: Counter[str] = field(default_factory=Counter)  # the largest sum per role over one sample
    most_alive: int = 0
    samples: int = 0
    pss_ok: bool = True

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def start(self) -> None:
        self.sample()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _role(self, p, ppid: int) -> str:
        try:
            cmd = " ".join(p.cmdline())
            name = p.name()
        except Exception:  # noqa: BLE001 - gone already
            cmd, name = "", ""
        parent = self.procs.get(ppid)
        if parent and parent.role in ("reader helper",):
            return "read child"
        if "soffice" in name or "oosplash" in name or "soffice" in cmd:
            return "libreoffice"
        if parent and parent.role in ("read child", "libreoffice"):
            return "libreoffice"
        if "nianbao.readers.isolated" in cmd:
            return "reader helper"
        if "resource_tracker" in cmd:
            return "resource tracker"
        if "spawn_main" in cmd:
            return "worker"
        return "other"

    def sample(self) -> None:
        import psutil

        me = psutil.Process()
        try:
            kids = me.children(recursive=True)
        except psutil.Error:
            return
        total_rss = total_pss = 0
        by_role: Counter[str] = Counter()
        alive = 0
        for p in [me, *kids]:
            try:
                rss = p.memory_info().rss
                ppid = p.ppid()
            except psutil.Error:
                continue
            proc = self.procs.get(p.pid)
            if proc is None:
                proc = self.procs[p.pid] = Proc(p.pid, "parent" if p.pid == me.pid else self._role(p, ppid), ppid)
            hwm = peak_kb(p.pid)
            proc.peak_kb = max(proc.peak_kb, hwm or 0, rss // 1024)
            if self.pss_ok:
                try:
                    total_pss += p.memory_full_info().pss
                except psutil.AccessDenied:
                    self.pss_ok = False
                except psutil.Error:
                    total_pss += rss  # gone while read: its RSS stands in
            total_rss += rss
            by_role[proc.role] += rss
            alive += 1
        self.samples += 1
        self.most_alive = max(self.most_alive, alive)
        self.tree_rss_peak = max(self.tree_rss_peak, total_rss)
        self.tree_pss_peak = max(self.tree_pss_peak, total_pss)
        for role, v in by_role.items():
            self.role_peak[role] = max(self.role_peak[role], v)


# ---- profile ------------------------------------------------------------------------------------


def profile(paths: list[Path], top: int = 25) -> dict[str, Any]:
    """cProfile of a sequential check of these files, reads in this process."""
    from nianbao.check import check_files
    from nianbao.settings import get_settings

    settings = get_settings().model_copy(update={"isolate_reads": False})
    check_files(paths[:3], jobs=1, year=YEAR, county=COUNTY, settings=settings)  # imports, caches
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    check_files(paths, jobs=1, year=YEAR, county=COUNTY, settings=settings)
    prof.disable()
    seconds = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    rows = []
    for (file, line, fn), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{_short(file)}:{line}({fn})", "calls": nc, "own_s": round(tt, 3), "cum_s": round(ct, 3)})
    by_own = sorted(rows, key=lambda r: -r["own_s"])[:top]
    by_cum = sorted((r for r in rows if "benchmarks" not in r["function"]), key=lambda r: -r["cum_s"])[:top]
    per_format: dict[str, float] = {}
    for fmt in sorted({p.suffix for p in paths}):
        some = [p for p in paths if p.suffix == fmt][:20]
        t = time.perf_counter()
        check_files(some, jobs=1, year=YEAR, county=COUNTY, settings=settings)
        per_format[fmt.lstrip(".")] = round((time.perf_counter() - t) / len(some) * 1000, 1)
    isolated_ms: dict[str, float] = {}
    for fmt in sorted({p.suffix for p in paths}):
        some = [p for p in paths if p.suffix == fmt][:20]
        check_files(some[:1], jobs=1, year=YEAR, county=COUNTY)  # the fork server's start
        t = time.perf_counter()
        check_files(some, jobs=1, year=YEAR, county=COUNTY)
        isolated_ms[fmt.lstrip(".")] = round((time.perf_counter() - t) / len(some) * 1000, 1)
    return {"files": len(paths), "seconds": round(seconds, 2), "by_own_time": by_own, "by_cumulative": by_cum,
            "ms_per_file_in_process": per_format, "ms_per_file_isolated": isolated_ms}


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


# ---- the run --------------------------------------------------------------------------------------


def run(n: int, jobs: int, pool: int, doc_every: int, seed: int, interval: float, profile_n: int) -> dict[str, Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from nianbao.check import check_files, default_jobs

    jobs = jobs or default_jobs()
    pool = max(1, min(pool, -(-n // 3)))  # no more bases than a third of the files: each is written in three formats
    n_doc_files = n // doc_every if doc_every else 0
    with tempfile.TemporaryDirectory(prefix="nianbao-batch-") as tmp:
        base_dir, batch_dir = Path(tmp) / "pool", Path(tmp) / "batch"
        base_dir.mkdir()
        batch_dir.mkdir()
        t0 = time.perf_counter()
        # in a child: what writing the documents costs in memory is not this process's peak
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
            made = ex.submit(generate_pool, str(base_dir), pool, min(n_doc_files, 10), seed).result()
        paths, bases = lay_out(made["files"], n, doc_every, batch_dir)
        generate_s = time.perf_counter() - t0

        sampler = Sampler(interval)
        sampler.start()
        # VmHWM, not getrusage: Linux carries ru_maxrss over an exec, so a run started from a big
        # process (pytest) would report that process's peak as its own
        rss_before = peak_kb(os.getpid()) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        results = check_files(paths, jobs=jobs, year=YEAR, county=COUNTY, light=True)
        check_s = time.perf_counter() - t0
        sampler.stop()

        formats: Counter[str] = Counter(p.suffix.lstrip(".") for p in paths)
        verdicts: Counter[str] = Counter(r.verdict for r in results)
        by_format: dict[str, Counter[str]] = {}
        base_verdict: dict[str, str] = {}
        mismatched = 0
        unread: Counter[str] = Counter()
        for p, b, r in zip(paths, bases, results, strict=True):
            by_format.setdefault(p.suffix.lstrip("."), Counter())[r.verdict] += 1
            if base_verdict.setdefault(b, r.verdict) != r.verdict:
                mismatched += 1
            for f in r.errors:
                if f.rule.startswith("file."):
                    unread[f.rule] += 1
        parent_peak_kb = peak_kb(os.getpid()) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        child_peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        del results
        prof = profile(paths[::max(1, len(paths) // profile_n)][:profile_n]) if profile_n else None

    procs = list(sampler.procs.values())
    workers = sorted((p for p in procs if p.role == "worker"), key=lambda p: p.pid)
    helpers = [p for p in procs if p.role == "reader helper"]
    children = [p for p in procs if p.role == "read child"]
    office = [p for p in procs if p.role == "libreoffice"]

    def mib(kb: float) -> float:
        return round(kb / 1024, 1)

    tree_mib = round(sampler.tree_rss_peak / MIB, 1)
    return {
        "reports": n, "jobs": jobs, "pool_specs": pool, "pool_flawed": made["flawed"],
        "pool_files": {k: len(v) for k, v in made["files"].items()}, "seed": seed,
        "generate_s": round(generate_s, 1), "check_s": round(check_s, 2),
        "reports_per_s": round(n / check_s, 2) if check_s else None,
        "ms_per_report_per_core": round(check_s * jobs / n * 1000, 1),
        "formats": dict(formats), "verdicts": dict(verdicts),
        "verdicts_by_format": {k: dict(v) for k, v in sorted(by_format.items())},
        "unread": dict(unread), "copies_unlike_their_base": mismatched,
        "memory": {
            "tree_peak_rss_mib": tree_mib,
            "tree_peak_pss_mib": round(sampler.tree_pss_peak / MIB, 1) if sampler.pss_ok else None,
            "parent_peak_mib": mib(parent_peak_kb), "parent_before_check_mib": mib(rss_before),
            "workers_peak_mib": [mib(p.peak_kb) for p in workers],
            "reader_helpers_peak_mib": sorted(mib(p.peak_kb) for p in helpers),
            "read_children_seen": len(children),
            "read_child_largest_sample_mib": mib(max((p.peak_kb for p in children), default=0)),
            "libreoffice_largest_mib": mib(max((p.peak_kb for p in office), default=0)),
            "largest_waited_child_mib": mib(child_peak_kb),
            "peak_by_role_mib": {k: round(v / MIB, 1) for k, v in sorted(sampler.role_peak.items())},
            "most_processes_at_once": sampler.most_alive, "samples": sampler.samples, "interval_s": interval,
        },
        "targets": {"seconds": TARGET_S, "mib": TARGET_MIB, "time_met": check_s <= TARGET_S * n / 20000,
                    "memory_met": tree_mib <= TARGET_MIB, "scaled_to": "the time target scales with --reports (600 s per 20,000)"},
        "notes": made["notes"],
        "profile": prof,
    }


def report(d: dict[str, Any]) -> str:
    m, t = d["memory"], d["targets"]
    time_target = TARGET_S * d["reports"] / 20000
    lines = [
        f"reports checked         {d['reports']:>10,}   ({', '.join(f'{k} {v:,}' for k, v in sorted(d['formats'].items()))})",
        f"jobs                    {d['jobs']:>10}",
        f"check, wall             {d['check_s']:>10.1f} s   target ≤ {time_target:.0f} s: {'yes' if t['time_met'] else 'NO'}",
        f"reports per second      {d['reports_per_s']:>10.1f}",
        f"ms per report per core  {d['ms_per_report_per_core']:>10.1f}",
        f"verdicts                {', '.join(f'{k} {v:,}' for k, v in sorted(d['verdicts'].items()))}",
        *(f"  {fmt:<22}{', '.join(f'{k} {v:,}' for k, v in sorted(v.items()))}" for fmt, v in d["verdicts_by_format"].items()),
        f"copies unlike base      {d['copies_unlike_their_base']:>10}   (a copy's verdict differs from its base's: should be 0)",
        f"unread (file.*)         {sum(d['unread'].values()):>10}   {d['unread'] or ''}",
        "",
        f"tree peak RSS           {m['tree_peak_rss_mib']:>10.1f} MiB   target ≤ {TARGET_MIB:.0f} MiB in all: "
        f"{'yes' if t['memory_met'] else 'NO'}",
        f"tree peak PSS           {m['tree_peak_pss_mib'] if m['tree_peak_pss_mib'] is not None else 'n/a':>10} MiB",
        f"parent peak             {m['parent_peak_mib']:>10.1f} MiB   (before the check: {m['parent_before_check_mib']:.1f};"
        " holds every Result)",
        f"workers' peaks          {', '.join(f'{x:.1f}' for x in m['workers_peak_mib'])} MiB",
        f"reader helpers' peaks   {', '.join(f'{x:.1f}' for x in m['reader_helpers_peak_mib'])} MiB",
        f"read children           {m['read_children_seen']:>10} seen, largest sample {m['read_child_largest_sample_mib']:.1f} MiB",
        f"LibreOffice             {m['libreoffice_largest_mib']:>10.1f} MiB largest",
        f"peak RSS by role        {', '.join(f'{k} {v:.1f}' for k, v in m['peak_by_role_mib'].items())} MiB",
        f"most processes at once  {m['most_processes_at_once']:>10}   ({m['samples']} samples every {m['interval_s']} s)",
        "",
        f"generated a pool of {d['pool_specs']} specs ({d['pool_flawed']} flawed; files "
        f"{', '.join(f'{k} {v}' for k, v in d['pool_files'].items())}) and linked {d['reports']:,} files in "
        f"{d['generate_s']:.1f} s (not counted)",
    ]
    lines += [f"note: {n}" for n in d["notes"]]
    prof = d.get("profile")
    if prof:
        lines += ["", f"profile: {prof['files']} files, sequential, reads in this process: {prof['seconds']} s",
                  f"  ms per file in process: {prof['ms_per_file_in_process']}",
                  f"  ms per file isolated (as the batch reads): {prof['ms_per_file_isolated']}",
                  "  by own time:"]
        lines += [f"    {r['own_s']:>8.3f} s own {r['cum_s']:>8.3f} s cum {r['calls']:>9}  {r['function']}"
                  for r in prof["by_own_time"]]
        lines += ["  by cumulative time:"]
        lines += [f"    {r['cum_s']:>8.3f} s cum {r['own_s']:>8.3f} s own {r['calls']:>9}  {r['function']}"
                  for r in prof["by_cumulative"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.batch", description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports", type=int, default=20000, help="files checked; default 20000")
    ap.add_argument("--jobs", type=int, default=0, help="processes; default every core (nianbao.check.default_jobs)")
    ap.add_argument("--pool", type=int, default=240, help="distinct base specs (each as txt, docx, pdf); default 240")
    ap.add_argument("--doc-every", type=int, default=1000,
                    help="one .doc (LibreOffice at check time, ~1.5 s each) in every this many files; 0: none; default 1000")
    ap.add_argument("--seed", type=int, default=2024, help="first random seed; default 2024")
    ap.add_argument("--sample", type=float, default=0.2, help="seconds between memory samples; default 0.2")
    ap.add_argument("--profile", type=int, default=0, metavar="K",
                    help="afterwards, cProfile a sequential check of K of the files; default 0 (none)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    try:
        import psutil  # noqa: F401
    except ImportError:
        print("psutil is needed to sample the process tree's memory (pip install psutil)", file=sys.stderr)
        return 0
    d = run(max(1, args.reports), max(0, args.jobs), args.pool, max(0, args.doc_every), args.seed,
            max(0.05, args.sample), max(0, args.profile))
    if args.json:
        print(json.dumps(d, ensure_ascii=False, indent=2))
    else:
        print(report(d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
