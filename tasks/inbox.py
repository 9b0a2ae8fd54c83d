"""Intake's tasks: scan the inbox, take each file (one task run per file: store → check → record
→ answer → move to inbox/.done/), the office's digest."""

from __future__ import annotations

from datetime import datetime

from prefect import task

from service import inbox, mailbox
from service.digest import intake_digest
from service.env import env, now_or
from service.inbox import Aside, InboxFile, InboxScan, Preread
from service.mailbox import MailScan
from service.submission import Brief
from tasks import artifacts


@task(name="scan-inbox")
def scan_inbox(county_code: str, year: int) -> InboxScan:
    return inbox.scan(env(), county_code, year)


# the check task runs of one intake, at most: each costs ~0.1 s of orchestration (its states,
# its tags' concurrency slots) and the server records only ~30–40 a second
TASK_RUNS = 40


@task(name="check-files", task_run_name="check-{label}")
def process_files(items: list[InboxFile], county_code: str, year: int, label: str = "files",
                  as_of: datetime | str | None = None,
                  prereads: list[Preread | None] | None = None) -> list[Brief | Aside | None]:
    """Inbox files taken one after another; each new submission gets its findings page in the
    UI. Per file: a Brief, an Aside (set aside or left for later) or None (it was gone).
    `prereads`: the files read ahead, in their order (pass them quoted: Prefect need not walk
    parsed documents)."""
    received_at = now_or(as_of)
    return [_take(item, county_code, year, received_at, pre)
            for item, pre in zip(items, prereads or [None] * len(items), strict=True)]


def _take(item: InboxFile, county_code: str, year: int, received_at: datetime,
          preread: Preread | None) -> Brief | Aside | None:
    done = inbox.take(env(), item, county_code, year, received_at, preread=preread)
    if done is None or isinstance(done, Aside):
        return done
    if done.created:
        sub = done.submission
        who = done.body.code if done.body else "unassigned"
        title = (f"{done.body.name} 第{sub.version}版审核结果" if done.body
                 else f"未识别单位的来件《{sub.original_name}》（暂存，待县政务公开办认定）")
        artifacts.markdown(artifacts.key("submission", county_code, year, who,
                                         f"v{sub.version}" if done.body else sub.id),
                           artifacts.submission_markdown(done.body.name if done.body else None, sub), title)
    return done.brief(item.name)


@task(name="poll-mailbox")
def poll_mailbox(county_code: str, year: int, as_of: datetime | str | None = None) -> MailScan:
    """The county's mailbox, once per intake: one task run for all its messages."""
    return mailbox.poll(env(), county_code, year, now_or(as_of))


@task(name="office-digest")
def queue_office_digest(county_code: str, year: int) -> int:
    return intake_digest(env(), county_code, year)
