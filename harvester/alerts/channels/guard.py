"""Where a webhook may not go: link-local and cloud metadata addresses.

A webhook URL is user input that the harvester turns into a POST from the machine it runs on.
Pointed at 169.254.169.254 (or fd00:ec2::254, 100.100.100.200 ...) it would talk to the
cloud's instance metadata service, which hands out the machine's credentials: the server-side
request forgery the Standard Webhooks spec warns about. Those ranges are refused unless
`[alerts] webhook_allow_networks` names them; loopback and private networks stay allowed (an
internal chat server, a receiver on the same machine).

The check runs twice: when a subscription is added (an address written as an IP), and on every
connection a webhook makes: the host name is resolved once, every address it resolves to is
checked, and the connection is made to the address checked, so a name that resolves somewhere
else a moment later (DNS rebinding) cannot slip past. TLS still verifies the host name.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8",            # "this host": connects to the machine itself by a side door
    "169.254.0.0/16",       # IPv4 link-local: AWS, GCP, Azure, OpenStack metadata (169.254.169.254)
    "100.100.100.200/32",   # Alibaba Cloud metadata
    "192.0.0.192/32",       # Oracle Cloud metadata
    "224.0.0.0/4",          # multicast
    "255.255.255.255/32",   # broadcast
    "fe80::/10",            # IPv6 link-local
    "fd00:ec2::254/128",    # AWS metadata over IPv6
    "ff00::/8",             # IPv6 multicast
))


class BlockedDestination(Exception):
    """The webhook's host is, or resolves to, an address in a refused range."""


def _plain(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    return address


def blocked_network(address: IPAddress, allowed: Iterable[IPNetwork] = ()) -> IPNetwork | None:
    """The refused range `address` falls in, or None when it may be reached."""
    address = _plain(address)
    if any(address.version == n.version and address in n for n in allowed):
        return None
    for network in BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return network
    return None


def allowed_networks(texts: Iterable[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(t, strict=False) for t in texts]


def check_literal_host(host: str, allowed: Iterable[IPNetwork] = ()) -> None:
    """When the URL names an IP address, refuse a blocked one at once (a name is checked when
    the webhook connects)."""
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return
    network = blocked_network(address, allowed)
    if network is not None:
        raise BlockedDestination(f"{host} is in {network}, a link-local or cloud metadata range "
                                 "(allow it with [alerts] webhook_allow_networks)")


def vetted_address(host: str, port: int, allowed: Iterable[IPNetwork] = ()) -> tuple[Any, ...]:
    """Resolve `host` once and return the first getaddrinfo entry to connect to; refuse if any
    address the name resolves to is in a blocked range."""
    allowed = list(allowed)
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:  # no lookup for an address
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        sockaddr = (str(literal), port, 0, 0) if literal.version == 6 else (str(literal), port)
        infos = [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
    else:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        network = blocked_network(address, allowed)
        if network is not None:
            raise BlockedDestination(f"{host} resolves to {address}, in {network}, a link-local "
                                     "or cloud metadata range (allow it with [alerts] "
                                     "webhook_allow_networks)")
    return infos[0]


def guarded_session(allowed: Iterable[IPNetwork] = ()) -> Any:
    """A requests Session whose every connection goes only to vetted addresses."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    allowed = list(allowed)

    def connect(conn: Any) -> socket.socket:
        # urllib3's own _new_conn, but to the address vetted_address checked.
        # BlockedDestination is no OSError: urllib3 and requests let it through unwrapped.
        try:
            family, kind, proto, _, sockaddr = vetted_address(conn._dns_host, conn.port, allowed)
        except socket.gaierror as exc:
            raise NameResolutionError(conn.host, conn, exc) from exc
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            if isinstance(conn.timeout, int | float):  # else urllib3's "socket default"
                sock.settimeout(conn.timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(sockaddr)
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. "
                                            f"(connect timeout={conn.timeout})") from exc
        except OSError as exc:
            sock.close()
            raise NewConnectionError(conn, f"Failed to establish a new connection: {exc}") from exc
        return sock

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return connect(self)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return connect(self)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPPool,
                                                       "https": GuardedHTTPSPool}

    session = requests.Session()
    session.mount("http://", GuardedAdapter())
    session.mount("https://", GuardedAdapter())
    return session
