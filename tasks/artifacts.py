"""Artifacts in the Prefect UI: the cycle's table, a progress bar during intake, a markdown page
per submission. Keys match ^[a-z0-9-]*$ (body codes, not Chinese names). Outside a Prefect run
(a task called through .fn() in a test) they are skipped.

Every value from data (a file's or a body's name, a county's, a finding that quotes the report's
text) goes into the markdown through nianbao.safetext.md: shown as written, never a link, an image,
HTML or a table. Descriptions are markdown in the UI too; table cells are text (control characters
removed)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from nianbao.labels import HELD, severity, verdict
from nianbao.model import Severity
from nianbao.safetext import md, one_line

if TYPE_CHECKING:
    from db.models import Submission
    from service.county_report import Compiled


def _in_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def key(*parts: Any) -> str:
    k = "-".join(str(p) for p in parts).lower()
    return re.sub(r"[^a-z0-9-]+", "-", k).strip("-")


def table(artifact_key: str, rows: list[dict[str, Any]], description: str) -> None:
    if _in_run():
        from prefect.artifacts import create_table_artifact

        cells = [{k: one_line(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows]
        create_table_artifact(cells, key=artifact_key, description=md(description))


def markdown(artifact_key: str, text: str, description: str) -> None:
    if _in_run():
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(text, key=artifact_key, description=md(description))


def progress_start(artifact_key: str, description: str) -> UUID | None:
    if not _in_run():
        return None
    from prefect.artifacts import create_progress_artifact

    return create_progress_artifact(0.0, key=artifact_key, description=description)


def progress(artifact_id: UUID | None, percent: float) -> None:
    if artifact_id is not None:
        from prefect.artifacts import update_progress_artifact

        update_progress_artifact(artifact_id, min(100.0, percent))


def submission_markdown(body_name: str | None, sub: Submission) -> str:
    """One list item per finding — place, then what is wrong — so nothing runs off the page."""
    if body_name is None:
        head = f"# 未识别单位的来件 · {HELD}"
        intro = [f"文件《{md(sub.original_name)}》没有写明（或写错了）报送单位，已暂存，不计入任何单位的报送。"
                 "县政务公开办核实后可请该单位按规定方式重新报送。", ""]
    else:
        head = f"# {md(body_name)} · 第{sub.version}版 · {verdict(sub.verdict)}"
        intro = []
    lines = [head, "", *intro,
             f"文件：{md(sub.original_name)}（SHA-256 {sub.sha256[:12]}…）；错误 {sub.errors} 处，提醒 {sub.warnings} 处", ""]
    if sub.delta:
        lines += [f"与第{sub.delta['against']}版相比：已修正 {len(sub.delta['fixed'])}，新出现 {len(sub.delta['new'])}，"
                  f"仍存在 {len(sub.delta['remaining'])}", ""]
    for sev in Severity:
        found = [f for f in sub.findings if f.severity == sev]
        if found:
            lines += [f"## {severity(sev)}（{len(found)}）", ""]
            lines += [f"{i}. {md(f.message)}（`{one_line(f.rule).replace('`', '')}`）" for i, f in enumerate(found, 1)]
            lines.append("")
    return "\n".join(lines)


def compile_markdown(done: Compiled, year: int, reason: str | None, data_dir: Path) -> str:
    t = done.totals
    missing = done.missing
    lines = [f"# {md(done.county)}{year}年度政府信息公开工作年度报告（全县汇总）", "",
             f"汇总单位 {len(done.bodies)} 个" + (f"；经批准缺报 {len(missing)} 个（{'、'.join(map(md, missing))}），"
                                               f"理由：{md(reason or '')}" if missing else "。"),
             "", "| 指标 | 全县合计 |", "|---|---|",
             f"| 本年新收政府信息公开申请 | {t['new']} |", f"| 上年结转 | {t['carried_over']} |",
             f"| 办理完毕（七）总计 | {t['total']} |", f"| 结转下年度继续办理 | {t['carried_forward']} |",
             f"| 行政复议 | {t['review']} |", f"| 行政诉讼 | {t['litigation']} |", "", "文件：", ""]
    # the link's target is a file: URI (percent-encoded: no ( ) [ ] < > or space left in it)
    lines += [f"- [{md(Path(f).name)}]({(data_dir / f).resolve().as_uri()})" for f in done.files]
    lines += ["", "第五、六部分及第一部分（三）须由县政务公开办填写后方可公开（其中标有“此处填写”的位置）。"]
    return "\n".join(lines)
