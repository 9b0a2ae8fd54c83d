"""LibreOffice headless conversions (.doc/.wps → .docx, .docx → .pdf), batched: one soffice
start costs ~1.2 s, so many files go in one call.

The files converted come from outside (a township's upload), so soffice runs boxed in:
- no network: on Linux in a new, empty network namespace (`unshare --net`, or as an unprivileged
  user `unshare --user --map-root-user --net`), only a loopback that is down — a linked image or
  a field pointing at a URL cannot reach anything, inside the county's network or out;
- a private, throwaway profile per call, seeded with settings that block linked images from
  untrusted documents, never update links or fields on loading and disable macros;
- a timeout kills the whole process tree (soffice → oosplash → soffice.bin)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# org.openoffice.Office.* items (officecfg schema, checked against LibreOffice 7.4's main.xcd).
# Writer's Update/Link: 0 never, 1 on request, 2 always (sw linkenum.hxx); Calc's: 0 always,
# 1 never, 2 on request (ScLkUpdMode).
PROFILE_SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "0"),
    ("/org.openoffice.Office.Writer/Content/Update", "Field", "false"),
    ("/org.openoffice.Office.Calc/Content/Update", "Link", "1"),
)

_SANDBOXES: tuple[tuple[str, ...], ...] = (
    ("unshare", "--net"),  # root (CI, the service's container)
    ("unshare", "--user", "--map-root-user", "--net"),  # anyone, where user namespaces are allowed
)
_sandbox: list[str] | None = None
_sandbox_lock = threading.Lock()


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


class ConversionError(RuntimeError):
    pass


def net_sandbox() -> list[str]:
    """The command prefix that runs a program without network, found once per process; [] (and one
    warning in the log) where none works."""
    global _sandbox
    with _sandbox_lock:
        if _sandbox is None:
            _sandbox = _find_sandbox()
            if not _sandbox:
                log.warning("LibreOffice runs WITH network access: no network namespace available "
                            "(unshare --net needs root or unprivileged user namespaces)")
        return list(_sandbox)


def _find_sandbox() -> list[str]:
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return []
    true = shutil.which("true") or "/bin/true"
    for prefix in _SANDBOXES:
        if prefix == _SANDBOXES[0] and os.geteuid() != 0:
            continue
        try:
            ok = subprocess.run([*prefix, true], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return list(prefix)
    return []


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


def write_profile(profile: Path) -> None:
    """Seed a fresh profile's registrymodifications.xcu with PROFILE_SETTINGS."""
    items = "".join(f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>\n'
                    for path, name, value in PROFILE_SETTINGS)
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' + items + "</oor:items>\n", encoding="utf-8")


def command(exe: str, profile: Path, paths: list[Path], fmt: str, outdir: Path) -> list[str]:
    return [*net_sandbox(), exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
            "--nologo", "--nodefault", "--nolockcheck",
            "--convert-to", fmt, "--outdir", str(outdir), *map(str, paths)]


def _run(exe: str, paths: list[Path], fmt: str, outdir: Path, timeout: float) -> None:
    # a private profile: concurrent conversions must not share (and lock) one
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        profile = Path(tmp)
        write_profile(profile)
        env = {**os.environ, "HOME": tmp}
        # a session of its own: on a timeout the whole tree goes (soffice.bin is a grandchild)
        proc = subprocess.Popen(command(exe, profile, paths, fmt, outdir), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
        try:
            proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(proc)
            raise ConversionError(f"LibreOffice timed out after {timeout:.0f} s") from exc
        except BaseException:
            _kill_group(proc)
            raise


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # a pipe held by something that left the group: stop waiting
        proc.kill()
        proc.wait()
