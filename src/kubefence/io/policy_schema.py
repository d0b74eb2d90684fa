"""Validating generated NetworkPolicies against the Kubernetes OpenAPI schema, as they are written.

Optional: needs the kubernetes-validate package (``pip install 'kubefence[validate]'``).
"""

from __future__ import annotations

from collections.abc import Iterable

from kubefence.errors import ToolMissingError
from kubefence.io.policy_yaml import policy_dict
from kubefence.model.policies import NetworkPolicy

KUBERNETES_VERSION = "1.30"


def validate_policies(policies: Iterable[NetworkPolicy], version: str = KUBERNETES_VERSION) -> list[str]:
    """One message per policy whose object the Kubernetes OpenAPI schema rejects (strict mode)."""
    try:
        import kubernetes_validate  # type: ignore[import-untyped]
    except ImportError:
        raise ToolMissingError(
            "--validate needs the kubernetes-validate package: pip install 'kubefence[validate]'"
        ) from None
    problems = []
    for policy in policies:
        try:
            kubernetes_validate.validate(policy_dict(policy), version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{policy.namespace}/{policy.name}: {exc.message}")
    return problems
