"""What a registry landing folder holds, every entry of it accounted for, in the order it arrived.

Ingestion records every entry: a registry file is read; anything else — a symbolic link (never followed: it
could point anywhere on the machine), a folder, a pipe, a hidden file, an Office lock file — is recorded as
rejected with its reason and never opened. The one thing passed by is in IGNORED_SUFFIXES: crawler sidecars
(`*.meta.json`), which describe a file and are read with it.

Arrival order decides which of two files for the same region and month is the later re-send: a file arrives
when it is placed in the folder, which sets its inode change time (ctime; copying or moving a file in sets it,
tools that preserve modification times do not touch it). Files are taken by region and month (as their names
sort), then arrival, then name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from pathlib import Path

from shegong.ingest.pii import scrub_identifiers
from shegong.ingest.reading import FileRejected, file_digest, period_of

IGNORED_SUFFIXES = (".meta.json",)


def landing_files(folder: Path) -> list[Path]:
    """Every entry of a landing folder ingestion accounts for, in arrival order."""
    if not folder.is_dir():
        return []
    entries = []
    for path in folder.iterdir():
        if path.name.lower().endswith(IGNORED_SUFFIXES):
            continue
        try:
            entries.append((arrival_key(path), path))
        except FileNotFoundError:  # removed while listing
            continue
    return [path for _, path in sorted(entries)]


def arrival_key(path: Path) -> tuple:
    try:
        region, month = period_of(path)
    except FileRejected:
        region, month = "", dt.date.min
    return region, month, path.lstat().st_ctime_ns, path.name


def entry_problem(path: Path) -> tuple[str, str] | None:
    """(reason, what to do) when a landing entry is not a file ingestion may open; None for a regular file."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return (
            f"a symbolic link (to {target}), never followed",
            "copy the file itself into the landing folder",
        )
    if stat.S_ISDIR(mode):
        return "a folder inside the landing folder", "land registry files directly in the registry's folder"
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device)", "land regular files only"
    if path.name.startswith("."):
        return (
            "a hidden file (its name starts with '.')",
            "rename it without the leading dot if it is a registry file, otherwise remove it",
        )
    if path.name.startswith("~$"):
        return (
            "an Office lock file (~$…), left by a workbook open in Excel/WPS",
            "close the workbook and remove the lock file",
        )
    return None


def unexpected_failure(path: Path, exc: BaseException, step: str = "reading") -> str:
    """One line for a file whose reader (or loader) failed in a way no check foresaw: the file is rejected with
    it, identifiers masked, and the other files go on."""
    first_line = (str(exc).strip().splitlines() or [""])[0][:200]
    return scrub_identifiers(
        f"{path.name}: {step} failed ({type(exc).__name__}: {first_line}) — the file is set aside; "
        "report it with the file"
    )


def entry_digest(path: Path) -> tuple[str, int]:
    """(sha256, size) of a landing entry: a regular file's content; for anything else, what it is (a link's
    target), which is never opened."""
    if entry_problem(path) is None:
        return file_digest(path)
    info = path.lstat()
    described = f"{stat.filemode(info.st_mode)}:{path.name}"
    if stat.S_ISLNK(info.st_mode):
        described += f"->{os.readlink(path)}"
    return hashlib.sha256(described.encode("utf-8", "surrogateescape")).hexdigest(), info.st_size
