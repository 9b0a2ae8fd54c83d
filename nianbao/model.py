"""The report model and findings: plain frozen data, JSON in the spec's keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nianbao.template import T2_DOC_WIDTH, blank_row, blank_table4


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Location:
    """Where a finding is, as fields (never prose): section "1".."6", table "table2".."table4",
    row and column keys of the spec, page (PDF), paragraph (within its section), line (.txt)."""

    section: str | None = None
    table: str | None = None
    row: str | None = None
    column: str | None = None
    page: int | None = None
    paragraph: int | None = None
    line: int | None = None
    # a finding of one rule at many places of one table (25 rows, 7 columns) is one finding: here
    # every place, and above what they have in common
    places: tuple[Location, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in _LOCATION_FIELDS if getattr(self, k) is not None}
        if self.places:
            out["places"] = [p.to_json() for p in self.places]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Location:
        places = tuple(cls.from_json(p) for p in data.get("places") or ())
        return cls(**{k: data.get(k) for k in _LOCATION_FIELDS}, places=places)


_LOCATION_FIELDS = ("section", "table", "row", "column", "page", "paragraph", "line")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    location: Location = field(default_factory=Location)
    values: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "message": self.message,
            "location": self.location.to_json(),
            "values": self.values,
        }


Number = int | float | None


def empty_table2() -> dict[str, Any]:
    return {"rules": blank_row(T2_DOC_WIDTH), "normative": blank_row(T2_DOC_WIDTH), "licensing": None, "penalty": None,
            "coercion": None, "fees_10k_yuan": None}


@dataclass
class Report:
    """The spec's report: exactly the keys of the JSON contract."""

    body: str | None = None
    year: int | None = None
    title: str | None = None
    template: str = "unknown"  # "2021" | "2019" | "hybrid" | "unknown"
    period: dict[str, Any] | None = None  # {"text", "start", "end"}
    sections: dict[str, str] = field(default_factory=lambda: {str(i): "" for i in range(1, 7)})
    table2: dict[str, Any] = field(default_factory=empty_table2)
    table3: dict[str, list[Number]] = field(default_factory=dict)
    table4: list[Number] = field(default_factory=blank_table4)

    def to_json(self) -> dict[str, Any]:
        return {
            "body": self.body,
            "year": self.year,
            "title": self.title,
            "template": self.template,
            "period": self.period,
            "sections": dict(self.sections),
            "table2": {k: (list(v) if isinstance(v, list) else v) for k, v in self.table2.items()},
            "table3": {k: list(v) for k, v in self.table3.items()},
            "table4": list(self.table4),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        return cls(
            body=data.get("body"),
            year=data.get("year"),
            title=data.get("title"),
            template=data.get("template", "unknown"),
            period=data.get("period"),
            sections={str(k): v for k, v in data.get("sections", {}).items()},
            table2=dict(data.get("table2") or empty_table2()),
            table3={k: list(v) for k, v in (data.get("table3") or {}).items()},
            table4=list(data.get("table4") or blank_table4()),
        )
