"""Web addresses for what archives name otherwise: MAST's `mast:` URIs (in `url` and in a
product's `jpegURL` preview) become links to MAST's file download service, and a product's
preview image is found where its archive puts one (MAST `jpegURL`, EPN-TAP `thumbnail_url`).

The download address follows MAST's API (`{base}/api/v0.1/Download/file?uri=mast:...`, as
astroquery's `MAST_DOWNLOAD_URL` builds it), on the base URL of the source that harvested the
product, so a mirror or the sandbox serves its own files.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

MAST_DEFAULT_BASE = "https://mast.stsci.edu"
# Where each archive's raw record names a preview image (kept in the product's `extra`).
PREVIEW_KEYS = ("jpegURL", "thumbnail_url")


class Links:
    """Turns archive URIs into web addresses, with the configured MAST base URLs."""

    def __init__(self, mast_bases: dict[str, str] | None = None) -> None:
        self.mast_bases = {k: v.rstrip("/") for k, v in (mast_bases or {}).items()}
        self.default_mast = next(iter(self.mast_bases.values()), MAST_DEFAULT_BASE)

    @classmethod
    def from_config(cls, config: Any) -> Links:
        """From a harvester Config: every source of kind `mast`, by source name."""
        sources = getattr(config, "sources", None) or {}
        return cls({name: s.base_url for name, s in sources.items()
                    if getattr(s, "kind", None) == "mast" and getattr(s, "base_url", None)})

    def web(self, url: str | None, source: str | None = None) -> str | None:
        """A browser can open it: http(s) as is, a `mast:` URI through MAST's download
        service; anything else (an FTP path, a bare file name) is no link."""
        if not url or not isinstance(url, str):
            return None
        if url.startswith(("http://", "https://")):
            return url
        if url.startswith("mast:"):
            base = self.mast_bases.get(source or "", self.default_mast)
            return f"{base}/api/v0.1/Download/file?uri={quote(url, safe=':/')}"
        return None

    def preview(self, extra: Any, source: str | None = None) -> str | None:
        """The product's preview image, if its archive gave one."""
        if isinstance(extra, str):
            try:
                extra = json.loads(extra)
            except json.JSONDecodeError:
                return None
        if not isinstance(extra, dict):
            return None
        for key in PREVIEW_KEYS:
            link = self.web(extra.get(key), source)
            if link:
                return link
        return None
