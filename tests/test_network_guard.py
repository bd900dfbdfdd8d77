import socket

import pytest
import requests

from tests.conftest import OutsideNetworkError


def test_a_test_cannot_resolve_an_outside_host():
    with pytest.raises(OutsideNetworkError):
        socket.getaddrinfo("mast.stsci.edu", 443)


def test_a_test_cannot_connect_to_an_outside_address():
    with pytest.raises(OutsideNetworkError):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_requests_to_an_outside_host_are_refused():
    # Without the guard this machine would also fail (no internet), so insist on the guard's error.
    with pytest.raises(OutsideNetworkError):
        requests.get("https://pds.nasa.gov/api/search/1/products", timeout=1)
