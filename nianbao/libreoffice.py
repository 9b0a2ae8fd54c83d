"""LibreOffice headless conversions (.doc/.wps → .docx, .docx → .pdf), batched: one soffice
start costs ~1.2 s, so many files go in one call."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


class ConversionError(RuntimeError):
    pass


def convert(paths: list[Path], fmt: str, outdir: Path, timeout: float = 300.0, jobs: int | None = None) -> list[Path]:
    """Convert files with LibreOffice; returns the output paths (same stem, new extension).

    Many files are split over one soffice process per core."""
    exe = soffice()
    if exe is None:
        raise ConversionError("soffice not found")
    outdir.mkdir(parents=True, exist_ok=True)
    if not paths:
        return []
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths) // 8 or 1))
    if jobs > 1:
        from concurrent.futures import ThreadPoolExecutor

        chunks = [paths[i::jobs] for i in range(jobs)]
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(lambda c: _run(exe, c, fmt, outdir, timeout), chunks))
    else:
        _run(exe, paths, fmt, outdir, timeout)
    ext = "." + fmt.split(":")[0]
    outs = [outdir / (Path(p).stem + ext) for p in paths]
    missing = [o for o in outs if not o.exists()]
    if missing:
        raise ConversionError(f"LibreOffice did not produce {', '.join(o.name for o in missing)}")
    return outs


def _run(exe: str, paths: list[Path], fmt: str, outdir: Path, timeout: float) -> None:
    # a private profile: concurrent conversions must not share (and lock) one
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as profile:
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", str(outdir), *map(str, paths)]
        env = {**os.environ, "HOME": profile}
        try:
            subprocess.run(cmd, check=False, timeout=timeout, capture_output=True, env=env)
        except subprocess.TimeoutExpired as exc:
            raise ConversionError(f"LibreOffice timed out after {timeout:.0f} s") from exc
