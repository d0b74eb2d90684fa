"""Schema validation of generated objects (optional: needs the kubernetes-validate package)."""

from __future__ import annotations

from kubefence.analysis.generate.synthesize import GeneratedPolicies
from kubefence.errors import ToolMissingError
from kubefence.io.policy_yaml import policy_dict

KUBERNETES_VERSION = "1.30"


def validate_policies(generated: GeneratedPolicies, version: str = KUBERNETES_VERSION) -> list[str]:
    """One message per generated object that the Kubernetes OpenAPI schema rejects (strict mode)."""
    try:
        import kubernetes_validate  # type: ignore[import-untyped]
    except ImportError:
        raise ToolMissingError(
            "--validate needs the kubernetes-validate package: pip install 'kubefence[validate]'"
        ) from None
    problems = []
    for g in generated.policies:
        obj = policy_dict(g.policy)
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{g.policy.namespace}/{g.policy.name}: {exc.message}")
    return problems
