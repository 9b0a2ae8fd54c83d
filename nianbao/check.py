"""One submission, end to end: read → normalise → every rule → verdict."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
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
    head: dict[str, Any] | None = None  # body, year, template of a light result (its parsed document let go)

    @property
    def report(self) -> Report | None:
        return self.parsed.report if self.parsed else None

    def light(self) -> Result:
        """This result without its parsed document (a batch of thousands holds only verdicts
        and findings): what `to_json` says is kept."""
        r = self.report
        head = {"body": r.body, "year": r.year, "template": r.template, "kind": self.parsed.evidence.kind} if r and self.parsed else self.head
        return Result(self.verdict, self.findings, None, self.path, self.extra, head)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING]

    def to_json(self) -> dict[str, Any]:
        r = self.report
        head = {"body": r.body, "year": r.year, "template": r.template} if r else (self.head or {})
        return {
            "verdict": self.verdict,
            "body": head.get("body"),
            "year": head.get("year"),
            "template": head.get("template"),
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


def _read_safely(path: str | Path, settings: Settings) -> tuple[Parsed | None, ReadError | None]:
    try:
        return parse_file(path, settings), None
    except ReadError as exc:
        return None, exc
    except Exception as exc:  # a reader's or the normaliser's bug must not become the clerk's traceback
        log.exception("reading %s failed", path)
        return None, ReadError("file.unreadable", "文件结构异常，系统无法读取其内容（已记录，县政务公开办会核查）。"
                               "请用 Word 或 WPS 打开后另存为 .docx 再提交。", internal=type(exc).__name__)


@dataclass
class Preread:
    """A file read ahead of its check (`read_ahead`): what reading these bytes gave. Reading
    depends on the bytes and the extension only, so it stands for a read of any copy of them."""
    sha256: str
    suffix: str
    parsed: Parsed | None
    error: ReadError | None

    def fits(self, sha256: str, name: str | Path) -> bool:
        return self.sha256 == sha256 and self.suffix == Path(name).suffix.lower()


def check_file(path: str | Path, *, year: int | None = None, county: str | None = None,
               roster: Roster | None = None, body: Body | None = None,
               settings: Settings | None = None, history: Any = None, preread: Preread | None = None) -> Result:
    """Check one file. Never raises for a bad file: that is a file.* finding. `preread`: the
    caller's read of these same bytes (see `Preread.fits`), used instead of reading again."""
    settings = settings or get_settings()
    county = county or (roster.county if roster and roster.county else None) or settings.county
    parsed, error = (preread.parsed, preread.error) if preread is not None else _read_safely(path, settings)
    ctx = Context(parsed, year=year, county=county, roster=roster, body=body, settings=settings,
                  read_error=error, history=history)
    findings = run_rules(ctx)
    return Result(verdict_of(findings), findings, parsed, str(path))


def default_jobs(settings: Settings | None = None) -> int:
    """NIANBAO_JOBS, else the cores this process may use (a container's CPU set, not the
    machine's count)."""
    if settings is not None and settings.jobs:
        return settings.jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def check_files(paths: Sequence[str | Path], *, jobs: int | None = None,
                progress: Callable[[int], None] | None = None, light: bool = False, **kwargs: Any) -> list[Result]:
    """check_file on each path, on `jobs` processes (default: every core), results in the order
    of `paths` and equal to a sequential run's; `progress(n)` after each n files done. `light`:
    results without their parsed documents (`Result.light`), made so in the worker — a batch of
    20,000 neither holds nor ships 20,000 documents. The reads
    already run in child processes, but the normaliser and the rules are Python, so threads would
    share one core: the work goes to processes, in small chunks (a few per worker, so one slow
    file does not hold the others back)."""
    jobs = min(jobs or default_jobs(kwargs.get("settings") or get_settings()), len(paths))
    if jobs <= 1:
        out = []
        for p in paths:
            r = check_file(p, **kwargs)
            out.append(r.light() if light else r)
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
        futures = {pool.submit(_check_chunk, chunk, kwargs, light): chunk for chunk in chunks}
        for future in as_completed(futures):
            chunk = futures[future]
            try:
                done = future.result()
            except Exception:  # a worker that died: its files are checked here, none is lost
                log.warning("a check worker failed; its %d files are checked in this process", len(chunk),
                            exc_info=True)
                done = [check_file(p, **kwargs) for p in chunk]
                done = [r.light() for r in done] if light else done
            for p, r in zip(chunk, done, strict=True):
                results[str(p)] = r
            if progress:
                progress(len(chunk))
    return [results[str(p)] for p in paths]


def _check_chunk(paths: list[str | Path], kwargs: dict[str, Any], light: bool = False) -> list[Result]:
    done = [check_file(p, **kwargs) for p in paths]
    return [r.light() for r in done] if light else done


def check_parsed(parsed: Parsed, **kwargs: Any) -> Result:
    settings = kwargs.pop("settings", None) or get_settings()
    ctx = Context(parsed, settings=settings, **kwargs)
    findings = run_rules(ctx)
    return Result(verdict_of(findings), findings, parsed)


def read_ahead(paths: Sequence[str | Path], *, jobs: int | None = None, settings: Settings | None = None,
               least: int = 8, window: int = 0) -> Iterator[Preread | None]:
    """Each path read (and normalised) on `jobs` processes, yielded in the order of `paths` while
    the next ones are read: the caller checks and records one file after another, in order — so
    whatever depends on what was recorded before (versions, similarity to other bodies' reports)
    is what a sequential run gives — and only the reading, nearly all of the time, is spread.
    None for a path that could not be read ahead (gone, changed while read, a worker that died):
    the caller reads it itself. Fewer than `least` paths, or one job: all None, nothing started
    (a pool costs a second or two to start). `window`: how many the caller takes at once (a
    batch): that many more are read ahead, so the workers go on while it records a batch."""
    settings = settings or get_settings()
    jobs = min(jobs or default_jobs(settings), len(paths))
    if jobs <= 1 or len(paths) < least:
        yield from (None for _ in paths)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    window = jobs * 3 + window  # reads in flight: every worker busy, few parsed documents held
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque[Any] = deque()
        queued = iter(paths)
        for p in queued:
            pending.append(pool.submit(read_one, str(p), settings))
            if len(pending) >= window:
                break
        while pending:
            future = pending.popleft()
            try:
                yield future.result()
            except Exception:  # a worker that died: the caller reads this one itself
                log.warning("a read-ahead worker failed; the file is read in this process", exc_info=True)
                yield None
            nxt = next(queued, None)
            if nxt is not None:
                pending.append(pool.submit(read_one, str(nxt), settings))


def read_one(path: str, settings: Settings) -> Preread | None:
    """One file read and normalised, tied to its bytes; None when it is gone or changed while read."""
    import hashlib

    try:
        with open(path, "rb") as fh:
            before = os.fstat(fh.fileno())
            digest = hashlib.file_digest(fh, "sha256")
    except OSError:
        return None
    parsed, error = _read_safely(path, settings)
    try:
        after = os.stat(path)
    except OSError:
        return None
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
        return None  # changed while it was read: which bytes were read is not known
    return Preread(digest.hexdigest(), Path(path).suffix.lower(), parsed, error)
