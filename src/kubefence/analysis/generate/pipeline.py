"""Discover, then generate: the one pipeline behind ``generate`` and ``review``.

>>> generated = generate_for(read_application(docs))              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kubefence.analysis.connectivity.engine import MapOptions
from kubefence.analysis.discover.pipeline import DiscoverOptions, discover
from kubefence.analysis.generate.guarded import apply_guardrails
from kubefence.analysis.generate.synthesize import GeneratedPolicies, GenerateOptions, synthesize
from kubefence.model.cluster import Cluster
from kubefence.model.discovery import DiscoveryResult
from kubefence.model.guardrails import Guardrail


def generate_for(
    app: Cluster,
    *,
    needed: DiscoveryResult | None = None,
    options: GenerateOptions | None = None,
    discover_options: DiscoverOptions | None = None,
    guardrails: Sequence[Guardrail] = (),
) -> GeneratedPolicies:
    """Least-privilege NetworkPolicies for ``app`` (an application without policies, read with its
    ConfigMaps and Secrets): for ``needed``, else for what :func:`discover` finds in it.

    With ``guardrails``, needed connections a deny rule forbids are left out and connections allow
    rules require are added, each reported in ``guardrail_notes``: the result passes ``verify``
    with the same rules.
    """
    options = options or GenerateOptions()
    if needed is None:
        needed = discover(app, discover_options)
    if not guardrails:
        return synthesize(app, needed, options)
    map_options = MapOptions(ingress_controller_namespace=options.ingress_controller_namespace)
    guarded = apply_guardrails(needed, guardrails, app, map_options)
    generated = synthesize(app, guarded.needed, options)
    return replace(generated, guardrail_notes=guarded.blocked + guarded.added + guarded.conflicts)
