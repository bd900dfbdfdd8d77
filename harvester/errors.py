"""The one error hierarchy. Library code raises these; only the CLI turns them into messages."""

from __future__ import annotations


class HarvesterError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(HarvesterError):
    """A configuration file or option is wrong. The message names the file, the key and the problem."""


class CatalogError(HarvesterError):
    """The catalog cannot be opened, migrated or queried as asked."""


class CatalogDamagedError(CatalogError):
    """The catalog file is corrupt (SQLITE_CORRUPT, SQLITE_NOTADB). Nothing more is written to
    it; the message says how to recover."""


class CatalogWriteError(CatalogError):
    """The catalog could not be written: the disk is full, an I/O error, a read-only file. The
    transaction in flight was rolled back; nothing else changed."""


class ReadOnlyQueryError(CatalogError):
    """A user query tried to write to the catalog."""


class QueryLimitError(ReadOnlyQueryError):
    """A user's SQL (a query, a predicate) ran past its time or memory bound and was stopped."""


class LockBusyError(HarvesterError):
    """Another harvest holds the catalog's lock."""


class HTTPError(HarvesterError):
    """An archive could not be reached or answered badly, after retries where retrying made sense."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class RetriableHTTPError(HTTPError):
    """Worth another try: 5xx, timeouts, dropped connections, a garbled body."""


class RateLimitedError(RetriableHTTPError):
    """HTTP 429; `retry_after` is what the server asked us to wait, in seconds, if it said."""

    def __init__(self, message: str, *, url: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, url=url, status=429)
        self.retry_after = retry_after


class FatalHTTPError(HTTPError):
    """Retrying will not help: 4xx other than 429, a response over the size cap."""


class SourceError(HarvesterError):
    """An archive answered in a way the adapter cannot use (changed protocol, error envelope)."""


class RecordRejected(HarvesterError):
    """One raw record cannot be normalized; it goes to `rejects` and the run goes on."""
