"""Compile the county's report: refused through the summary.coverage rule while an active body has
no accepted report (unless the office overrides with a reason, kept in the audit); otherwise the
report from the latest accepted version of each body — .docx in the national format, the .xlsx
workbook and summary.json under summary/<county>-<year>/ — sent to the office."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db import repo
from db.session import session_scope
from nianbao.county_report import Contribution, headline, summary_json, write_county_docx, write_county_xlsx
from nianbao.model import Finding, Report, Severity
from nianbao.rules import RULES, Context
from nianbao.rules.history import History
from nianbao.safetext import file_component, inside
from notifications import compose
from notifications.outbox import enqueue
from service.env import Env


@dataclass(frozen=True)
class Compiled:
    compiled: bool
    county: str = ""
    message: str | None = None  # why it was refused
    refusal: Finding | None = None  # the summary.coverage finding, when that is why
    missing: list[str] = field(default_factory=list)  # bodies without an accepted report
    bodies: list[str] = field(default_factory=list)  # the bodies whose figures are in it
    totals: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # relative to the data folder
    folder: str | None = None

    def paths(self, data_dir: Path) -> list[str]:
        return [str(data_dir / f) for f in self.files]


def coverage(e: Env, county: str, year: int, missing: list[str]) -> list[Finding]:
    """The summary.coverage rule on the cycle: one error naming the missing bodies, or nothing."""
    ctx = Context(None, year=year, county=county, settings=e.settings, history=History(missing_bodies=missing))
    return [f for f in RULES["summary.coverage"](ctx) if f.severity == Severity.ERROR]


def compile_county_report(e: Env, county_code: str, year: int, *, allow_missing: bool = False,
                          reason: str | None = None, actor: str = "cli") -> Compiled:
    with session_scope(e.factory) as s:
        c = repo.county_by_code(s, county_code)
        cy = repo.cycle(s, c, year)
        accepted = repo.counted(s, cy)
        active = repo.bodies(s, c, active_only=True)
        missing = [b.name for b in active if b.id not in accepted]
        refusal = next(iter(coverage(e, c.name, year, missing)), None)
        if refusal is not None and not allow_missing:
            enqueue(s, compose.summary(c, cy, f"refused:{len(accepted)}", compiled=False, bodies=[],
                                       missing=missing, templates_dir=e.settings.templates_dir), sink=e.sink)
            repo.audit(s, actor, "compile.refused", "cycle", cy.id, cycle_id=cy.id, missing=missing)
            return Compiled(False, c.name, message=f"{refusal.rule}：{refusal.message}暂不能汇总。", refusal=refusal,
                            missing=missing)
        if refusal is not None and not (reason or "").strip():
            return Compiled(False, c.name, message="缺报情况下汇总必须写明理由（--reason，或在界面中填写 reason），"
                            "理由记入审计记录。", refusal=refusal, missing=missing)
        office_body = (c.office or {}).get("body")
        included = [b for b in active if b.id in accepted
                    and (e.settings.include_office_report or b.code != office_body)]
        parts = [Contribution(code=b.code, name=b.name, kind=b.kind, version=accepted[b.id].version,
                              sha256=accepted[b.id].sha256, report=Report.from_json(accepted[b.id].report or {}),
                              warnings=tuple(f.to_domain() for f in accepted[b.id].findings
                                             if f.severity == Severity.WARNING))
                 for b in included]
        # names made from the roster's data: one safe component each, and the folder checked to be
        # the data folder's (a county named "../../x" writes nowhere else)
        rel = Path("summary") / f"{file_component(county_code)}-{year}"
        folder = e.data_dir / rel
        stem = f"{file_component(c.name)}{year}年政府信息公开工作年度报告"
        for target in (folder / f"{stem}.docx", folder / f"{stem}（数据）.xlsx", folder / "summary.json"):
            inside(target, e.data_dir / "summary")
        folder.mkdir(parents=True, exist_ok=True)
        summary = summary_json(c.name, cy.year, parts)
        (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        write_county_docx(c.name, cy.year, parts, folder / f"{stem}.docx")
        write_county_xlsx(c.name, cy.year, parts, folder / f"{stem}（数据）.xlsx")
        files = [(rel / f"{stem}.docx").as_posix(), (rel / f"{stem}（数据）.xlsx").as_posix(),
                 (rel / "summary.json").as_posix()]
        cy.state = "compiled"
        repo.audit(s, actor, "compile.override" if missing else "compile", "cycle", cy.id, cycle_id=cy.id,
                   bodies=len(parts), missing=missing, reason=reason or None, files=files)
        totals = headline(summary["tables"])
        tables_digest = hashlib.sha256(json.dumps(summary["tables"], sort_keys=True).encode()).hexdigest()[:12]
        enqueue(s, compose.summary(c, cy, f"compiled:{len(parts)}:{tables_digest}", compiled=True,
                                   bodies=[p.name for p in parts], missing=missing, reason=reason, totals=totals,
                                   files=files, attachments=files, templates_dir=e.settings.templates_dir),
                sink=e.sink)
    return Compiled(True, c.name, missing=missing, bodies=[p.name for p in parts], totals=totals, files=files,
                    folder=str(folder))
