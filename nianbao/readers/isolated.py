"""Every read in a child process with a hard memory and wall-time limit.

A hostile file (a PDF whose page inflates to gigabytes, a .docx whose XML takes minutes) must
cost a refusal, not the service's memory or its afternoon. The readers' own checks (objects,
inflated streams, zip parts, relationships, cells) stop the known shapes before any parser runs;
this bounds whatever gets past them. The reader runs in a child process with RLIMIT_AS
(`Limits.max_read_memory`), a wall-clock alarm (`max_read_seconds`, SIGALRM: the kernel ends the
process even inside C code) and a CPU limit; a MemoryError, a timeout or a killed child becomes
file.too_complex. The parent kills the child's process group should the alarm not do it.

The children are forked from one helper process per parent process, a small fork server started
once with `python -c` that has the readers and their libraries imported: forking a process with
threads (Prefect runs some) is unsafe, forking a single-threaded one with everything imported
costs milliseconds, and no `__main__` of the parent is re-imported (multiprocessing's
forkserver would run a Prefect worker's or pytest's main module again in every child). The
helper exits when its parent does (its request pipe closes).

Per read (pipes and a FIFO, no sockets): the parent makes a FIFO in a private temporary folder
and opens it for reading, then writes the request (that FIFO, the reader, the path, the limits,
its environment and working directory) to the helper's request pipe; the helper forks a child,
which opens the FIFO for writing, sends its pid, reads, and sends back the Document or the
exception (pickled; a ReadError keeps its rule, message and values) with its peak RSS. End of
file without a reply: the child died (its alarm, a memory kill, a crash). The helper's
liveness pipe tells the parent should the helper itself die.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import math
import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from nianbao.document import Document
from nianbao.readers import Limits, ReadError, num, read_with

log = logging.getLogger(__name__)

# what the helper imports before it forks anything (python-docx, pdfplumber and lxml cost ~0.3 s)
PRELOAD = ("nianbao.readers.docx", "nianbao.readers.pdf", "nianbao.readers.txt", "nianbao.readers.html",
           "nianbao.readers.doc", "nianbao.readers.markup", "docx", "docx.opc.exceptions", "pdfplumber",
           "pypdfium2",  # the PDF fast path's (nianbao/readers/pdfium.py): ~30 ms a read otherwise
           "pdfminer.lzw", "pdfminer.ascii85", "pdfminer.runlength", "lxml.etree", "lxml.html",
           "email", "email.policy", "email.errors")
_GRACE = 5.0  # the parent's own deadline past the child's alarm
_START_TIMEOUT = 60.0
_FRAME = struct.Struct("!Q")
_IN_CHILD = False


@dataclass
class ReadStats:
    """The last isolated read of this thread: for the logs, benchmarks and tests."""

    outcome: str  # "ok" | "error" | "memory" | "time" | "crashed" | "inline"
    seconds: float
    peak_rss_kb: int | None  # the child's peak resident set (None: it died before telling)
    pid: int | None


_last = threading.local()


def last_read() -> ReadStats | None:
    return getattr(_last, "stats", None)


def _ocr_seconds(limits: Limits) -> float:
    return limits.max_ocr_seconds + _GRACE if limits.ocr else 0.0


def _ocr_memory(limits: Limits) -> int:
    return limits.max_ocr_memory if limits.ocr else 0


def allow_ocr(limits: Limits) -> None:
    """A reader about to OCR a scan, in the child: its wall time, CPU and address space grow to
    the OCR limits (the parent's deadline allows for it). Outside a child there is nothing to raise."""
    if not _IN_CHILD or not limits.ocr:
        return
    if limits.max_read_memory:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (max(1, hard - 1), hard))
    signal.setitimer(signal.ITIMER_REAL, _ocr_seconds(limits))


def too_complex(reason: str, limits: Limits, seconds: float) -> ReadError:
    if reason == "time":
        what, values = f"读取超过 {num(seconds)} 秒仍未完成", {"limit_s": seconds}
    elif reason == "memory":
        mb = limits.max_read_memory / 1048576
        what, values = f"读取所需内存超过 {num(mb)} MB", {"limit_mb": mb}
    else:
        what, values = "读取过程意外中止", {}
    return ReadError("file.too_complex",
                     f"文件结构过于复杂或异常（{what}），系统在限定的时间和内存内无法读取，可能是文件损坏或经过特殊处理。"
                     "请用 Word 或 WPS 打开报告，“另存为”.docx（或重新导出 PDF）后再提交；仍不行请联系县政务公开办。",
                     reason=reason, **values)


def read_isolated(target: str, path: Path, limits: Limits, seconds: float) -> Document:
    """`readers.read_with(target, path, limits)` in a child process, within `limits.max_read_memory`
    and `seconds` of wall time."""
    if _IN_CHILD:
        return read_with(target, path, limits)
    request = (target, str(Path(path).absolute()), limits, seconds, dict(os.environ), os.getcwd())
    for attempt in range(2):
        server = _server()
        if server is None:  # no fork server here (not POSIX, or it would not start): read as before
            _last.stats = ReadStats("inline", 0.0, None, None)
            return read_with(target, path, limits)
        with tempfile.TemporaryDirectory(prefix="nianbao-read-") as tmp:
            fifo = os.path.join(tmp, "reply")
            os.mkfifo(fifo, 0o600)
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # no writer yet: returns at once
            try:
                start = time.monotonic()
                server.hand(pickle.dumps((fifo, *request)))
                return _exchange(fd, server, limits, seconds, start)
            except _ServerGone:
                server.stop()
                if attempt:
                    raise OSError("the reader fork server went away") from None
            finally:
                os.close(fd)
    raise AssertionError("unreachable")


class _ServerGone(Exception):
    pass


class _Timeout(Exception):
    pass


class _Reply:
    """The frames coming through the FIFO: the child's pid, then its reply."""

    def __init__(self, fd: int, server: _Server, deadline: float) -> None:
        self.fd, self.server, self.deadline = fd, server, deadline
        self.buf = bytearray()
        self.connected = False
        self.poll = select.poll()
        self.poll.register(fd, select.POLLIN)
        self.poll.register(server.alive_fd, select.POLLIN)

    def frame(self, most: int) -> bytes:
        while True:
            if len(self.buf) >= _FRAME.size:
                (n,) = _FRAME.unpack_from(self.buf)
                if n > most:
                    raise EOFError(f"a reply of {n} bytes")
                if len(self.buf) >= _FRAME.size + n:
                    data = bytes(self.buf[_FRAME.size:_FRAME.size + n])
                    del self.buf[:_FRAME.size + n]
                    return data
            self._more()

    def _more(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Timeout
        events = dict(self.poll.poll(min(left, 0.05 if not self.connected else left) * 1000))
        if self.server.alive_fd in events:
            if not self.connected:
                raise _ServerGone  # the helper died before it forked
            self.poll.unregister(self.server.alive_fd)  # the child carries on without it
        if self.fd not in events:
            return
        try:
            data = os.read(self.fd, 1 << 22)
        except BlockingIOError:
            return
        if data:
            self.connected = True
            self.buf += data
        elif self.connected:
            raise EOFError  # the child has gone
        else:  # no writer yet (a FIFO may say so before the child opens it)
            time.sleep(0.002)


def _exchange(fd: int, server: _Server, limits: Limits, seconds: float, start: float) -> Document:
    # a scan's OCR may extend the child's alarm by max_ocr_seconds (allow_ocr)
    reply_in = _Reply(fd, server, start + seconds + _ocr_seconds(limits) + _GRACE)
    pid: int | None = None
    try:
        pid = int(pickle.loads(reply_in.frame(64)))
        try:
            reply = pickle.loads(reply_in.frame(max(limits.max_read_memory, 1 << 28)))
        except EOFError:  # the child died: its alarm, the kernel's memory killer, a crash
            elapsed = time.monotonic() - start
            reason = "time" if elapsed >= seconds - 0.05 else "crashed"
            _kill(pid)
            _last.stats = ReadStats(reason, elapsed, None, pid)
            raise too_complex(reason, limits, seconds) from None
    except _Timeout:
        peak = peak_kb(pid)
        _kill(pid)
        _last.stats = ReadStats("time", time.monotonic() - start, peak, pid)
        raise too_complex("time", limits, seconds) from None
    except EOFError:  # before the pid: the helper forked and the child died at once
        raise _ServerGone from None
    except (ReadError, _ServerGone):
        raise
    except BaseException:  # KeyboardInterrupt, a broken reply: the child goes with it
        _kill(pid)
        raise
    status, payload, peak = reply
    _last.stats = ReadStats(status, time.monotonic() - start, peak, pid)
    if status == "ok":
        return payload
    if status == "memory":
        raise too_complex("memory", limits, seconds)
    raise payload


def _kill(pid: int | None) -> None:
    if pid is None:
        return
    for kill in (os.killpg, os.kill):  # the child leads its own process group (LibreOffice with it)
        try:
            kill(pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            continue


def peak_kb(pid: int | None) -> int | None:
    """A process's peak resident memory (VmHWM), in KiB; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _write(fd: int, data: bytes) -> None:
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_frame(fh, most: int) -> bytes:
    head = fh.read(_FRAME.size)
    if len(head) < _FRAME.size:
        raise EOFError
    (n,) = _FRAME.unpack(head)
    data = fh.read(n) if n <= most else b""
    if len(data) < n or n > most:
        raise EOFError
    return data


# ---- the fork server ---------------------------------------------------------------------------


class _Server:
    def __init__(self) -> None:
        req_r, req_w = os.pipe()  # requests, parent → helper; closed: the helper ends
        alive_r, alive_w = os.pipe()  # helper → parent: "ready", then end of file should it die
        code = ("import sys, json; sys.path[:] = json.loads(sys.argv[3]); "
                "from nianbao.readers.isolated import _serve; _serve(int(sys.argv[1]), int(sys.argv[2]))")
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", code, str(req_r), str(alive_w), json.dumps(sys.path)],
                                         pass_fds=(req_r, alive_w), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL)
        except BaseException:
            for fd in (req_w, alive_r):
                os.close(fd)
            raise
        finally:
            os.close(req_r)
            os.close(alive_w)
        self.req_fd, self.alive_fd = req_w, alive_r
        self.owner = os.getpid()
        self.lock = threading.Lock()
        ready, _, _ = select.select([alive_r], [], [], _START_TIMEOUT)
        if not ready or os.read(alive_r, 5) != b"ready":
            self.stop()
            raise OSError("the reader fork server did not start")

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.proc.poll() is None

    def hand(self, request: bytes) -> None:
        try:
            with self.lock:  # one frame at a time (threads)
                _write(self.req_fd, request)
        except OSError as exc:
            raise _ServerGone from exc

    def stop(self) -> None:
        if self.owner != os.getpid():
            return  # a forked copy of the parent: the helper is its parent's
        for fd in (self.req_fd, self.alive_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_server_lock = threading.Lock()
_current: _Server | None = None
_broken = False


def _server() -> _Server | None:
    global _current, _broken
    with _server_lock:
        if _current is not None and _current.alive():
            return _current
        if _broken or not hasattr(os, "fork") or not hasattr(os, "mkfifo") or not hasattr(select, "poll"):
            return None
        try:
            _current = _Server()
        except OSError:
            log.exception("isolated reads unavailable: reading in this process, without memory and time limits")
            _broken = True
            return None
        return _current


def stop_server() -> None:
    """End this process's fork server (a new one starts with the next read)."""
    global _current
    with _server_lock:
        if _current is not None:
            _current.stop()
            _current = None


def _at_exit() -> None:
    if _current is not None:
        _current.stop()


atexit.register(_at_exit)


def _serve(req_fd: int, alive_fd: int) -> None:
    """The helper's loop: one fork per request."""
    import importlib

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    _warm_up()
    # what the helper holds now is never collected: the children's collector then leaves those pages
    # alone, and fewer of them are copied on write (a .docx read: 4,800 page faults → 2,200, −40 % time)
    gc.freeze()
    os.write(alive_fd, b"ready")
    requests = os.fdopen(req_fd, "rb")
    while True:
        try:
            request = _read_frame(requests, 1 << 26)
        except (EOFError, OSError):
            break  # the parent is gone
        pid = os.fork()
        if pid == 0:
            try:
                requests.close()
                os.close(alive_fd)
                _child(request)
            finally:
                os._exit(0)


def _warm_up() -> None:
    """One read of each main kind in the helper, so that what the libraries set up on their first
    file (lazy imports, caches) is done once here and not in every child."""
    import tempfile

    import docx

    with tempfile.TemporaryDirectory(prefix="nianbao-warm-") as tmp:
        pdf = Path(tmp) / "warm.pdf"
        pdf.write_bytes(tiny_pdf(b"BT /F1 12 Tf 72 720 Td (warm up) Tj ET"))
        for target, path in (("nianbao.readers.docx:read_docx", Path(docx.__file__).parent / "templates" / "default.docx"),
                             ("nianbao.readers.pdf:read_pdf", pdf)):
            try:
                read_with(target, path, Limits(isolate=False))
            except Exception:  # noqa: BLE001, S110 - an empty document is refused; warm all the same
                pass


def tiny_pdf(content: bytes, *, compress: bool = False) -> bytes:
    """A valid one-page PDF (Helvetica) with this page content stream."""
    import zlib

    data = zlib.compress(content) if compress else content
    flate = b" /Filter /FlateDecode" if compress else b""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d%s >>\nstream\n" % (len(data), flate) + data + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _child(request: bytes) -> None:
    global _IN_CHILD
    _IN_CHILD = True
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # subprocess (LibreOffice) waits for its own
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setsid()  # a process group the parent can kill whole
    fifo, target, path, limits, seconds, env, cwd = pickle.loads(request)
    try:
        out = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # the parent holds it open for reading
    except OSError:
        return  # the parent gave up before the child started
    os.set_blocking(out, True)
    _write(out, pickle.dumps(os.getpid()))
    os.environ.clear()
    os.environ.update(env)
    try:
        os.chdir(cwd)
    except OSError:
        pass
    # the hard limits leave room for a scan's OCR, which raises the soft ones when it starts
    if limits.max_read_memory:
        resource.setrlimit(resource.RLIMIT_AS, (limits.max_read_memory, max(limits.max_read_memory, _ocr_memory(limits))))
    cpu = math.ceil(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, max(cpu + 1, math.ceil(_ocr_seconds(limits) * (os.cpu_count() or 1)) + cpu)))
    signal.setitimer(signal.ITIMER_REAL, seconds)  # SIGALRM's default action ends the process
    reply = _run(target, Path(path), limits)
    signal.setitimer(signal.ITIMER_REAL, 0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        data = pickle.dumps((*reply, peak))
    except MemoryError:
        data = pickle.dumps(("memory", None, peak))
    except Exception as exc:  # an exception that does not pickle
        data = pickle.dumps(("crashed", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]} ({exc})"), peak))
    try:
        _write(out, data)
    except OSError:
        pass  # the parent has stopped waiting


def _run(target: str, path: Path, limits: Limits) -> tuple[str, object]:
    try:
        return "ok", read_with(target, path, limits)
    except MemoryError:
        return "memory", None
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        if _out_of_memory(exc) or _near_limit(max(0, resource.getrlimit(resource.RLIMIT_AS)[0])):
            return "memory", None
        if isinstance(exc, ReadError):
            return "error", exc
        exc.add_note("in the isolated reader:\n" + "".join(traceback.format_exception(exc)))
        return "crashed", exc


def _near_limit(limit: int) -> bool:
    """Whether the address space came within 64 MB of the limit: what failed then is most likely
    an allocation, whatever the library made of it (pdfminer under pressure: "SystemError: error
    return without exception set")."""
    try:
        with open("/proc/self/status") as fh:
            peak = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmPeak:"))
    except (OSError, StopIteration, ValueError):
        return False
    return bool(limit) and peak >= limit - (64 << 20)


def _out_of_memory(exc: BaseException | None) -> bool:
    """A MemoryError somewhere in the chain (a reader turned it into "corrupt"), or a library's
    own words for it (lxml: "Memory allocation failed", zlib: "insufficient memory")."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, MemoryError) or "memory" in str(exc).lower() and not isinstance(exc, ReadError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
