"""Notifications: the office's events delivered at least once, in order per booking.

`Notifier` reads the event log (`queue_quota.Scheduler.events`) after its consumer's
cursor and calls ``send(notification)`` for each event, with retries, backoff, a
dead-letter list and reminders; `WebhookSender` is a ``send`` that POSTs signed JSON
(``httpx``, the ``notify`` extra). See "Events and notifications" and "Notify citizens
(webhooks)" in the documentation.
"""

from ._notification import Notification, notification_id
from ._notifier import DeadLetter, Notifier
from ._text import notification_text
from ._webhook import InvalidSignature, WebhookError, WebhookSender, sign, verify_signature

__all__ = [
    "DeadLetter",
    "InvalidSignature",
    "Notification",
    "Notifier",
    "WebhookError",
    "WebhookSender",
    "notification_id",
    "notification_text",
    "sign",
    "verify_signature",
]
