"""Ingress (networking.k8s.io/v1), OpenShift Route and Gateway API route objects: traffic entering
from outside through the ingress controller."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubefence.errors import Origin


@dataclass(frozen=True, order=True)
class Mention:
    """Where an object names a backend: the part of it (``rule */api``, ``spec.to``) and its line."""

    via: str
    origin: Origin = field(default=Origin(), compare=False)


@dataclass(frozen=True, order=True)
class Backend:
    """A Service an ingress object sends traffic to, on one of its ports (None: all of them).

    ``port`` is what the object names: a Service port's name or number (Ingress, Gateway API) or,
    with ``target_port``, the port on the pods (Route). ``namespace`` is the Service's (a Gateway API
    backendRef may name another one). An object naming the same backend several times has it once,
    with every mention.
    """

    service: str
    port: int | str | None = None
    target_port: bool = False
    namespace: str = ""
    mentions: tuple[Mention, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class IngressObject:
    kind: str  # "Ingress", "Route", or a Gateway API route kind
    namespace: str
    name: str
    backends: tuple[Backend, ...] = ()
    origin: Origin = field(default=Origin(), compare=False)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"
