"""Pluggable senders for channels that Django's mail backends do not cover.

A backend has ``send(recipient, text)``; it raises on failure so the outbox retries. The logging
backends are the default: they write the message to the log, which is what a developer wants.
"""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("aftersales.notifications")


class MessageBackend(Protocol):
    def send(self, recipient: str, text: str) -> None: ...


class LoggingSMSBackend:
    def send(self, recipient: str, text: str) -> None:
        logger.info("SMS to %s: %s", recipient, text)


class LoggingWeChatBackend:
    def send(self, recipient: str, text: str) -> None:
        logger.info("WeChat to %s: %s", recipient, text)


def get_sms_backend() -> MessageBackend:
    backend: MessageBackend = import_string(settings.AFTERSALES_SMS_BACKEND)()
    return backend


def get_wechat_backend() -> MessageBackend:
    backend: MessageBackend = import_string(settings.AFTERSALES_WECHAT_BACKEND)()
    return backend
