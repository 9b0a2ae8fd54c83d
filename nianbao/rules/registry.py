"""Rules are small registered functions named by their id, with the requirement in the
docstring, yielding frozen findings. The catalogue is the spec's §4."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nianbao.bodies import Body, Roster, infer_kind
from nianbao.model import Finding, Location, Report, Severity
from nianbao.normalize import Evidence, Parsed
from nianbao.places import place
from nianbao.settings import Settings


@dataclass
class Context:
    """Everything a rule may look at: one document plus the cycle's year, county and roster."""

    parsed: Parsed | None
    year: int | None = None  # the cycle's report year
    county: str | None = None
    roster: Roster | None = None
    body: Body | None = None  # who it was submitted for
    settings: Settings = field(default_factory=Settings)
    read_error: Any = None  # a readers.ReadError, when the file could not be read
    history: Any = None  # submission history (crossyear.*, similarity.*, …); see “The cycle's memory”

    @property
    def report(self) -> Report:
        assert self.parsed is not None
        return self.parsed.report

    @property
    def ev(self) -> Evidence:
        assert self.parsed is not None
        return self.parsed.evidence

    @property
    def report_year(self) -> int | None:
        """The year the rules judge against: the cycle's, else what the report says."""
        return self.year or (self.report.year if self.parsed else None)

    @property
    def body_name(self) -> str | None:
        if self.body:
            return self.body.name
        return self.report.body if self.parsed else None

    @property
    def body_kind(self) -> str:
        """township · county · department · city · other (from the roster, else the name)."""
        if self.body and self.body.kind == "township":
            return "township"
        kind = infer_kind(self.body_name)
        if kind == "other" and self.body and self.body.kind == "department":
            return "department"
        return kind

    @property
    def county_parents(self) -> tuple[str, ...]:
        parents = tuple(self.settings.county_parents)
        if self.roster:
            parents += self.roster.parents
        return parents


RuleFn = Callable[[Context], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity  # the usual severity; a finding may say otherwise where the spec does
    requirement: str  # the docstring's first paragraph
    fn: RuleFn
    needs: str = "document"  # "file" | "document" | "history"
    # the message of one finding standing for this rule's findings at many places of a table
    group_message: Callable[[list[Finding], Location], str] | None = None

    def __call__(self, ctx: Context) -> Iterator[Finding]:
        yield from self.fn(ctx)


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity | str, needs: str = "document",
         group_message: Callable[[list[Finding], Location], str] | None = None) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        doc = inspect.getdoc(fn) or ""
        RULES[rule_id] = Rule(rule_id, Severity(severity), doc.split("\n\n")[0].replace("\n", " "), fn, needs,
                              group_message)
        return fn

    return register


def finding(rule_id: str, message: str, location: Location | None = None,
            severity: Severity | str | None = None, **values: Any) -> Finding:
    """A finding of a registered rule; the place is prefixed to the message when given."""
    loc = location or Location()
    sev = Severity(severity) if severity else RULES[rule_id].severity
    where = place(loc)
    text = f"{where}：{message}" if where and not message.startswith(where) else message
    return Finding(rule_id, sev, text, loc, values)


def listed_message(fs: list[Finding], loc: Location) -> str:
    """One message for one rule's findings at many places of a table: the places one after
    another with what is wrong at each, and the advice they share said once —
    表三共3处：（1）“本年新收”行“总计”列：…；（2）…。每一格都应填写数字，没有的填0。"""
    where = place(Location(table=loc.table))
    items = [f.message.removeprefix(where).lstrip("：") for f in fs]
    advice = ""
    tails = {m.rstrip("。").rsplit("。", 1)[-1] for m in items}
    if len(tails) == 1 and all("。" in m.rstrip("。") for m in items):
        advice = tails.pop()
        items = [m.rstrip("。").removesuffix(advice).rstrip("。") for m in items]
    body = "；".join(f"（{i}）{m.rstrip('。')}" for i, m in enumerate(items, 1))
    return f"{where}共{len(fs)}处：{body}。" + (f"{advice}。" if advice else "")
