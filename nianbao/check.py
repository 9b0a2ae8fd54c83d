"""One submission, end to end: read → normalise → every rule → verdict."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nianbao.bodies import Body, Roster
from nianbao.model import Finding, Location, Report, Severity
from nianbao.normalize import Parsed, normalize
from nianbao.readers import ReadError, read
from nianbao.rules import RULES, Context
from nianbao.rules.registry import listed_message
from nianbao.settings import Settings, get_settings

log = logging.getLogger(__name__)

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass
class Result:
    verdict: str  # "accepted" | "rejected"
    findings: list[Finding]
    parsed: Parsed | None = None
    path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def report(self) -> Report | None:
        return self.parsed.report if self.parsed else None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING]

    def to_json(self) -> dict[str, Any]:
        r = self.report
        return {
            "verdict": self.verdict,
            "body": r.body if r else None,
            "year": r.year if r else None,
            "template": r.template if r else None,
            "findings": [f.to_json() for f in self.findings],
        }


def parse_file(path: str | Path, settings: Settings | None = None) -> Parsed:
    """Read and normalise; raises ReadError for a file we cannot read."""
    settings = settings or get_settings()
    return normalize(read(path, settings.limits()))


def run_rules(ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for r in RULES.values():
        if ctx.parsed is None and r.needs != "file":
            continue
        findings.extend(group_findings(list(r(ctx))))
    findings.sort(key=lambda f: _ORDER[f.severity])  # stable: catalogue order within a severity
    return findings


def group_findings(findings: list[Finding]) -> list[Finding]:
    """One rule's findings at many places of one table become one finding naming them all: every
    法人或其他组织 cell left blank is one thing to fix, not 25 lines to read. The location says what
    the places share and keeps each of them (`Location.places`)."""
    by_table: dict[tuple[str, str, str], list[Finding]] = {}
    for f in findings:
        if f.location.table:
            by_table.setdefault((f.rule, str(f.severity), f.location.table), []).append(f)
    out: list[Finding] = []
    done: set[tuple[str, str, str]] = set()
    for f in findings:
        key = (f.rule, str(f.severity), f.location.table or "")
        if not f.location.table or len(by_table[key]) == 1:
            out.append(f)
        elif key not in done:
            done.add(key)
            out.append(_merged(by_table[key]))
    return out


def _merged(fs: list[Finding]) -> Finding:
    places = tuple(p for f in fs for p in (f.location.places or (f.location,)))

    def common(attr: str) -> Any:
        values = {getattr(p, attr) for p in places}
        return values.pop() if len(values) == 1 else None

    pages = [p.page for p in places if p.page is not None]
    loc = Location(section=common("section"), table=common("table"), row=common("row"), column=common("column"),
                   page=min(pages) if pages else None, places=places)
    rule = RULES[fs[0].rule]
    message = (rule.group_message or listed_message)(fs, loc)
    return Finding(fs[0].rule, fs[0].severity, message, loc,
                   {"count": len(places), "each": [dict(f.values, location=f.location.to_json()) for f in fs]})


def verdict_of(findings: list[Finding]) -> str:
    return "rejected" if any(f.severity == Severity.ERROR for f in findings) else "accepted"


def check_file(path: str | Path, *, year: int | None = None, county: str | None = None,
               roster: Roster | None = None, body: Body | None = None,
               settings: Settings | None = None, history: Any = None) -> Result:
    """Check one file. Never raises for a bad file: that is a file.* finding."""
    settings = settings or get_settings()
    county = county or (roster.county if roster and roster.county else None) or settings.county
    try:
        parsed: Parsed | None = parse_file(path, settings)
        error = None
    except ReadError as exc:
        parsed, error = None, exc
    except Exception as exc:  # a reader's or the normaliser's bug must not become the clerk's traceback
        log.exception("reading %s failed", path)
        parsed = None
        error = ReadError("file.unreadable", "文件结构异常，系统无法读取其内容（已记录，县政务公开办会核查）。"
                          "请用 Word 或 WPS 打开后另存为 .docx 再提交。", internal=type(exc).__name__)
    ctx = Context(parsed, year=year, county=county, roster=roster, body=body, settings=settings,
                  read_error=error, history=history)
    findings = run_rules(ctx)
    return Result(verdict_of(findings), findings, parsed, str(path))


def default_jobs() -> int:
    """The cores this process may use (a container's CPU set, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def check_files(paths: Sequence[str | Path], *, jobs: int | None = None,
                progress: Callable[[int], None] | None = None, **kwargs: Any) -> list[Result]:
    """check_file on each path, on `jobs` processes (default: every core), results in the order
    of `paths` and equal to a sequential run's; `progress(n)` after each n files done. The reads
    already run in child processes, but the normaliser and the rules are Python, so threads would
    share one core: the work goes to processes, in small chunks (a few per worker, so one slow
    file does not hold the others back)."""
    jobs = min(jobs or default_jobs(), len(paths))
    if jobs <= 1:
        out = []
        for p in paths:
            out.append(check_file(p, **kwargs))
            if progress:
                progress(1)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    kwargs.setdefault("settings", get_settings())  # the parent's, not re-read from a worker's environment
    size = max(1, min(16, len(paths) // (jobs * 4)))
    chunks = [list(paths[i:i + size]) for i in range(0, len(paths), size)]
    results: dict[str, Result] = {}
    # spawn, not fork: the caller may hold threads (Prefect's) and the readers' helper process
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_check_chunk, chunk, kwargs): chunk for chunk in chunks}
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                done = future.result()
            except Exception:  # a worker that died: its files are checked here, none is lost
                log.warning("a check worker failed; its %d files are checked in this process", len(chunk),
                            exc_info=True)
                done = [check_file(p, **kwargs) for p in chunk]
            for p, r in zip(chunk, done, strict=True):
                results[str(p)] = r
            if progress:
                progress(len(chunk))
    return [results[str(p)] for p in paths]


def _check_chunk(paths: list[str | Path], kwargs: dict[str, Any]) -> list[Result]:
    return [check_file(p, **kwargs) for p in paths]


def check_parsed(parsed: Parsed, **kwargs: Any) -> Result:
    settings = kwargs.pop("settings", None) or get_settings()
    ctx = Context(parsed, settings=settings, **kwargs)
    findings = run_rules(ctx)
    return Result(verdict_of(findings), findings, parsed)
