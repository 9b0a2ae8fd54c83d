"""One settings object for the whole service (environment prefix NIANBAO_)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from nianbao.readers import Limits
from nianbao.workdays import WorkCalendar


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NIANBAO_", extra="ignore")

    data_dir: Path = Field(Path("./nianbao-data"), description="Where submissions, notices and the SQLite file live.")
    database_url: SecretStr | None = Field(
        None, description="SQLAlchemy URL; default a SQLite file in data_dir. Production: postgresql+psycopg://…")
    timezone: str = Field("Asia/Shanghai", description="The county's clock: deadlines are dates there.")
    reminder_offsets: list[int] = Field(default_factory=lambda: [14, 7, 3, 1, 0],
                                        description="Days before the deadline when reminders go out.")
    county: str | None = Field(None, description="The county whose cycle this is, e.g. 巨鹿县.")
    county_parents: list[str] = Field(default_factory=list,
                                      description="Places above the county (e.g. 邢台市, 河北省): naming them is not foreign.")

    max_file_mb: float = Field(30, gt=0, le=1024, description="Largest file accepted, in MB.")
    max_pages: int = Field(200, gt=0, le=5000, description="Most PDF pages read.")
    max_unzipped_mb: float = Field(200, gt=0, le=4096, description="A .docx inflating to more is refused (zip bomb).")
    convert_timeout_s: float = Field(120, gt=0, le=3600, description="LibreOffice conversion of one .doc/.wps.")
    # hostile files (readers/__init__.py Limits): refused before parsing, file.too_complex
    max_table_cells: int = Field(1_000_000, gt=0, description="Table cells of a text, web page or .docx body.")
    max_pdf_objects: int = Field(200_000, gt=0, description="Objects in a PDF (a report has a few hundred).")
    max_pdf_stream_mb: float = Field(64, gt=0, le=4096, description="One PDF stream, inflated (a PDF bomb stops here).")
    max_pdf_inflated_mb: float = Field(200, gt=0, le=16384, description="All a PDF's streams, inflated.")
    max_docx_part_mb: float = Field(64, gt=0, le=4096, description="One part of a .docx (word/document.xml …), unzipped.")
    max_zip_entries: int = Field(10_000, gt=0, description="Parts in a .docx.")
    max_relationships: int = Field(5_000, gt=0, description="Relationships in one *.rels part of a .docx (a report: < 200).")
    # …and while parsing: each read runs in a child process with these
    isolate_reads: bool = Field(True, description="Read each file in a child process with the memory and time limits below.")
    max_read_memory_mb: float = Field(1536, ge=64, le=65536, description="Address space of one read's child process (RLIMIT_AS).")
    max_read_seconds: float = Field(120, gt=0, le=3600, description="Wall time of one read (a .doc's conversion on top).")

    # scans (readers/scan.py): OCR's own limits, and how sure a figure must be read to stand unasked
    ocr: bool = Field(True, description="Read scans and pictures by OCR (off: a scan is file.no_text).")
    max_scan_pages: int = Field(30, gt=0, le=1000, description="Most pages of a scan read by OCR.")
    max_ocr_seconds: float = Field(300, gt=0, le=7200, description="Wall time of one scan's OCR (on top of max_read_seconds).")
    max_ocr_memory_mb: float = Field(3072, ge=256, le=65536, description="Address space of a read once OCR starts.")
    ocr_min_confidence: float = Field(0.9, gt=0, le=1,
                                      description="A figure read from a scan below this is file.ocr_uncertain.")

    jobs: int = Field(0, ge=0, le=256,
                      description="Files read at once by an intake (and `nianbao check DIR`): 0 = every core this process may use.")

    inbox_settle_s: float = Field(
        2, ge=0, le=3600, description="An inbox file is taken once unchanged this long (and not open for writing).")
    quarantine_keep_days: int = Field(90, ge=1, le=3650,
                                      description="Files set aside in inbox/.quarantine are deleted after this many days.")
    quarantine_max_mb: float = Field(2048, gt=0, le=1024 * 1024,
                                     description="inbox/.quarantine is kept under this size: the oldest files go first.")
    intake_lock_wait_s: float = Field(600, ge=0, le=86400,
                                      description="How long an intake waits for another one on the same inbox.")
    intake_parts: int = Field(0, ge=0, le=1024,
                              description="Parts a big intake is spread into over a work pool's workers "
                                          "(intake-part flow runs; at least 10 files a part); 0 or 1: one run.")
    intake_part_wait_s: float = Field(6 * 3600, ge=10, le=7 * 86400,
                                      description="How long an intake waits for its parts before it gives up.")

    notice_sink: Path | None = Field(
        None, description="Write every notice as a JSON file in this folder instead of sending it (demo, rehearsal).")
    templates_dir: Path | None = Field(
        None, description="The county's own notice templates (<kind>.txt.j2); the built-in ones otherwise.")
    include_office_report: bool = Field(
        True, description="Whether the county office's own report (the roster's office.body) counts in the county's tables.")
    overdue_every_days: int = Field(3, ge=1, le=30,
                                    description="After the deadline, overdue notices every N working days.")
    extra_holidays: list[date] = Field(
        default_factory=list, description="Days off the chinese_calendar package does not know yet (a year it has no data for).")
    extra_workdays: list[date] = Field(
        default_factory=list, description="Working days (调休) the chinese_calendar package does not know yet.")

    # the schedules of the deployments `nianbao serve` / `nianbao deploy` register for each open cycle
    intake_cron: str = Field("*/10 * * * *", description="When intake looks at the inbox (county time).")
    deadline_cron: str = Field("0 9 * * *", description="When the daily deadline check runs (county time).")
    schedule_every_s: float | None = Field(
        None, gt=0, description="Rehearsals and tests: both schedules become this interval, in seconds.")
    serve_sync_s: float = Field(60, gt=0, description="How often `nianbao serve` looks for cycles opened or closed.")
    work_pool: str = Field("nianbao", description="The Prefect work pool of `nianbao deploy` and the workers.")

    # the upload page (`nianbao web`) and the links the notices carry
    public_url: str = Field("http://127.0.0.1:8080",
                            description="The upload page's address as clerks reach it (behind the county's HTTPS proxy: https://…).")
    web_host: str = Field("127.0.0.1", description="Where `nianbao web` listens (a reverse proxy in front of it).")
    web_port: int = Field(8080, ge=1, le=65535, description="…and on which port.")
    web_secret: SecretStr | None = Field(
        None, description="Key of the upload links and forms; default a random key kept in data_dir/web-secret (mode 600).")
    web_bad_token_delay_s: float = Field(
        1.0, ge=0, le=60, description="A wrong token is answered this much later, doubling per address (to 30 s).")
    prefect_ui_url: str | None = Field(None, description="The Prefect UI as the office reaches it, for links to the runs.")

    # the county's mailbox: reports sent there are taken by intake, and answered from it
    imap_host: str | None = Field(None, description="The mailbox's IMAP server (imap.163.com, imap.qq.com …); unset: no mail intake.")
    imap_port: int = Field(993, ge=1, le=65535, description="IMAP port: 993 with TLS, 143 with STARTTLS or none.")
    imap_tls: str = Field("ssl", pattern="^(ssl|starttls|none)$", description="ssl (implicit TLS), starttls, or none (tests only).")
    imap_user: str | None = Field(None, description="The mailbox's login, usually its address.")
    imap_password: SecretStr | None = Field(None, description="Its password or the provider's 授权码 (a secret: never logged).")
    imap_folder: str = Field("INBOX", description="The folder reports arrive in.")
    imap_done_folder: str | None = Field(None, description="Move each taken message there (else it is only flagged).")
    imap_timeout_s: float = Field(30, gt=0, le=600, description="Connect and read timeout of the IMAP server.")
    imap_max_messages: int = Field(200, ge=1, description="Messages taken in one intake (the rest wait for the next).")
    smtp_url: SecretStr | None = Field(
        None, description="How replies go out from the county's mailbox: smtps://USER:PASSWORD@smtp.163.com:465 or "
                          "smtp://…:587 (STARTTLS); smtp+plain://host:port for tests. A secret.")
    mail_from: str | None = Field(None, description="The From of replies (the county's mailbox address).")

    fee_warn_township_10k: float = Field(500, ge=0, description="table2.fee_scale: 万元 above which a township's fee looks like 元.")
    fee_warn_county_10k: float = Field(50_000, ge=0, description="…for a county government or department.")
    fee_warn_other_10k: float = Field(1_000_000, ge=0, description="…for anything else (a city).")
    similarity_threshold: float = Field(0.9, gt=0, le=1, description="similarity.*: n-gram overlap that counts as copied.")

    def db_url(self) -> str:
        """The database URL (a secret: it may carry a password; never log it)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'nianbao.db').resolve()}"

    def web_links(self) -> bool:
        """Whether the notices carry each body's upload-page link: only when NIANBAO_PUBLIC_URL is
        set, i.e. the installation serves the page and says where clerks reach it (the default
        address is this machine's own, no use to a clerk). service.env keeps which fields were set."""
        return "public_url" in self.model_fields_set

    def calendar(self) -> WorkCalendar:
        return WorkCalendar.of(self.extra_holidays, self.extra_workdays)

    def limits(self) -> Limits:
        return Limits(
            max_bytes=int(self.max_file_mb * 1024 * 1024),
            max_pages=self.max_pages,
            max_unzipped_bytes=int(self.max_unzipped_mb * 1024 * 1024),
            convert_timeout=self.convert_timeout_s,
            max_table_cells=self.max_table_cells,
            max_pdf_objects=self.max_pdf_objects,
            max_stream_bytes=int(self.max_pdf_stream_mb * 1024 * 1024),
            max_inflated_bytes=int(self.max_pdf_inflated_mb * 1024 * 1024),
            max_part_bytes=int(self.max_docx_part_mb * 1024 * 1024),
            max_zip_entries=self.max_zip_entries,
            max_relationships=self.max_relationships,
            max_read_memory=int(self.max_read_memory_mb * 1024 * 1024),
            max_read_seconds=self.max_read_seconds,
            isolate=self.isolate_reads,
            ocr=self.ocr,
            max_scan_pages=self.max_scan_pages,
            max_ocr_seconds=self.max_ocr_seconds,
            max_ocr_memory=int(self.max_ocr_memory_mb * 1024 * 1024),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
