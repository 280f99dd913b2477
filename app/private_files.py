"""Files only the line's own user may read: folders 0700, files 0600 from the moment they exist.

instance/ holds development secrets, the SQLite database and the local Redis. A file created
with the usual umask is world-readable until a chmod after it; these helpers pass the mode
to the system call that creates it instead.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077  # for a process the line starts that creates files of its own (redis-server)


def private_folder(path: str | Path) -> Path:
    """Create the folder (and its parents) if need be; make it the owner's alone."""
    folder = Path(path)
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(folder, FOLDER_MODE)  # an older one may have been made with a looser mode
    return folder


def open_private(path: str | Path, flags: int = os.O_WRONLY | os.O_CREAT) -> int:
    """Open (creating it 0600 if need be) a file of the owner's alone; return its descriptor."""
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # one that existed before keeps its mode through os.open
    return fd


def touch_private(path: str | Path) -> None:
    """Make sure the file exists, readable by its owner alone.

    A file that exists is not opened: closing any descriptor of a file drops every POSIX
    lock this process holds on it, SQLite's among them (a connection of this process would
    then look closed to the others, and one could reset the WAL index under it).
    """
    try:
        os.close(open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        os.chmod(path, FILE_MODE)


def write_private(path: str | Path, text: str) -> None:
    """Replace the file's content with `text` atomically; it is 0600 throughout."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()  # left by a crash, perhaps with another mode
    with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "w") as out:
        out.write(text)
    tmp.replace(target)
