"""Errors of a cluster read: the API server's Status answers, and not reaching it at all."""

from __future__ import annotations

import json

from kubefence.errors import KubefenceError


class ClusterAccessError(KubefenceError):
    """The cluster cannot be read: no client, no kubeconfig, no answer, or no permission."""


class StatusError(Exception):
    """An HTTP error status from the API server, with its ``Status`` object's reason and message.

    Internal to the reader, which turns it into a :class:`ClusterAccessError` or a warning."""

    def __init__(self, code: int, reason: str = "", message: str = "") -> None:
        self.code = code
        self.reason = reason
        self.message = message
        super().__init__(f"{code} {reason}: {message}".rstrip(": "))

    @classmethod
    def from_response(cls, code: int, body: bytes) -> StatusError:
        try:
            status = json.loads(body)
        except ValueError:
            status = None
        if isinstance(status, dict) and status.get("kind") == "Status":
            return cls(code, str(status.get("reason") or ""), str(status.get("message") or ""))
        return cls(code, "", body[:200].decode("utf-8", "replace").strip())
