"""The registry of delivery channels: one channel object per kind for a send pass. Each channel
module imports only `base`; the registry imports a channel when it is first needed."""

from __future__ import annotations

from typing import Any

from harvester.alerts.channels.base import Channel
from harvester.errors import HarvesterError


class Channels:
    """One channel object per kind for a send pass, made when first needed."""

    def __init__(self, conn: Any, settings: Any, *, out: Any = None, test: bool = False,
                 links: Any = None) -> None:
        self.conn = conn
        self.settings = settings
        self.out = out
        self.test = test
        self.links = links
        self._open: dict[str, Channel] = {}

    def get(self, kind: str) -> Channel:
        if kind not in self._open:
            self._open[kind] = self._make(kind)
        return self._open[kind]

    def _make(self, kind: str) -> Channel:
        from harvester.alerts.message import instance_token

        token = instance_token(self.conn)
        if kind == "email":
            from harvester.alerts.channels.mail import MailChannel

            return MailChannel(self.settings.smtp, token=token, test=self.test, conn=self.conn,
                               links=self.links)
        if kind == "webhook":
            from harvester.alerts.channels.webhook import WebhookChannel

            return WebhookChannel(timeout=self.settings.webhook_timeout, test=self.test,
                                  allow_networks=getattr(self.settings, "webhook_allow_networks", ()))
        if kind == "atom":
            from harvester.alerts.channels.atom import AtomChannel

            return AtomChannel(self.conn, token=token, entries=self.settings.feed_entries)
        if kind == "stdout":
            from harvester.alerts.channels.lines import LinesChannel

            return LinesChannel(self.out)
        raise HarvesterError(f"unknown channel {kind!r}")

    def close(self) -> None:
        for channel in self._open.values():
            channel.close()
        self._open.clear()
