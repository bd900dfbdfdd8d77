"""The catalog: one SQLite file of products, events, runs, cursors and rejects.

The catalog knows nothing of HTTP or archives; it stores what the engine hands it, one page
per transaction.
"""

from catalog.db import Catalog, open_readonly

__all__ = ["Catalog", "open_readonly"]
