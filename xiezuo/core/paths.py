"""Paths given on the command line, read against the folder the user ran the command from.

``bin/xiezuo`` changes to the repository root before it starts Python (the venv and the lock
files live there) and exports the user's folder as ``XIEZUO_CWD``: a relative ``FILE`` or
``--out F`` means a file where the user is, not one in the repository or the data directory.
"""

from __future__ import annotations

import os
from pathlib import Path

CWD_VARIABLE = "XIEZUO_CWD"


def user_path(value: str | os.PathLike[str]) -> Path:
    """``value`` as an absolute path, relative ones against the user's folder (argparse ``type``)."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    return Path(os.environ.get(CWD_VARIABLE) or os.getcwd()) / path
