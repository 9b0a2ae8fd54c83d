"""The upload page (`/b/<token>`: one body's) and the county office's page (`/o/<token>`), served
by `nianbao web`. Plain HTML forms and one small stylesheet, no script: they work on a phone on a
slow line. Everything they show and do is a service function; this module only checks the token,
the form's CSRF field and the upload's size, and renders."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import UploadFile

from nianbao.readers import READERS
from nianbao.safetext import file_component, one_line
from service import links, pages
from service.annotated import annotated_copy, annotated_name
from service.county_report import compile_county_report
from service.env import Env
from service.env import env as make_env
from service.submission import Refused

log = logging.getLogger("nianbao.web")

STATIC = Path(__file__).parent / "static"
MAX_FORM_OVERHEAD = 64 * 1024  # the multipart framing and the small fields around the file
_TOKEN_IN_PATH = re.compile(r"/(b|o)/[^/?#]+")


def masked(path: str) -> str:
    """A path as it may be logged: the token replaced."""
    return _TOKEN_IN_PATH.sub(lambda m: f"/{m.group(1)}/***", path)


def _extensions() -> set[str]:
    return {ext for r in READERS for ext in r.extensions}


class BadTokens:
    """Wrong tokens answered later and later per address: base delay, doubling per miss in the
    last quarter hour, up to 30 s. (In memory: one `nianbao web` process behind the proxy.)"""

    WINDOW_S = 900.0
    MAX_DELAY_S = 30.0

    def __init__(self, base: float) -> None:
        self.base = base
        self.misses: dict[str, list[float]] = {}

    def delay(self, who: str) -> float:
        now = time.monotonic()
        recent = [t for t in self.misses.get(who, []) if now - t < self.WINDOW_S]
        recent.append(now)
        self.misses[who] = recent[-20:]
        if len(self.misses) > 10_000:  # many addresses: forget the oldest
            for k in list(self.misses)[:5_000]:
                del self.misses[k]
        return 0.0 if self.base <= 0 else min(self.MAX_DELAY_S, self.base * 2 ** (len(recent) - 1))


def create_app(e: Env | None = None) -> FastAPI:
    e = e or make_env()
    app = FastAPI(title="nianbao", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Environment(loader=PackageLoader("web", "templates"), autoescape=select_autoescape(["html"]),
                            trim_blocks=True, lstrip_blocks=True)
    secret = links.web_secret(e)
    bad = BadTokens(e.settings.web_bad_token_delay_s)
    limit = e.settings.limits().max_bytes
    accepted_ext = _extensions()
    public_origin = "{0.scheme}://{0.netloc}".format(urlsplit(e.settings.public_url))

    def csrf_for(token: str) -> str:
        return hmac.new(secret, f"csrf|{links.token_hash(token)}".encode(), hashlib.sha256).hexdigest()[:32]

    def render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = templates.get_template(name).render(max_mb=e.settings.max_file_mb, **ctx)
        return HTMLResponse(html, status_code=status)

    async def not_found(request: Request) -> HTMLResponse:
        who = request.client.host if request.client else "-"
        await asyncio.sleep(bad.delay(who))
        return render("gone.html", status=404)

    async def access(request: Request, token: str, office: bool) -> links.Access | None:
        a = await asyncio.to_thread(links.resolve, e, token)
        if a is None or a.office != office:
            return None
        return a

    def form_ok(request: Request, token: str, form: Any) -> bool:
        origin = request.headers.get("origin")
        if origin and origin != "null":
            own = f"{request.url.scheme}://{request.url.netloc}"
            if origin not in (own, public_origin):
                return False
        sent = form.get("csrf")
        return isinstance(sent, str) and hmac.compare_digest(sent, csrf_for(token))

    @app.middleware("http")
    async def headers_and_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "
                      "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        h.setdefault("Referrer-Policy", "no-referrer")  # the token is in the URL
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            h.setdefault("Cache-Control", "no-store")
        # our own access log: uvicorn's would write the token (it is in the path)
        log.info("%s %s %s %.0fms", request.method, masked(request.url.path), response.status_code,
                 (time.perf_counter() - started) * 1000)
        return response

    @app.get("/static/app.css")
    def css() -> FileResponse:
        return FileResponse(STATIC / "app.css", media_type="text/css",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # ---- a body's page ---------------------------------------------------------------------

    @app.get("/b/{token}", response_class=HTMLResponse)
    async def body_page(request: Request, token: str, v: int | None = None) -> HTMLResponse:
        a = await access(request, token, office=False)
        if a is None:
            return await not_found(request)
        assert a.body_id is not None
        page = await asyncio.to_thread(pages.body_page, e, a.cycle_id, a.body_id, e.today(), v)
        return render("body.html", page=page, token=token, csrf=csrf_for(token), base=f"/b/{token}",
                      upload=True, notice=request.query_params.get("m"))

    @app.post("/b/{token}/upload", response_class=HTMLResponse)
    async def upload(request: Request, token: str) -> Response:
        a = await access(request, token, office=False)
        if a is None:
            return await not_found(request)
        assert a.body_id is not None
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            return _message(render, token, "请用页面上的表单上传文件。", 411)
        if int(length) > limit + MAX_FORM_OVERHEAD:
            return _message(render, token, f"文件超过{e.settings.max_file_mb:g}MB，未接收。请压缩图片或删去附件后重新上传。", 413)
        e.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            # python-multipart streams the file part to a temporary file past 1 MB (the
            # declared length was checked above; the parser stops at it as well)
            form = await request.form(max_files=1, max_fields=5, max_part_size=64 * 1024)
        except Exception:
            return _message(render, token, "上传没有完成，请重新选择文件上传。", 400)
        try:
            if not form_ok(request, token, form):
                return _message(render, token, "页面已过期，请刷新页面后重新上传。", 403)
            upload_file = form.get("file")
            if not isinstance(upload_file, UploadFile) or not upload_file.filename:
                return _message(render, token, "请先选择要上传的报告文件。", 400)
            # the client's name is shown, never used as a path: the file goes to a name of ours
            name = file_component(one_line(Path(upload_file.filename.replace("\\", "/")).name))[:200]
            ext = Path(name).suffix.lower()
            tmpdir = e.data_dir / "uploads"
            tmpdir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=tmpdir, prefix=".up-", suffix=ext if ext in accepted_ext else "",
                                             delete=False) as out:
                size = 0
                while chunk := await upload_file.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        break
                    out.write(chunk)
                tmp = Path(out.name)
        finally:
            await form.close()
        try:
            if size > limit:
                return _message(render, token, f"文件超过{e.settings.max_file_mb:g}MB，未接收。", 413)
            if size == 0:
                return _message(render, token, "上传的文件是空的，请重新选择文件。", 400)
            if form.get("practice"):
                result = await asyncio.to_thread(pages.practice, e, a.cycle_id, a.body_id, tmp)
                page = await asyncio.to_thread(pages.body_page, e, a.cycle_id, a.body_id, e.today())
                return render("body.html", page=page, token=token, csrf=csrf_for(token), base=f"/b/{token}",
                              upload=True, practice=True, practice_name=name,
                              practice_verdict=result.verdict, practice_groups=pages.groups_of(result.findings))
            done = await asyncio.to_thread(pages.upload, e, a.cycle_id, a.body_id, tmp, name)
        except Refused as exc:
            return _message(render, token, exc.message, 409)
        finally:
            tmp.unlink(missing_ok=True)
        m = "same" if not done.created else "ok"
        return RedirectResponse(f"/b/{token}?v={done.submission.version}&m={m}", status_code=303)

    @app.get("/b/{token}/annotated/{submission_id}")
    async def annotated(request: Request, token: str, submission_id: int) -> Response:
        a = await access(request, token, office=False)
        if a is None:
            return await not_found(request)
        return await _annotated(a, submission_id)

    async def _annotated(a: links.Access, submission_id: int) -> Response:
        owner = await asyncio.to_thread(pages.owner_of, e, submission_id)
        if owner is None or owner[0] != a.cycle_id or (a.body_id is not None and owner[1] != a.body_id):
            return render("gone.html", status=404)
        path = await asyncio.to_thread(annotated_copy, e, submission_id)
        if path is None:
            return render("message.html", status=404, text="这一版没有可批注的问题，或不是 Word（.docx）文件。",
                          back=None)
        return _download(path, annotated_name(owner[2]))

    # ---- the office's page -----------------------------------------------------------------

    @app.get("/o/{token}", response_class=HTMLResponse)
    async def office_page(request: Request, token: str) -> HTMLResponse:
        a = await access(request, token, office=True)
        if a is None:
            return await not_found(request)
        page = await asyncio.to_thread(pages.office_page, e, a.cycle_id, e.today())
        return render("office.html", page=page, token=token, csrf=csrf_for(token), base=f"/o/{token}",
                      ui=(e.settings.prefect_ui_url or "").rstrip("/") or None,
                      notice=request.query_params.get("m"), result=None)

    @app.get("/o/{token}/b/{code}", response_class=HTMLResponse)
    async def office_body(request: Request, token: str, code: str, v: int | None = None) -> HTMLResponse:
        a = await access(request, token, office=True)
        if a is None:
            return await not_found(request)
        body_id = await asyncio.to_thread(pages.body_id_of, e, a.cycle_id, code)
        if body_id is None:
            return render("gone.html", status=404)
        page = await asyncio.to_thread(pages.body_page, e, a.cycle_id, body_id, e.today(), v)
        return render("body.html", page=page, token=token, csrf=csrf_for(token), base=f"/o/{token}/b/{quote(code)}",
                      office_base=f"/o/{token}", upload=False)

    @app.get("/o/{token}/annotated/{submission_id}")
    async def office_annotated(request: Request, token: str, submission_id: int) -> Response:
        a = await access(request, token, office=True)
        if a is None:
            return await not_found(request)
        return await _annotated(a, submission_id)

    @app.get("/o/{token}/file/{submission_id}")
    async def office_file(request: Request, token: str, submission_id: int) -> Response:
        """The file as it came (a held one, to see whose it is)."""
        a = await access(request, token, office=True)
        if a is None:
            return await not_found(request)
        found = await asyncio.to_thread(pages.stored_file, e, a.cycle_id, submission_id)
        if found is None:
            return render("gone.html", status=404)
        return _download(*found)

    @app.post("/o/{token}/assign", response_class=HTMLResponse)
    async def assign(request: Request, token: str) -> Response:
        a = await access(request, token, office=True)
        if a is None:
            return await not_found(request)
        form = await request.form(max_files=0, max_fields=5, max_part_size=4096)
        if not form_ok(request, token, form):
            return _office_message(render, token, "页面已过期，请刷新页面后重试。", 403)
        held, code = str(form.get("held") or ""), str(form.get("code") or "")
        if not held.isdigit() or not code:
            return _office_message(render, token, "请选择来件和单位。", 400)
        try:
            done = await asyncio.to_thread(pages.assign_held, e, a.cycle_id, int(held), code, "office-web")
        except Refused as exc:
            return _office_message(render, token, exc.message, 409)
        except LookupError:
            return _office_message(render, token, "名单中没有这个单位。", 400)
        return RedirectResponse(f"/o/{token}?m=assigned-{done.submission.version}", status_code=303)

    @app.post("/o/{token}/compile", response_class=HTMLResponse)
    async def compile_(request: Request, token: str) -> Response:
        a = await access(request, token, office=True)
        if a is None:
            return await not_found(request)
        form = await request.form(max_files=0, max_fields=5, max_part_size=8192)
        if not form_ok(request, token, form):
            return _office_message(render, token, "页面已过期，请刷新页面后重试。", 403)
        allow = bool(form.get("allow_missing"))
        reason = one_line(str(form.get("reason") or ""))[:500] or None
        compiled = await asyncio.to_thread(compile_county_report, e, a.county_code, a.year, allow_missing=allow,
                                           reason=reason, actor="office-web")
        page = await asyncio.to_thread(pages.office_page, e, a.cycle_id, e.today())
        return render("office.html", page=page, token=token, csrf=csrf_for(token), base=f"/o/{token}",
                      ui=(e.settings.prefect_ui_url or "").rstrip("/") or None, notice=None, result=compiled,
                      status=200 if compiled.compiled else 409)

    @app.get("/o/{token}/compiled/{index}")
    async def compiled_file(request: Request, token: str, index: int) -> Response:
        a = await access(request, token, office=True)
        if a is None:
            return await not_found(request)
        files = await asyncio.to_thread(pages.compiled_files, e, a.cycle_id)
        if not 0 <= index < len(files):
            return render("gone.html", status=404)
        return _download(files[index], files[index].name)

    @app.exception_handler(404)
    async def unknown(request: Request, exc: Exception) -> HTMLResponse:
        return render("gone.html", status=404)

    return app


def _message(render: Callable[..., HTMLResponse], token: str, text: str, status: int) -> HTMLResponse:
    return render("message.html", status=status, text=text, back=f"/b/{token}")


def _office_message(render: Callable[..., HTMLResponse], token: str, text: str, status: int) -> HTMLResponse:
    return render("message.html", status=status, text=text, back=f"/o/{token}")


def _download(path: Path, name: str) -> FileResponse:
    return FileResponse(path, filename=name, media_type="application/octet-stream")
