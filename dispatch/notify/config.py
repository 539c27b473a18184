"""The notification configuration: channels and routes as YAML data, secrets from environment variables.

```yaml
format: propwatch-notifications/1
channels:
  platform-hook: {type: webhook, url: "https://96333.example.cn/hooks/propwatch", secret_env: PW_HOOK_SECRET}
  duty-group:    {type: wecom, key_env: PW_WECOM_KEY, mention: all}
  sms:           {type: sms, url: "https://sms.example.cn/send", token_env: PW_SMS_TOKEN}
  mail:          {type: email, host: smtp.example.cn, port: 465, security: ssl, sender: propwatch@example.cn,
                  username: propwatch, password_env: PW_SMTP_PASSWORD}
retry: {first: 30s, longest: 30m, attempts: 8}
routes:
  - {units: [platform-96333], levels: [3, 4], channels: [platform-hook]}
  - {units: [subdistrict], levels: [3, 4], channels: [mail], emails: [duty@jiedao.example.cn]}
  - {units: [elevator-maint], channels: [duty-group, sms]}
```

A secret is never written in the file: only the name of the variable that holds it (``*_env``), so the file can
be reviewed and versioned. A ``log`` channel exists without being declared.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dispatch.durations import parse_duration
from dispatch.errors import NotificationConfigError
from dispatch.notify.mail import EmailNotifier
from dispatch.notify.message import LogNotifier, Notifier
from dispatch.notify.routing import Channel, RetryPolicy, Route, Router
from dispatch.notify.sms import HttpSmsGateway, TextNotifier
from dispatch.notify.webhook import WebhookNotifier
from dispatch.notify.wecom import WECOM_ROBOT_URL, WeComRobotNotifier

log = logging.getLogger("dispatch.notify")
FILE_VARIABLE = "PROPWATCH_NOTIFICATIONS_FILE"
HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s]+$", max_length=2000)]
EnvName = Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=128)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookChannel(_Model):
    type: Literal["webhook"]
    url: HttpUrl
    secret_env: EnvName
    timeout: str = "5s"


class WeComChannel(_Model):
    type: Literal["wecom"]
    key_env: EnvName
    url: HttpUrl = WECOM_ROBOT_URL
    mention: Literal["none", "all", "recipients"] = "none"
    timeout: str = "5s"


class SmsChannel(_Model):
    type: Literal["sms"]
    url: HttpUrl
    token_env: EnvName | None = None
    to_field: str = "to"
    text_field: str = "text"
    extra: dict[str, str | int] = Field(default_factory=dict)
    timeout: str = "5s"


class EmailChannel(_Model):
    type: Literal["email"]
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    username: str | None = None
    password_env: EnvName | None = None
    timeout: str = "10s"


class LogChannel(_Model):
    type: Literal["log"]


ChannelSpec = Annotated[WebhookChannel | WeComChannel | SmsChannel | EmailChannel | LogChannel,
                        Field(discriminator="type")]


class RouteSpec(_Model):
    units: list[str] | Literal["*"] = "*"
    levels: list[Annotated[int, Field(ge=0)]] | None = None
    kinds: list[str] | None = None
    channels: list[str] = Field(min_length=1)
    phones: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)


class RetrySpec(_Model):
    first: str = "30s"
    longest: str = "30m"
    attempts: int = Field(8, ge=1, le=50)


class ConfigSpec(_Model):
    format: Literal["propwatch-notifications/1"]
    channels: dict[str, ChannelSpec] = Field(default_factory=dict)
    routes: list[RouteSpec] = Field(min_length=1)
    retry: RetrySpec = RetrySpec()

    @field_validator("channels")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [name for name in value if not name or name == "-" or len(name) > 64]
        if bad:
            raise ValueError(f"bad channel names: {bad}")
        return value


def default_router() -> Router:
    """Without a configuration every notification is only logged (nobody is reached)."""
    return Router([Channel("log", "log", LogNotifier())], [Route(channels=("log",))])


def parse_config(text: str, environ: Mapping[str, str], *, source: str = "notifications") -> Router:
    """The router a configuration describes, its secrets read from ``environ``.

    Raises ``NotificationConfigError`` listing every problem: YAML, unknown keys, bad values, routes naming
    channels that do not exist, variables that are not set."""
    try:
        raw = yaml.safe_load(text)
        spec = ConfigSpec.model_validate(raw)
    except yaml.YAMLError as exc:
        raise NotificationConfigError(source, [f"not YAML: {exc}"]) from None
    except ValidationError as exc:
        raise NotificationConfigError(source, [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]) from None
    problems: list[str] = []
    channels = {"log": Channel("log", "log", LogNotifier())}
    for name, channel in spec.channels.items():
        notifier = _build(name, channel, environ, problems)
        if notifier is not None:
            channels[name] = Channel(name, channel.type, notifier)
    declared = {"log", *spec.channels}
    for index, route in enumerate(spec.routes):
        for name in route.channels:
            if name not in declared:
                problems.append(f"routes.{index}.channels: no channel named {name!r}")
    retry = RetryPolicy(first=_duration("retry.first", spec.retry.first, problems),
                        longest=_duration("retry.longest", spec.retry.longest, problems),
                        attempts=spec.retry.attempts)
    if problems:
        raise NotificationConfigError(source, problems)
    routes = [Route(channels=tuple(r.channels), units=None if r.units == "*" else frozenset(r.units),
                    levels=None if r.levels is None else frozenset(r.levels),
                    kinds=None if r.kinds is None else frozenset(r.kinds),
                    phones=tuple(r.phones), emails=tuple(r.emails)) for r in spec.routes]
    return Router(list(channels.values()), routes, retry=retry)


def load_config(path: Path, environ: Mapping[str, str]) -> Router:
    """``parse_config`` of a file; a missing or unreadable file is a ``NotificationConfigError`` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotificationConfigError(str(path), [f"cannot read: {type(exc).__name__}"]) from None
    return parse_config(text, environ, source=str(path))


def router_from_environment(environ: Mapping[str, str] | None = None) -> Router:
    """The router of the file named by ``PROPWATCH_NOTIFICATIONS_FILE``, or ``default_router()`` without one."""
    env = os.environ if environ is None else environ
    path = env.get(FILE_VARIABLE, "").strip()
    if not path:
        log.warning("%s is not set: notifications are only logged, no escalation reaches anyone", FILE_VARIABLE)
        return default_router()
    try:
        return load_config(Path(path), env)
    except NotificationConfigError as exc:
        raise NotificationConfigError(f"{FILE_VARIABLE}={path}", exc.problems) from None


def _duration(where: str, text: str, problems: list[str]) -> Any:
    try:
        return parse_duration(text)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return parse_duration("1s")


def _secret(channel: str, key: str, variable: str | None, environ: Mapping[str, str], problems: list[str]
            ) -> str | None:
    if variable is None:
        return None
    value = environ.get(variable, "")
    if not value:
        problems.append(f"channels.{channel}.{key}: environment variable {variable} is not set")
    return value or None


def _build(name: str, spec: Any, environ: Mapping[str, str], problems: list[str]) -> Notifier | None:
    timeout = _duration(f"channels.{name}.timeout", getattr(spec, "timeout", "5s"), problems).total_seconds()
    match spec:
        case WebhookChannel():
            secret = _secret(name, "secret_env", spec.secret_env, environ, problems)
            return WebhookNotifier(spec.url, (secret or "").encode(), timeout_s=timeout) if secret else None
        case WeComChannel():
            key = _secret(name, "key_env", spec.key_env, environ, problems)
            return WeComRobotNotifier(key, url=spec.url, mention=spec.mention, timeout_s=timeout) if key else None
        case SmsChannel():
            token = _secret(name, "token_env", spec.token_env, environ, problems)
            return TextNotifier(HttpSmsGateway(spec.url, token=token, to_field=spec.to_field,
                                               text_field=spec.text_field, extra=spec.extra, timeout_s=timeout))
        case EmailChannel():
            password = _secret(name, "password_env", spec.password_env, environ, problems)
            return EmailNotifier(spec.host, spec.port, sender=spec.sender, security=spec.security,
                                 username=spec.username, password=password, timeout_s=timeout)
        case LogChannel():
            return LogNotifier()
    return None
