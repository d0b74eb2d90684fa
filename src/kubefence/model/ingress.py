"""Ingress (networking.k8s.io/v1) and OpenShift Route objects: traffic entering from outside."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubefence.errors import Origin


@dataclass(frozen=True, order=True)
class Backend:
    """A Service an ingress object sends traffic to, on one of its ports (None: all of them).

    ``port`` is what the object names: a Service port's name or number (Ingress) or, with
    ``target_port``, the port on the pods (Route).
    """

    service: str
    port: int | str | None = None
    target_port: bool = False
    namespace: str = ""  # the Service's, when not the object's own (Gateway API backendRefs)


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
