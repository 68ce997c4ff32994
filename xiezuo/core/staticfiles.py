"""The static files storage (ADR 0017): WhiteNoise's hashed, compressed files after collectstatic.

``xiezuo manage collectstatic`` copies the assets (ours and those from node_modules) to
``STATIC_ROOT`` under names that carry a hash of their content, with gzip copies beside them, and
writes a manifest; pages then link the hashed names, which WhiteNoise serves with a cache lifetime
of ten years. Before collectstatic has run (development, the browser tests' live server, whose
``runserver --insecure`` serves the assets from their folders), pages link the plain names instead
of failing.
"""

from __future__ import annotations

import warnings
from typing import Any

from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:
            # not collected yet: the plain name, which runserver and WhiteNoise's finders serve
            return name

    def has_manifest(self) -> bool:
        """Whether collectstatic has run into STATIC_ROOT (check-deploy asks)."""
        return bool(self.exists(self.manifest_name))


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, without its warning when STATIC_ROOT does not exist yet (development, tests,
    before collectstatic): `xiezuo check-deploy` reports that where it matters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No directory at: ")
            super().__init__(*args, **kwargs)
