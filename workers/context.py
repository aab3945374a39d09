"""Carries the request id and tenant of the web request into the messages it enqueues, and into their logs.

`before_enqueue` copies the context variables into the message options (which Redis stores with the message);
the worker restores them around the actor, so its log lines carry the id of the request that caused them.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from app.logs import request_id_var, tenant_var

REQUEST_ID = "dtg_request_id"
TENANT = "dtg_tenant"


class LogContextMiddleware(Middleware):
    def before_enqueue(self, broker: dramatiq.Broker, message: dramatiq.Message[Any], delay: int) -> None:
        # A retry re-enqueues the message with its options: keep the original request's id.
        message.options.setdefault(REQUEST_ID, request_id_var.get())
        message.options.setdefault(TENANT, tenant_var.get())

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message[Any]) -> None:
        # Set in the worker thread; the AsyncIO middleware's loop copies this context into the actor's task.
        request_id_var.set(message.options.get(REQUEST_ID))
        tenant_var.set(message.options.get(TENANT))

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message[Any],
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        request_id_var.set(None)
        tenant_var.set(None)

    after_skip_message = after_process_message
