"""The HTTP layer against the sandbox: retries, Retry-After, the size cap, counting, identity."""

import pytest

from harvester.errors import FatalHTTPError, RetriableHTTPError
from harvester.http import HttpClient, RateLimiter, parse_retry_after
from harvester.sandbox import Sandbox
from harvester.settings import HttpSettings


@pytest.fixture
def sandbox():
    with Sandbox({"clock": "2026-01-01T00:00:00Z", "mast": [], "pds": []}, port=0) as sb:
        yield sb


def client(**changes):
    settings = HttpSettings(retries=2, backoff_initial=0.01, backoff_max=0.02, rate_limit=1000,
                            read_timeout=1, connect_timeout=1)
    for key, value in changes.items():
        setattr(settings, key, value)
    return HttpClient(settings)


def products_url(sb):
    return sb.base_urls["pds"] + "/products"


def test_every_attempt_is_counted(sandbox):
    http = client()
    sandbox.faults.add("http503", path_prefix="/pds", count=2)
    http.get_json(products_url(sandbox), params={"q": '(lid eq "x")'})
    assert http.requests_made == 3 == sandbox.request_count("/pds")


def test_retries_stop_after_the_configured_number(sandbox):
    http = client(retries=2)
    sandbox.faults.add("http500", path_prefix="/pds", count=10)
    with pytest.raises(RetriableHTTPError, match="HTTP 500"):
        http.get_json(products_url(sandbox))
    assert http.requests_made == 3


def test_client_errors_are_not_retried(sandbox):
    http = client()
    with pytest.raises(FatalHTTPError, match="HTTP 400"):
        http.get_json(products_url(sandbox), params={"q": "(((broken"})
    assert http.requests_made == 1


def test_html_page_with_status_200_is_retried_not_parsed(sandbox):
    http = client()
    sandbox.faults.add("html200", path_prefix="/pds", count=1)
    answer = http.get_json(products_url(sandbox), params={"q": '(lid eq "x")'})
    assert answer["data"] == [] and http.requests_made == 2


def test_response_over_the_cap_is_refused(sandbox):
    http = client(max_response_mb=0.0001)  # ~100 bytes
    with pytest.raises(FatalHTTPError, match="cap"):
        http.get_json(products_url(sandbox), params={"q": '(lid eq "x")'})


def test_user_agent_identifies_the_harvester(sandbox):
    http = client(user_agent="harvester-3i/test (contact@example.org)")
    http.get_json(products_url(sandbox), params={"q": '(lid eq "x")'})
    assert http.session.headers["User-Agent"] == "harvester-3i/test (contact@example.org)"


def test_retry_after_is_honoured_and_capped():
    http = client(retry_after_max=5)

    class Outcome:
        def __init__(self, error):
            self._error = error

        def exception(self):
            return self._error

    class State:
        attempt_number = 1

    from harvester.errors import RateLimitedError

    state = State()
    state.outcome = Outcome(RateLimitedError("429", retry_after=3))
    assert http._wait(state) == 3
    state.outcome = Outcome(RateLimitedError("429", retry_after=600))
    assert http._wait(state) == 5


def test_retry_after_header_forms():
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


def test_rate_limiter_spaces_requests_per_host():
    slept = []
    limiter = RateLimiter(2.0, sleep=slept.append)
    for _ in range(3):
        limiter.wait("https://mast.stsci.edu/api/v0/invoke")
    limiter.wait("https://pds.nasa.gov/api/search/1/products")
    assert len(slept) == 2 and all(0.4 < s <= 1.0 for s in slept)


def test_a_rate_set_for_one_archive_does_not_slow_another_on_the_same_host():
    """The sandbox serves every archive from one host: MPC's 5/s must not space CNSA's requests."""
    slept = []
    limiter = RateLimiter(1000.0, sleep=slept.append)
    limiter.set_rate("http://127.0.0.1:8765/mpc", 5.0)
    limiter.wait("http://127.0.0.1:8765/mpc/api/get-obs")
    for _ in range(5):
        limiter.wait("http://127.0.0.1:8765/cnsa/moon-admin/client/science/catalogue?pageNum=1")
    assert all(s < 0.01 for s in slept)
    limiter.wait("http://127.0.0.1:8765/mpc/api/get-obs")
    assert 0.15 < slept[-1] <= 0.2
    # A path that merely starts with the same letters is another archive.
    assert limiter.key_of("http://127.0.0.1:8765/mpc2/x") == "127.0.0.1:8765"
    assert limiter.key_of("http://127.0.0.1:8765/mpc/api/x") == "127.0.0.1:8765/mpc"
