"""Write files so that a killed job never leaves one that looks finished.

An output ``DIR/NAME`` is written as ``DIR/.NAME.tmp-PID`` and renamed to ``DIR/NAME`` when
complete (a rename within one directory is atomic on POSIX file systems), so a reader sees
either the old file, the complete new one, or none.

What a killed writer leaves behind is removed as well:

- SIGTERM (what ``scancel``, Snakemake and ``mpirun`` send first): while a temporary file
  is open, a SIGTERM handler removes it and lets the process die of SIGTERM, as it would
  without the handler (same exit status). Over a Python handler installed before, that
  handler is called instead (if it raises, as most do, the temporary file is removed on the
  way out). The handler is installed only in the main thread, only while a file is being
  written, and never over a handler installed outside Python (by an MPI library, say) or an
  ignored SIGTERM; the temporary file is then removed by the next write, as after SIGKILL.
  A signal arriving during a long C call (HDF5 writing one dataset) is handled when that
  call returns.
- SIGKILL (nothing runs): the next write of the same output removes every
  ``.NAME.tmp-PID`` whose process is no longer running on this host.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

#: Temporary files being written by this process (removed by the SIGTERM handler).
_ACTIVE: set[Path] = set()
_LOCK = threading.Lock()
_PREVIOUS_HANDLER: Any = None
_INSTALLED = False


def temp_name(path: str | os.PathLike, pid: int | None = None) -> Path:
    """The temporary name under which ``path`` is written by process ``pid`` (default: this one)."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{os.getpid() if pid is None else pid}")


def pid_running(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): it exists
    # "pid (comm) S ...": the state follows the last ')' (comm may hold spaces and parentheses)
    return stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] != "Z"


def stale_temp_files(path: str | os.PathLike) -> list[Path]:
    """Temporary files of ``path`` left by writers that are no longer running (not ours)."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.tmp-(\d+)$")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return []
    stale = []
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None:
            continue
        pid = int(match.group(1))
        if pid != os.getpid() and not pid_running(pid):
            stale.append(path.parent / entry.name)
    return sorted(stale)


def remove_stale_temp_files(path: str | os.PathLike) -> list[Path]:
    """Remove what killed writers of ``path`` left behind (files or directories); return what was removed."""
    import shutil

    removed = []
    for stale in stale_temp_files(path):
        try:
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)  # an orphaned child of the killed writer may still be in it
            else:
                stale.unlink()
        except FileNotFoundError:
            continue  # another process cleaned it up first
        removed.append(stale)
    return removed


def _on_sigterm(signum: int, frame: Any) -> None:
    previous = _PREVIOUS_HANDLER
    if callable(previous):
        # a Python handler was there first: it decides (an exception it raises unwinds through
        # atomic_path, which then removes the temporary file; if it returns, the write goes on)
        previous(signum, frame)
        return
    for tmp in list(_ACTIVE):
        try:
            os.unlink(tmp)
        except OSError:
            pass
    _ACTIVE.clear()
    _uninstall()
    # default disposition: die of SIGTERM, exactly as without this handler
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install() -> None:
    global _PREVIOUS_HANDLER, _INSTALLED
    if _INSTALLED or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is None:
        return  # a handler installed outside Python (e.g. by an MPI library): leave it alone
    if previous == signal.SIG_IGN:
        return  # SIGTERM is ignored: nothing to clean up after
    if previous == signal.SIG_DFL and _foreign_sigterm_handler():
        return  # installed in C after Python started (MPI_Init, say): leave it alone
    signal.signal(signal.SIGTERM, _on_sigterm)
    _PREVIOUS_HANDLER, _INSTALLED = previous, True


def _foreign_sigterm_handler() -> bool:
    """Whether SIGTERM has a C-level handler that Python does not know of (Linux; else False)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        old = ctypes.create_string_buffer(512)  # struct sigaction; sa_handler is its first member
        if libc.sigaction(int(signal.SIGTERM), None, old) != 0:
            return False
        handler = ctypes.c_void_p.from_buffer(old).value
    except Exception:  # no libc via ctypes: assume none
        return False
    return handler not in (None, 0, 1)  # SIG_DFL, SIG_IGN


def _uninstall() -> None:
    global _PREVIOUS_HANDLER, _INSTALLED
    if not _INSTALLED or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is _on_sigterm:
        signal.signal(signal.SIGTERM, _PREVIOUS_HANDLER)
    _PREVIOUS_HANDLER, _INSTALLED = None, False


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary name beside ``path``; rename it to ``path`` only if the block succeeds.

    Temporary files of ``path`` left by writers that were killed are removed first. An
    ``OSError`` without a file name (a full disk seen by ``write()``, say) is re-raised
    naming ``path``.

    Example::

        with atomic_path("out/rates.csv") as tmp:
            tmp.write_text(table)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path)
    tmp = temp_name(path)
    with _LOCK:
        _ACTIVE.add(tmp)
        _install()
    try:
        try:
            yield tmp
            os.replace(tmp, path)
        except OSError as err:
            if err.filename is not None:
                raise
            raise OSError(err.errno, _reason(err), str(path)) from err
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass  # renamed (the usual case) or never created
        with _LOCK:
            _ACTIVE.discard(tmp)
            if not _ACTIVE:
                _uninstall()


def _reason(err: OSError) -> str:
    """The short reason of an OSError (HDF5's long messages reduced to their ``error message``)."""
    if err.strerror:
        return err.strerror
    if err.errno:
        return os.strerror(err.errno)
    text = str(err)
    match = re.search(r"error message = '([^']+)'", text)
    if match:
        return match.group(1)
    return text.split("\n")[0]


def os_error_sentence(err: OSError) -> str:
    """One sentence for an OSError: the path it concerns and why (``DIR/rates.csv: No space left on device``)."""
    reason = _reason(err)
    if err.filename is None:
        return reason
    if err.filename2 is not None:
        return f"{err.filename} -> {err.filename2}: {reason}"
    return f"{err.filename}: {reason}"
