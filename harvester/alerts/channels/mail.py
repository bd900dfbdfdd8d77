"""Email over SMTP: plain text plus HTML, a deterministic Message-ID per delivery (or digest).

A digest (a subscription with `--digest run` or `day`) opens with the same digest `harvester
news` prints, made from the digest's own events (new products grouped by archive and
instrument, embargoes ended, the release watch, the sources), then lists every alert it holds
on one line each. One SMTP connection serves a whole send pass. The password is read from the
environment variable `[alerts.smtp] password_env` names, only when a user is configured.
"""

from __future__ import annotations

import html
import os
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from harvester.alerts.channels.base import DeliveryError, Unit
from harvester.timeutil import utcnow

SUBJECT_PREFIX = "[3I/ATLAS]"


def message_id(unit: Unit, sender: str) -> str:
    """Deterministic: a re-sent delivery or digest has the same Message-ID, so mail clients
    and list software can drop the repeat."""
    domain = sender.rpartition("@")[2] or "harvester.invalid"
    if unit.batch is None:
        return f"<alert.{unit.alerts[0].key}@{domain}>"
    token = unit.alerts[0].key.rpartition("-")[0]
    return f"<digest.{token}-{unit.batch}@{domain}>"


def compose(unit: Unit, *, sender: str, test: bool = False, digest: Any = None,
            links: dict[int, str | None] | None = None) -> EmailMessage:
    """The mail of one unit. `digest` (a harvester.news Digest of the unit's events) makes the
    body of a digest mail, with `links` each alert's web link by event id; without it each
    alert is written out in full."""
    sub = unit.subscription
    alerts = unit.alerts
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = sub.address
    prefix = f"{SUBJECT_PREFIX}{' [test]' if test else ''}"
    if sub.mode == "each":
        subject = f"{prefix} {alerts[0].title()}"
    else:
        subject = f"{prefix} {digest_heading(unit)}"
    # Archive text goes into the subject: fold any line break an archive sent into a space.
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id(unit, sender)
    msg["X-Harvester-Subscription"] = sub.name
    msg["X-Harvester-Delivery"] = ", ".join(a.key for a in alerts)
    if test:
        msg["X-Harvester-Test"] = "yes"
    if digest is not None:
        alert_links = [(links or {}).get(a.event_id) for a in unit.alerts]
        msg.set_content(_digest_plain(unit, digest, alert_links))
        msg.add_alternative(_digest_html(unit, digest, alert_links), subtype="html")
    else:
        msg.set_content(_plain(unit))
        msg.add_alternative(_html(unit), subtype="html")
    return msg


def digest_heading(unit: Unit) -> str:
    """What a digest mail holds: "15 alerts for jwst (run of 2025-12-01)"."""
    alerts = unit.alerts
    day = alerts[0].event["time"][:10]
    period = f"UTC day {day}" if unit.subscription.mode == "day" else f"run of {day}"
    return f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} for {unit.subscription.name} ({period})"


def _digest_plain(unit: Unit, digest: Any, links: list[str | None]) -> str:
    from harvester.news.render import render_text

    lines = [render_text(digest).rstrip(), "", "Every alert of this digest:"]
    for alert, link in zip(unit.alerts, links, strict=True):
        lines.append(f"  {alert.event['time'][:16].replace('T', ' ')}  {alert.title()}"
                     + (f"  {link}" if link else ""))
    return "\n".join(lines) + "\n" + _footer_plain(unit)


def _digest_html(unit: Unit, digest: Any, links: list[str | None]) -> str:
    from harvester.news.render import render_html

    rows = "".join(
        f"<li>{html.escape(alert.event['time'][:16].replace('T', ' '))} "
        f"{_linked(alert.title(), link)}</li>"
        for alert, link in zip(unit.alerts, links, strict=True))
    return ("<html><body>\n" + render_html(digest, heading_level=2)
            + f"<h3>Every alert of this digest</h3>\n<ul>{rows}</ul>\n" + _footer_html(unit)
            + "\n</body></html>\n")


def _linked(text: str, link: str | None) -> str:
    if link and link.startswith(("http://", "https://")):
        return f"<a href=\"{html.escape(link, quote=True)}\">{html.escape(text)}</a>"
    return html.escape(text)


def _plain(unit: Unit) -> str:
    parts = []
    for alert in unit.alerts:
        width = max(len(label) for label, _ in alert.lines())
        block = [alert.title(), ""] + [f"  {label:<{width}}  {value}" for label, value in alert.lines()]
        parts.append("\n".join(block))
    return "\n\n".join(parts) + "\n" + _footer_plain(unit)


def _footer_plain(unit: Unit) -> str:
    return (f"\n-- \nSubscription {unit.subscription.name}: {unit.subscription.predicate}\n"
            f"harvester subscribe remove {unit.subscription.name} stops these mails.\n")


def _html(unit: Unit) -> str:
    sections = []
    for alert in unit.alerts:
        rows = "".join(
            f"<tr><th align=\"left\">{html.escape(label)}</th><td>{_html_value(label, value)}</td></tr>"
            for label, value in alert.lines())
        sections.append(f"<h3>{html.escape(alert.title())}</h3>\n<table>{rows}</table>")
    return "<html><body>\n" + "\n".join(sections) + "\n" + _footer_html(unit) + "\n</body></html>\n"


def _footer_html(unit: Unit) -> str:
    sub = unit.subscription
    return (f"<p><small>Subscription <b>{html.escape(sub.name)}</b>: "
            f"<code>{html.escape(sub.predicate)}</code></small></p>")


def _html_value(label: str, value: str) -> str:
    if label == "url" and value.startswith(("http://", "https://")):
        return f"<a href=\"{html.escape(value, quote=True)}\">{html.escape(value)}</a>"
    return html.escape(value)


class MailChannel:
    def __init__(self, smtp: Any, *, token: str, test: bool = False, conn: Any = None,
                 links: Any = None) -> None:
        self.smtp = smtp
        self.token = token
        self.test = test
        self.conn = conn    # to read a digest's events with what they are about
        self.links = links  # harvester.links.Links: archive URIs to web addresses
        self._client: Any = None

    def destination(self, unit: Unit) -> str:
        return f"smtp://{self.smtp.host}:{self.smtp.port}"

    def send(self, unit: Unit) -> None:
        import smtplib

        digest, links = self._digest(unit)
        msg = compose(unit, sender=self.smtp.sender, test=self.test, digest=digest, links=links)
        client = self._connect()
        try:
            client.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"SMTP refused {unit.subscription.address}: {exc.recipients}",
                                permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}",
                                permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise DeliveryError(f"SMTP {self.smtp.host}:{self.smtp.port}: {exc}",
                                unreachable=True) from None

    def _digest(self, unit: Unit) -> tuple[Any, dict[int, str | None]]:
        """The news digest of a digest unit's events and each event's web link (None and {}
        for a mail about one alert)."""
        if unit.subscription.mode == "each" or self.conn is None or not unit.alerts:
            return None, {}
        from harvester.news.digest import build_digest
        from harvester.news.items import items_for

        items = items_for(self.conn, [a.event_id for a in unit.alerts], self.links)
        digest = build_digest(items, heading=f"{SUBJECT_PREFIX} {digest_heading(unit)}",
                              since=min((i.time for i in items), default=None))
        return digest, {i.event_id: i.link for i in items}

    def _connect(self) -> Any:
        import smtplib
        import ssl

        if self._client is not None:
            return self._client
        s = self.smtp
        try:
            if s.security == "tls":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
            if s.user:
                client.login(s.user, self._password())
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login as {s.user} at {s.host}:{s.port} refused: "
                                f"{_text(exc.smtp_error)}", unreachable=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"cannot reach SMTP server {s.host}:{s.port} "
                                f"({s.security}): {exc}", unreachable=True) from None
        self._client = client
        return client

    def _password(self) -> str:
        value = os.environ.get(self.smtp.password_env)
        if not value:
            raise DeliveryError(f"[alerts.smtp] user is set but the environment variable "
                                f"{self.smtp.password_env} (password_env) is empty",
                                unreachable=True)
        return value

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except OSError:
                pass

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except Exception:  # the server may have gone; the mails are already accounted for
                pass
            self._drop()


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

