"""Owner chains of a live cluster: a pod stands for its top owner, a controller for its idle pods.

In a cluster a Deployment's pods belong to a ReplicaSet that the Deployment owns (a CronJob's to a
Job), so the chain is followed up to its top: Pod -> ReplicaSet -> Deployment gives the peer
``ns/name[Deployment]``, as the file reader names a pod by its ``ownerReferences``. The pods carry
what policies select (their real labels, their IPs); a controller without pods (scaled to zero, a
CronJob between runs) is kept so that it still appears, and one that an other read controller owns
(a Deployment's ReplicaSets) is left to its owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubefence.io.cluster.kinds import CONTROLLER_KINDS

Key = tuple[str, str, str]  # namespace, kind, name


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _key(obj: dict[str, Any]) -> Key:
    meta = _meta(obj)
    return (str(meta.get("namespace") or ""), str(obj.get("kind") or ""), str(meta.get("name") or ""))


def controller_ref(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The owner reference that controls ``obj`` (the first one when none says ``controller``),
    chosen as the file reader chooses it."""
    refs = _meta(obj).get("ownerReferences")
    owners = [r for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []
    return next((o for o in owners if o.get("controller")), owners[0] if owners else None)


def resolve_owners(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects as the manifest reader should see them: each pod's ``ownerReferences`` naming its
    top owner, and only the controllers that no pod and no other read controller stands for."""
    items = list(objects)
    controllers: dict[Key, dict[str, Any]] = {_key(o): o for o in items if o.get("kind") in CONTROLLER_KINDS}

    def top_ref(obj: dict[str, Any]) -> dict[str, Any] | None:
        ns = _key(obj)[0]
        ref = controller_ref(obj)
        seen: set[Key] = set()
        while ref is not None:
            owner_key = (ns, str(ref.get("kind") or ""), str(ref.get("name") or ""))
            owner = controllers.get(owner_key)
            if owner is None or owner_key in seen:
                return ref
            seen.add(owner_key)
            above = controller_ref(owner)
            if above is None or not above.get("name"):
                return ref
            ref = above
        return None

    out: list[dict[str, Any]] = []
    represented: set[Key] = set()
    for obj in items:
        if obj.get("kind") != "Pod":
            continue
        direct = controller_ref(obj)
        top = top_ref(obj)
        if top is not None and top.get("name") and top.get("kind") != "Node":
            represented.add((_key(obj)[0], str(top.get("kind") or ""), str(top["name"])))
        if top is not None and top is not direct:
            meta = dict(_meta(obj))
            meta["ownerReferences"] = [{**top, "controller": True}]
            obj = {**obj, "metadata": meta}
        out.append(obj)
    for obj in items:
        kind = obj.get("kind")
        if kind == "Pod":
            continue
        if kind in CONTROLLER_KINDS:
            owner = controller_ref(obj)
            ns = _key(obj)[0]
            if _key(obj) in represented:
                continue  # its pods stand for it
            if (
                owner is not None
                and (ns, str(owner.get("kind") or ""), str(owner.get("name") or "")) in controllers
            ):
                continue  # its owner stands for it (a Deployment for its ReplicaSets)
        out.append(obj)
    return out
