"""Rules that need more than one document: last year's report, the other bodies' reports, the
deadline, earlier versions, the roster's coverage. They speak only when the context carries
that history (the database of “The cycle's memory” fills it in)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from nianbao.model import Finding, Location, Report
from nianbao.rules.registry import Context, finding, rule
from nianbao.template import T2_DOC_WIDTH, T2_IN_FORCE, TABLE3_COLUMNS, blank_row, flat


@dataclass(frozen=True)
class Texts:
    """What is compared of another body's report: its parts' texts (loaded alone: a county's
    every report, whole, for each file checked would cost more than the check)."""
    sections: dict[str, str]
    # each part's n-grams, made once: one intake compares these texts with every file it checks
    _grams: dict[tuple[str, int], frozenset[int]] = field(default_factory=dict, compare=False, repr=False)

    def grams(self, key: str, n: int = 4) -> frozenset[int]:
        got = self._grams.get((key, n))
        if got is None:
            got = self._grams[(key, n)] = grams(self.sections.get(key, ""), n)
        return got


@dataclass
class History:
    previous: Report | None = None  # this body's accepted report for the year before
    others: dict[str, Report | Texts] = field(default_factory=dict)  # other bodies' reports this cycle, by name
    received_at: datetime | None = None
    deadline: date | None = None
    accepted_before: bool = False  # an earlier version of this cycle was accepted
    missing_bodies: list[str] | None = None  # for the county summary: roster bodies without an accepted report
    # this body's newest report this cycle read from a scan, and from any other file (scan.word_mismatch)
    scan: Report | None = None
    word: Report | None = None


def local_date(at: datetime, tz: str) -> date:
    """The date on the county's clock (the deadline is a date there); naive means UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo(tz)).date()


def _history(ctx: Context) -> History | None:
    return ctx.history if isinstance(ctx.history, History) else None


@rule("crossyear.carry_over", "warning", needs="history")
def crossyear_carry_over(ctx: Context) -> Iterator[Finding]:
    """This year's 上年结转 equals last year's 结转下年度继续办理, column by column (spec §3 rule 5)."""
    h = _history(ctx)
    if not h or not h.previous:
        return
    now = ctx.report.table3.get("carried_over") or []
    before = h.previous.table3.get("carried_forward") or []
    for ci, col in enumerate(TABLE3_COLUMNS):
        a = now[ci] if ci < len(now) else None
        b = before[ci] if ci < len(before) else None
        if a is not None and b is not None and a != b:
            yield finding("crossyear.carry_over",
                          f"填报为 {a}，但上一年度报告“结转下年度继续办理”为 {b}，两者应相等。",
                          Location(table="table3", row="carried_over", column=col.key), reported=a, last_year=b)


@rule("crossyear.valid_docs", "warning", needs="history")
def crossyear_valid_docs(ctx: Context) -> Iterator[Finding]:
    """现行有效件数 = last year's 现行有效件数 + 本年制发 − 本年废止 (spec §3 rule 5)."""
    h = _history(ctx)
    if not h or not h.previous:
        return
    for key in ("rules", "normative"):
        made, repealed, in_force = ctx.report.table2.get(key) or blank_row(T2_DOC_WIDTH)
        last = (h.previous.table2.get(key) or blank_row(T2_DOC_WIDTH))[T2_IN_FORCE]
        if None in (made, repealed, in_force, last):
            continue
        expected = last + made - repealed
        if in_force != expected:
            yield finding("crossyear.valid_docs",
                          f"上年现行有效 {last} + 本年制发 {made} − 本年废止 {repealed} = {expected}，填报为 {in_force}。",
                          Location(table="table2", row=key, column="in_force"), expected=expected, reported=in_force)


def similarity(a: str | frozenset[int], b: str | frozenset[int], n: int = 4) -> float:
    """Share of character n-grams of the shorter text found in the other (0…1); either text may
    be given as its `grams`."""
    ga = a if isinstance(a, frozenset) else grams(a, n)
    gb = b if isinstance(b, frozenset) else grams(b, n)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))


def grams(text: str, n: int = 4) -> frozenset[int]:
    """A text's character n-grams, each as its hash (30 % less memory than the strings; two
    4-grams of one process colliding is too rare to move a share)."""
    t = flat(text)
    return frozenset(hash(t[i: i + n]) for i in range(len(t) - n + 1)) if len(t) >= n else frozenset()


@rule("similarity.previous_year", "warning", needs="history")
def similarity_previous_year(ctx: Context) -> Iterator[Finding]:
    """Sections 一 and 五 are not nearly the same text as the body's report last year."""
    h = _history(ctx)
    if not h or not h.previous:
        return
    for key in ("1", "5"):
        now, before = ctx.report.sections.get(key, ""), h.previous.sections.get(key, "")
        if len(flat(now)) < 50:
            continue
        s = similarity(now, before)
        if s >= ctx.settings.similarity_threshold:
            yield finding("similarity.previous_year",
                          f"与本单位上一年度报告的同一部分重合度达 {s:.0%}，疑似照搬去年文字。请根据本年度实际情况重写。",
                          Location(section=key), similarity=round(s, 3))


@rule("similarity.other_body", "warning", needs="history")
def similarity_other_body(ctx: Context) -> Iterator[Finding]:
    """Sections 一 and 五 are not nearly the same as another body's report of this cycle."""
    h = _history(ctx)
    if not h or not h.others:
        return
    for key in ("1", "5"):
        now = ctx.report.sections.get(key, "")
        if len(flat(now)) < 50:
            continue
        mine = grams(now)  # once, against every other body's
        for name, other in h.others.items():
            s = similarity(mine, other.grams(key) if isinstance(other, Texts) else other.sections.get(key, ""))
            if s >= ctx.settings.similarity_threshold:
                yield finding("similarity.other_body",
                              f"与“{name}”报告的同一部分重合度达 {s:.0%}，疑似套用其他单位的报告。",
                              Location(section=key), other=name, similarity=round(s, 3))
                break


@rule("timing.late", "warning", needs="history")
def timing_late(ctx: Context) -> Iterator[Finding]:
    """The report arrived by the cycle's deadline."""
    h = _history(ctx)
    if not h or not h.received_at or not h.deadline:
        return
    received = local_date(h.received_at, ctx.settings.timezone)
    if received > h.deadline:
        days = (received - h.deadline).days
        yield finding("timing.late", f"报告于{received:%Y年%m月%d日}收到，晚于截止日期{h.deadline:%Y年%m月%d日}{days}天。",
                      Location(), days_late=days, received=received.isoformat(), deadline=h.deadline.isoformat())


@rule("resubmission.changed_after_accept", "warning", needs="history")
def resubmission_changed_after_accept(ctx: Context) -> Iterator[Finding]:
    """A new version after the report was accepted is recorded and pointed out."""
    h = _history(ctx)
    if h and h.accepted_before:
        yield finding("resubmission.changed_after_accept",
                      "本单位的报告此前已审核通过，此次为通过后的重新提交，将以最新版本为准。", Location())


@rule("summary.coverage", "error", needs="history")
def summary_coverage(ctx: Context) -> Iterator[Finding]:
    """(County summary) every roster body has an accepted report."""
    h = _history(ctx)
    if h and h.missing_bodies:
        yield finding("summary.coverage",
                      f"以下{len(h.missing_bodies)}个单位尚无审核通过的报告：{'、'.join(h.missing_bodies)}。",
                      Location(), missing=h.missing_bodies)


def _figures(report: Report) -> dict[tuple[str, str | None, str], Any]:
    """Every figure of tables 二–四 by (table, row, column) key."""
    from nianbao.template import TABLE2_ROWS, TABLE4_KEYS

    out: dict[tuple[str, str | None, str], Any] = {}
    for row in TABLE2_ROWS:
        v = report.table2.get(row.key)
        values = v if isinstance(v, list) else [v]
        for col, x in zip(row.columns, values, strict=False):
            out[("table2", row.key, col.key)] = x
    for key, values in report.table3.items():
        for col, x in zip(TABLE3_COLUMNS, values, strict=False):
            out[("table3", key, col.key)] = x
    for t4_key, x in zip(TABLE4_KEYS, report.table4, strict=False):
        out[("table4", None, t4_key)] = x
    return out


def _paragraphs(text: str) -> list[str]:
    return [p for p in (flat(x) for x in text.split("\n")) if p]


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SECTION_ZH = "一二三四五六"


def _fig(v: Any) -> str:
    return "空白" if v is None else (f"{v:g}" if isinstance(v, float) else str(v))


def _scan_vs_word_message(fs: list[Finding], loc: Location) -> str:
    from nianbao.rules.registry import listed_message

    return listed_message(fs, loc)


@rule("scan.word_mismatch", "error", needs="history", group_message=_scan_vs_word_message)
def scan_word_mismatch(ctx: Context) -> Iterator[Finding]:
    """The stamped scan (盖章扫描件) says what the Word file says, when a body sends both this cycle.

    The figures of tables 二–四 are compared one by one, and each part's paragraphs by their
    numbers and their wording: a figure that differs, or a paragraph whose numbers or words differ
    (OCR's odd misread character, one in 30 at most, is not a difference), is a finding
    naming the place and both values. The newer of the two is the one checked."""
    h = _history(ctx)
    if not h:
        return
    this_is_scan = ctx.ev.kind == "scan"
    other = h.word if this_is_scan else h.scan
    if other is None:
        return
    scan, word = (ctx.report, other) if this_is_scan else (other, ctx.report)
    a, b = _figures(scan), _figures(word)
    for key in a.keys() & b.keys():
        if a[key] != b[key] and not (a[key] is None and b[key] is None):
            table, row, column = key
            yield finding("scan.word_mismatch",
                          f"盖章扫描件为 {_fig(a[key])}，Word 版为 {_fig(b[key])}。两者应一致：请核对后以正确的版本重新提交（扫描件须为定稿盖章后扫描）。",
                          Location(table=table, row=row, column=column), scan=a[key], word=b[key])
    for k in sorted(scan.sections.keys() & word.sections.keys()):
        ps, pw = _paragraphs(scan.sections[k]), _paragraphs(word.sections[k])
        for i in range(max(len(ps), len(pw))):
            x = ps[i] if i < len(ps) else ""
            y = pw[i] if i < len(pw) else ""
            if x == y:
                continue
            if _NUMBER.findall(x) == _NUMBER.findall(y) and _ocr_noise(x, y):
                continue
            part = _SECTION_ZH[int(k) - 1] if k.isdigit() and 1 <= int(k) <= 6 else k
            yield finding("scan.word_mismatch",
                          f"第{part}部分第{i + 1}段，盖章扫描件与 Word 版不一致：扫描件“{_excerpt(x)}”，Word 版“{_excerpt(y)}”。"
                          "请核对后以正确的版本重新提交（扫描件须为定稿盖章后扫描）。",
                          Location(section=k, paragraph=i + 1), scan=x[:200], word=y[:200])


def _ocr_noise(x: str, y: str) -> bool:
    """Whether two texts differ only as OCR misreads do: single characters swapped here and there
    (at most one in 30), never a run of two or more, nothing added or left out."""
    ops = [op for op in difflib.SequenceMatcher(None, x, y, autojunk=False).get_opcodes() if op[0] != "equal"]
    if any(tag != "replace" or i2 - i1 > 1 or j2 - j1 > 1 for tag, i1, i2, j1, j2 in ops):
        return False
    return len(ops) <= max(1, len(y) // 30)


def _excerpt(text: str, n: int = 40) -> str:
    if not text:
        return "（无此段）"
    return text if len(text) <= n else text[:n] + "……"
