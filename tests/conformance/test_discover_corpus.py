"""Conformance: ``discover`` against the policies np-guard's cluster-topology-analyzer generated.

For each app in ``../shared/corpus/discover/<app>/`` the connections *their* policies allow are
computed with our own connectivity map (``input/`` plus ``expected_netpol_output.*``). Every one of
them between workloads, and every exposure (from outside the cluster or from the ingress controller),
must also be found by ``discover`` — unless it is listed in :data:`DOCUMENTED_DIFFERENCES` with the
reason we are right not to need it.

Per app the test prints ``found / theirs / extra``: our connections, the connections their policies
allow, and ours that their policies do not allow (today only the DNS connections: their policies allow
UDP 53 to any namespace, which a map of the app alone cannot show, and they omit TCP 53).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from kubefence import DiscoverOptions, MapOptions, discover_connections, map_connectivity
from kubefence.model.connectivity import ConnectivityMap, PeerKind
from kubefence.model.discovery import DiscoveryResult, Reason
from kubefence.model.ports import ConnectionSet

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CORPUS: Final = REPO_ROOT.parent / "shared" / "corpus" / "discover"
CORPUS_MISSING: Final = "../shared/corpus/discover not found: discover conformance skipped"
POLICY_FILES: Final = ("expected_netpol_output.json", "expected_netpol_output.yaml")
EXTERNAL_SUFFIX: Final = "[External]"

#: (app, src, dst) -> why a connection their policies allow is rightly not found by discover.
#: Empty today: every connection their policies allow between workloads, and every exposure, is
#: found. Differences in the other direction are reported as "extra" and not failures:
#: - DNS: they allow UDP 53 (UDP 5353 for the OpenShift app acs-security-demos) to every namespace;
#:   we need UDP and TCP 53 (DNS falls back to TCP for large answers) to kube-dns in kube-system.
#: - sockshop orders: `orders-db:271` names a port the Service does not have; like them we find no
#:   connection, and we also warn about it. `no_such_svc:4040` is no Service: nothing is found.
#: - sockshop carts: Service port 9090 targets a port no container declares; we keep it (a
#:   numeric targetPort reaches the pod whether declared or not), as they do.
#: - guestbook `redis-follower:5378` from namespace default names no Service there (the Service is
#:   in namespace redis): neither tool finds a connection.
DOCUMENTED_DIFFERENCES: Final[dict[tuple[str, str, str], str]] = {}


@dataclass(frozen=True)
class Figures:
    found: int
    theirs: int
    extra: int
    missing: tuple[str, ...]
    extras: tuple[str, ...]


def _apps() -> list[object]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(app, id=app.name) for app in sorted(p for p in CORPUS.iterdir() if p.is_dir())]


def _policy_file(app: Path) -> Path:
    for name in POLICY_FILES:
        if (app / name).is_file():
            return app / name
    raise AssertionError(f"{app.name}: none of {', '.join(POLICY_FILES)}")


def _key(name: str) -> str:
    """Peer names compared across the two tools: an address range without the ``[External]`` mark."""
    return name.removesuffix(EXTERNAL_SUFFIX)


def _theirs(cmap: ConnectivityMap) -> dict[tuple[str, str], ConnectionSet]:
    """What their policies allow towards workloads: from workloads, from outside, from the ingress."""
    out: dict[tuple[str, str], ConnectionSet] = {}
    for c in cmap.connections:
        if c.dst.type is not PeerKind.WORKLOAD:
            continue
        key = (_key(str(c.src)), str(c.dst))
        out[key] = out.get(key, ConnectionSet.none()) | c.conn
    return out


def compare(app: str, ours: DiscoveryResult, cmap: ConnectivityMap) -> Figures:
    theirs = _theirs(cmap)
    mine = {(_key(str(c.src)), str(c.dst)): c.conn for c in ours.connections}
    missing = []
    for (src, dst), conn in sorted(theirs.items()):
        lacking = conn - mine.get((src, dst), ConnectionSet.none())
        if lacking and (app, src, dst) not in DOCUMENTED_DIFFERENCES:
            missing.append(f"{src} => {dst} : {lacking}")
    extras = []
    for c in ours.connections:
        beyond = c.conn - theirs.get((_key(str(c.src)), str(c.dst)), ConnectionSet.none())
        if beyond:
            reasons = ",".join(sorted(r.value for r in c.reasons))
            extras.append(f"{c.src} => {c.dst} : {beyond} ({reasons})")
    return Figures(len(ours.connections), len(theirs), len(extras), tuple(missing), tuple(extras))


@pytest.mark.parametrize("app", _apps())
def test_discover_finds_what_their_policies_allow(
    app: Path | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if app is None:
        pytest.skip(CORPUS_MISSING)
    policies = _policy_file(app)
    inputs = [str(app / "input")]
    ours = discover_connections(inputs, options=DiscoverOptions())
    # the np-guard tools' convention for where the ingress controller runs
    cmap = map_connectivity(
        [*inputs, str(policies)], options=MapOptions(ingress_controller_namespace="ingress-controller-ns")
    )
    figures = compare(app.name, ours, cmap)
    with capsys.disabled():
        print(
            f"\n[discover corpus] {app.name}: found {figures.found} / theirs {figures.theirs} "
            f"/ extra {figures.extra}"
        )
        for line in figures.extras:
            print(f"    extra: {line}")
    assert not figures.missing, f"{app.name}: allowed by their policies, not found:\n" + "\n".join(
        figures.missing
    )
    # every extra is explained: DNS (see DOCUMENTED_DIFFERENCES' notes); anything else is a regression
    unexplained = [e for e in figures.extras if not e.endswith(f"({Reason.DNS.value})")]
    assert not unexplained, f"{app.name}: found but not allowed by their policies:\n" + "\n".join(unexplained)


def test_documented_differences_name_real_apps() -> None:
    if not CORPUS.is_dir():
        pytest.skip(CORPUS_MISSING)
    apps = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    for app, _, _ in DOCUMENTED_DIFFERENCES:
        assert app in apps, f"documented difference for unknown app {app!r}"
