"""Email over SMTP: plain text plus HTML, a deterministic Message-ID per delivery (or digest).

One SMTP connection serves a whole send pass. The password is read from the environment
variable `[alerts.smtp] password_env` names, only when a user is configured.
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


def compose(unit: Unit, *, sender: str, test: bool = False) -> EmailMessage:
    sub = unit.subscription
    alerts = unit.alerts
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = sub.address
    prefix = f"{SUBJECT_PREFIX}{' [test]' if test else ''}"
    if sub.mode == "each":
        subject = f"{prefix} {alerts[0].title()}"
    else:
        day = alerts[0].event["time"][:10]
        period = f"UTC day {day}" if sub.mode == "day" else f"run of {day}"
        subject = (f"{prefix} {len(alerts)} alert{'s' if len(alerts) != 1 else ''} for "
                   f"{sub.name} ({period})")
    # Archive text goes into the subject: fold any line break an archive sent into a space.
    msg["Subject"] = " ".join(subject.split())
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = message_id(unit, sender)
    msg["X-Harvester-Subscription"] = sub.name
    msg["X-Harvester-Delivery"] = ", ".join(a.key for a in alerts)
    if test:
        msg["X-Harvester-Test"] = "yes"
    msg.set_content(_plain(unit))
    msg.add_alternative(_html(unit), subtype="html")
    return msg


def _plain(unit: Unit) -> str:
    parts = []
    for alert in unit.alerts:
        width = max(len(label) for label, _ in alert.lines())
        block = [alert.title(), ""] + [f"  {label:<{width}}  {value}" for label, value in alert.lines()]
        parts.append("\n".join(block))
    footer = (f"\n-- \nSubscription {unit.subscription.name}: {unit.subscription.predicate}\n"
              f"harvester subscribe remove {unit.subscription.name} stops these mails.\n")
    return "\n\n".join(parts) + "\n" + footer


def _html(unit: Unit) -> str:
    sections = []
    for alert in unit.alerts:
        rows = "".join(
            f"<tr><th align=\"left\">{html.escape(label)}</th><td>{_html_value(label, value)}</td></tr>"
            for label, value in alert.lines())
        sections.append(f"<h3>{html.escape(alert.title())}</h3>\n<table>{rows}</table>")
    sub = unit.subscription
    footer = (f"<p><small>Subscription <b>{html.escape(sub.name)}</b>: "
              f"<code>{html.escape(sub.predicate)}</code></small></p>")
    return "<html><body>\n" + "\n".join(sections) + "\n" + footer + "\n</body></html>\n"


def _html_value(label: str, value: str) -> str:
    if label == "url" and value.startswith(("http://", "https://")):
        return f"<a href=\"{html.escape(value, quote=True)}\">{html.escape(value)}</a>"
    return html.escape(value)


class MailChannel:
    def __init__(self, smtp: Any, *, token: str, test: bool = False) -> None:
        self.smtp = smtp
        self.token = token
        self.test = test
        self._client: Any = None

    def destination(self, unit: Unit) -> str:
        return f"smtp://{self.smtp.host}:{self.smtp.port}"

    def send(self, unit: Unit) -> None:
        import smtplib

        msg = compose(unit, sender=self.smtp.sender, test=self.test)
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

