"""The only place that speaks HTTP: one session per run, timeouts, retries, rate limits, caps.

Retries (tenacity): connection errors, timeouts, 429 and 5xx, and bodies that are not the JSON
that was asked for (an HTML error page sent with status 200, a truncated answer), with
exponential backoff and jitter, honouring Retry-After. Every attempt is counted, so a run
record says how many requests it really made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlparse

from harvester import jsontext
from harvester.errors import (
    FatalHTTPError,
    RateLimitedError,
    RetriableHTTPError,
)
from harvester.settings import HttpSettings

log = logging.getLogger("harvester.http")


@dataclass
class Response:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        content_type = self.headers.get("content-type", "").lower()
        head = self.body[:200].lstrip().lower()
        if "html" in content_type or head.startswith(b"<!doctype html") or head.startswith(b"<html"):
            raise RetriableHTTPError(
                f"expected JSON from {self.url}, got an HTML page (status {self.status})",
                url=self.url, status=self.status,
            )
        try:
            return jsontext.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RetriableHTTPError(
                f"invalid or truncated JSON from {self.url} ({len(self.body)} bytes): {exc}",
                url=self.url, status=self.status,
            ) from None


@dataclass
class JsonAnswer:
    """What fetch_json got: the response, its parsed JSON (None when unchanged), the body's
    SHA-256 (None on a 304) and whether the server or the hash said nothing changed."""

    response: Response
    data: Any
    body_hash: str | None
    unchanged: bool


class RateLimiter:
    """Spaces requests at least 1/rate seconds apart, across threads. A rate set for a source's
    base URL governs the requests under that URL alone (two archives behind one host, as on
    the sandbox, keep their own limits); any other request is spaced per host at the default."""

    def __init__(self, default_rate: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.default_rate = default_rate
        self._rates: dict[str, float] = {}
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        self._sleep = sleep

    def set_rate(self, base_url: str, rate: float) -> None:
        self._rates[_limit_key(base_url)] = rate

    def key_of(self, url: str) -> str:
        """The most specific base URL with a rate of its own that `url` falls under, else its host."""
        key = _limit_key(url)
        best = ""
        for prefix in self._rates:
            if (key == prefix or key.startswith(prefix.rstrip("/") + "/")) and len(prefix) > len(best):
                best = prefix
        return best or urlparse(url).netloc or url

    def wait(self, url: str) -> None:
        key = self.key_of(url)
        rate = self._rates.get(key, self.default_rate)
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(key, now))
            self._next[key] = start + 1.0 / rate
        if start > now:
            self._sleep(start - now)


def _limit_key(url: str) -> str:
    """host + path of a URL (no scheme, query or trailing slash): what a base URL covers."""
    parts = urlparse(url if "//" in url else "//" + url)
    return (parts.netloc + parts.path).rstrip("/")


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class HttpClient:
    """One requests.Session for a run, shared by every source in it."""

    def __init__(self, settings: HttpSettings) -> None:
        import requests  # lazy: `harvester --help` must not pay for it

        self.settings = settings
        self._requests = requests
        self.session = requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self.limiter = RateLimiter(settings.rate_limit)
        self.requests_made = 0
        self._count_lock = threading.Lock()
        self.max_bytes = int(settings.max_response_mb * 1024 * 1024)

    def set_rate_limit(self, base_url: str, rate: float) -> None:
        self.limiter.set_rate(base_url, rate)

    def close(self) -> None:
        self.session.close()

    def get_json(self, url: str, *, params: dict[str, Any] | None = None,
                 json_body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self._with_retries(
            lambda: self._send("GET", url, params=params, json_body=json_body,
                               headers=headers).json()
        )

    def post_form_json(self, url: str, data: dict[str, str],
                       headers: dict[str, str] | None = None) -> Any:
        return self._with_retries(
            lambda: self._send("POST", url, data=data, headers=headers).json()
        )

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        return self._with_retries(lambda: self._send(method, url, **kwargs))

    def request_parsed(self, method: str, url: str, parse: Callable[[Response], Any],
                       **kwargs: Any) -> Any:
        """Send and parse as one attempt: an answer that fails to parse (a truncated body, an
        HTML page sent with status 200) is retried like a 5xx. `parse` raises
        RetriableHTTPError for that."""
        return self._with_retries(lambda: parse(self._send(method, url, **kwargs)))

    def fetch_json(self, method: str, url: str, *, json_body: Any = None,
                   headers: dict[str, str] | None = None,
                   unchanged_hash: str | None = None) -> JsonAnswer:
        """A JSON request whose answer may be known already: a 304, or a body whose SHA-256 is
        `unchanged_hash`, comes back unparsed (data None). Any other body is parsed inside the
        retry loop, so a truncated or HTML answer is retried as with get_json."""

        def attempt() -> JsonAnswer:
            response = self._send(method, url, json_body=json_body, headers=headers)
            if response.status == 304:
                return JsonAnswer(response, None, None, unchanged=True)
            digest = hashlib.sha256(response.body).hexdigest()
            if digest == unchanged_hash:
                return JsonAnswer(response, None, digest, unchanged=True)
            return JsonAnswer(response, response.json(), digest, unchanged=False)

        return self._with_retries(attempt)

    def _with_retries(self, attempt: Callable[[], Any]) -> Any:
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(RetriableHTTPError),
            reraise=True,
            before_sleep=self._log_retry,
        )
        return retrying(attempt)

    def _wait(self, retry_state: Any) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self.settings.retry_after_max)
        # Exponential with full jitter, so many harvesters retrying at once do not stampede.
        ceiling = self.settings.backoff_initial * 2 ** (retry_state.attempt_number - 1)
        return random.uniform(0, min(ceiling, self.settings.backoff_max))

    @staticmethod
    def _log_retry(retry_state: Any) -> None:
        error = retry_state.outcome.exception()
        log.info("retrying after %s (attempt %d)", error, retry_state.attempt_number)

    def _send(self, method: str, url: str, *, params: dict[str, Any] | None = None,
              data: Any = None, json_body: Any = None,
              headers: dict[str, str] | None = None) -> Response:
        requests = self._requests
        self.limiter.wait(url)
        with self._count_lock:
            self.requests_made += 1
        all_headers = {"Accept": "application/json"}
        all_headers.update(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        try:
            raw = self.session.request(
                method, url, params=params, data=body if body is not None else data,
                headers=all_headers, stream=True,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            )
            try:
                content = self._read_capped(raw, url)
            finally:
                raw.close()
        except requests.exceptions.Timeout as exc:
            raise RetriableHTTPError(f"timed out talking to {url}: {exc}", url=url) from None
        except (requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise RetriableHTTPError(f"connection to {url} failed: {exc}", url=url) from None
        except requests.exceptions.RequestException as exc:
            raise FatalHTTPError(f"request to {url} failed: {exc}", url=url) from None
        response = Response(url=raw.url, status=raw.status_code,
                            headers={k.lower(): v for k, v in raw.headers.items()}, body=content)
        self._raise_for_status(response)
        return response

    def _read_capped(self, raw: Any, url: str) -> bytes:
        declared = raw.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FatalHTTPError(
                f"response from {url} is {int(declared)} bytes, over the cap of {self.max_bytes}",
                url=url,
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in raw.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            if size > self.max_bytes:
                raise FatalHTTPError(
                    f"response from {url} exceeds the cap of {self.max_bytes} bytes", url=url
                )
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _raise_for_status(response: Response) -> None:
        status = response.status
        if status < 400:
            return
        snippet = response.body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
        message = f"HTTP {status} from {response.url}: {snippet}"
        if status == 429:
            raise RateLimitedError(
                message, url=response.url,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if status >= 500 or status == 408:
            error = RetriableHTTPError(message, url=response.url, status=status)
            error.retry_after = parse_retry_after(response.headers.get("retry-after"))  # type: ignore[attr-defined]
            raise error
        raise FatalHTTPError(message, url=response.url, status=status)
