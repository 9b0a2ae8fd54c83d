"""What the office and the clerks read for each stored value: one Chinese word per state, kind
and verdict, used by the CLI, the Prefect artifacts and the logs alike."""

from __future__ import annotations

from nianbao.model import Severity

VERDICT = {"accepted": "通过", "rejected": "退回", None: "未报送"}
HELD = "暂存待认定"  # a file whose report names no body of the roster
CYCLE_STATE = {"open": "进行中", "compiled": "已汇总", "closed": "已关闭"}
NOTICE_KIND = {"kickoff": "启动通知", "reminder": "提醒", "accepted": "通过通知", "rejected": "退回通知",
               "overdue": "催报", "digest": "汇总通报", "summary": "全县汇总",
               "mail-missing": "邮件回复（未附报告）", "mail-held": "邮件回复（暂存待认定）",
               "link": "报送链接"}
NOTICE_STATUS = {"queued": "待发送", "sent": "已发送", "failed": "发送失败"}
SEVERITY = {Severity.ERROR: "错误", Severity.WARNING: "提醒", Severity.INFO: "备注"}  # a str enum: "error" works too
SOURCE = {"inbox": "收件目录", "cli": "命令行报送", "import": "往年导入", "mail": "邮件", "upload": "网页上传"}


def verdict(value: str | None) -> str:
    return VERDICT.get(value, value or "未报送")


def verdict_markup(value: str | None) -> str:
    """The verdict for a terminal (rich markup): 通过 in green, 退回 in red."""
    colour = {"accepted": "green", "rejected": "red"}.get(value or "")
    return f"[{colour}]{verdict(value)}[/{colour}]" if colour else verdict(value)


def notice(kind: str, status: str) -> str:
    """e.g. 催报（已发送）."""
    return f"{NOTICE_KIND.get(kind, kind)}（{NOTICE_STATUS.get(status, status)}）"


def cycle_state(state: str) -> str:
    return CYCLE_STATE.get(state, state)


def source_label(value: str) -> str:
    """How a submission arrived (its source; a notice leaves by a channel)."""
    return SOURCE.get(value, value)


def severity(value: str) -> str:
    return SEVERITY[Severity(value)] if value in SEVERITY else value
