"""Our generated policies against those np-guard's cluster-topology-analyzer (CTA) generated.

For every app of ``../shared/corpus/discover`` the app is mapped twice with ``map_connectivity``
(IPv4, the ingress controller in ``ingress-nginx``): once with their policies
(``expected_netpol_output.*``), once with ours (``generate_policies`` on the app, written as YAML and
read back). The difference is computed both ways, per pair and per address (``diff_maps``):
connections allowed by theirs and not by ours, and the reverse.

Two settings:

- **the app alone**: only the app's workloads, external addresses and the ingress controller;
- **the app in a cluster**: the app plus the rest of a cluster that policies must also keep out or
  let through: the DNS server ``kube-system/kube-dns`` (label ``k8s-app: kube-dns``), a pod of
  another team (``other-team/client``) and a pod that is not part of the app in each of its
  namespaces (``<ns>/client``).

Every difference is documented below with the reason, and the test asserts that the computed
differences are exactly the documented ones, so any change in either generator shows up here. The
figures are printed per app (run with ``-s`` or see the captured output) and summarised in
docs/generate.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from kubefence import MapOptions, map_connectivity
from kubefence.analysis.connectivity.diff import diff_maps
from kubefence.analysis.generate.synthesize import GenerateOptions
from kubefence.api import generate_policies, load_cluster, load_input_documents, policy_files
from kubefence.model.connectivity import ConnectivityMap

Obj = dict[str, Any]

ROOT: Final = Path(__file__).resolve().parents[2]
CORPUS: Final = ROOT.parent / "shared" / "corpus" / "discover"
POLICY_FILES: Final = ("expected_netpol_output.json", "expected_netpol_output.yaml")
CONTROLLER_NS: Final = "ingress-nginx"
MAP: Final = MapOptions(ip_family="ipv4", ingress_controller_namespace=CONTROLLER_NS)
GENERATE: Final = GenerateOptions(ingress_controller_namespace=CONTROLLER_NS)

# -- the reasons -----------------------------------------------------------------------------------

DNS_TO_ANY_POD: Final = (
    "theirs allows DNS egress (UDP 53) to every pod of every namespace (namespaceSelector: {}); "
    "ours only to kube-dns in kube-system"
)
DNS_TO_ANY_POD_5353: Final = (
    "theirs allows DNS egress on UDP 5353 (OpenShift's DNS port) to every pod of every namespace "
    "(namespaceSelector: {}); ours only to kube-dns in kube-system"
)
DNS_OPENSHIFT_PORT: Final = (
    "they model OpenShift DNS (UDP 5353); we generate for kube-dns on port 53 by default "
    "(discover --dns-port 5353 and --connections for OpenShift)"
)
DNS_OVER_TCP: Final = (
    "ours also allows TCP 53 to kube-dns (DNS falls back to TCP for large answers); theirs only UDP 53"
)
DNS_53_NOT_5353: Final = "ours allows DNS to kube-dns on UDP and TCP 53; theirs uses UDP 5353 only"
ROUTE_FROM_ANY_POD: Final = (
    "theirs lets every pod of every namespace in on the Route's port (namespaceSelector: {}); "
    "ours only the ingress controller's namespace"
)
INGRESS_FROM_ANY_POD: Final = (
    "theirs lets every pod in on port 9080 (a rule without `from` for the NodePort, namespaceSelector: "
    "{} for the Ingress); ours lets in the internet by ipBlock and the ingress controller's namespace"
)
EXPOSED_FROM_ANY_POD: Final = (
    "theirs exposes the LoadBalancer/NodePort Service by a rule without `from`, which admits every pod "
    "too; ours by ipBlock 0.0.0.0/0 and ::/0, which the map (like netpol-analyzer) applies to "
    "addresses outside the cluster only"
)
METRICS_FROM_ANY_POD: Final = (
    "theirs opens the Prometheus metrics port to every pod of every namespace (namespaceSelector: {}); "
    "nothing in the app connects to it, so ours does not"
)

# -- the documented differences --------------------------------------------------------------------

#: The app alone: what their policies allow between the app's workloads, from outside and from the
#: ingress controller is exactly what ours allow — no app, no difference.
IN_APP: Final[dict[str, dict[str, str]]] = {
    "acs-security-demos": {},
    "bookinfo": {},
    "k8s_guestbook": {},
    "onlineboutique": {},
    "sockshop": {},
}

#: The app in a cluster. "theirs: LINE" is allowed by their policies only, "ours: LINE" by ours only.
IN_CLUSTER: Final[dict[str, dict[str, str]]] = {
    "acs-security-demos": {
        "theirs: backend/checkout[Deployment] => kube-system/kube-dns[Deployment] : UDP 5353": (
            DNS_OPENSHIFT_PORT
        ),
        "theirs: backend/checkout[Deployment] => other-team/client[Pod] : UDP 5353": DNS_TO_ANY_POD_5353,
        "theirs: backend/recommendation[Deployment] => kube-system/kube-dns[Deployment] : UDP 5353": (
            DNS_OPENSHIFT_PORT
        ),
        "theirs: backend/recommendation[Deployment] => other-team/client[Pod] : UDP 5353": (
            DNS_TO_ANY_POD_5353
        ),
        "theirs: backend/reports[Deployment] => kube-system/kube-dns[Deployment] : UDP 5353": (
            DNS_OPENSHIFT_PORT
        ),
        "theirs: backend/reports[Deployment] => other-team/client[Pod] : UDP 5353": DNS_TO_ANY_POD_5353,
        "theirs: frontend/webapp[Deployment] => kube-system/kube-dns[Deployment] : UDP 5353": (
            DNS_OPENSHIFT_PORT
        ),
        "theirs: frontend/webapp[Deployment] => other-team/client[Pod] : UDP 5353": DNS_TO_ANY_POD_5353,
        "theirs: payments/gateway[Deployment] => kube-system/kube-dns[Deployment] : UDP 5353": (
            DNS_OPENSHIFT_PORT
        ),
        "theirs: payments/gateway[Deployment] => other-team/client[Pod] : UDP 5353": DNS_TO_ANY_POD_5353,
        "theirs: kube-system/kube-dns[Deployment] => frontend/asset-cache[Deployment] : TCP 8080": (
            ROUTE_FROM_ANY_POD
        ),
        "theirs: kube-system/kube-dns[Deployment] => frontend/webapp[Deployment] : TCP 8080": (
            ROUTE_FROM_ANY_POD
        ),
        "theirs: other-team/client[Pod] => frontend/asset-cache[Deployment] : TCP 8080": ROUTE_FROM_ANY_POD,
        "theirs: other-team/client[Pod] => frontend/webapp[Deployment] : TCP 8080": ROUTE_FROM_ANY_POD,
        "ours: backend/checkout[Deployment] => kube-system/kube-dns[Deployment] : TCP 53,UDP 53": (
            DNS_53_NOT_5353
        ),
        "ours: backend/recommendation[Deployment] => kube-system/kube-dns[Deployment] : TCP 53,UDP 53": (
            DNS_53_NOT_5353
        ),
        "ours: backend/reports[Deployment] => kube-system/kube-dns[Deployment] : TCP 53,UDP 53": (
            DNS_53_NOT_5353
        ),
        "ours: frontend/webapp[Deployment] => kube-system/kube-dns[Deployment] : TCP 53,UDP 53": (
            DNS_53_NOT_5353
        ),
        "ours: payments/gateway[Deployment] => kube-system/kube-dns[Deployment] : TCP 53,UDP 53": (
            DNS_53_NOT_5353
        ),
    },
    "bookinfo": {
        "theirs: default/ratings-v2-mysql[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: default/ratings-v2[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: kube-system/kube-dns[Deployment] => default/productpage-v1[Deployment] : TCP 9080": (
            INGRESS_FROM_ANY_POD
        ),
        "theirs: other-team/client[Pod] => default/productpage-v1[Deployment] : TCP 9080": (
            INGRESS_FROM_ANY_POD
        ),
        "ours: default/ratings-v2-mysql[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": (
            DNS_OVER_TCP
        ),
        "ours: default/ratings-v2[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": DNS_OVER_TCP,
    },
    "k8s_guestbook": {
        "theirs: default/frontend[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: redis/redis-follower[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: kube-system/kube-dns[Deployment] => default/frontend[Deployment] : TCP 80": (
            EXPOSED_FROM_ANY_POD
        ),
        "theirs: other-team/client[Pod] => default/frontend[Deployment] : TCP 80": EXPOSED_FROM_ANY_POD,
        "ours: default/frontend[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": DNS_OVER_TCP,
        "ours: redis/redis-follower[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": DNS_OVER_TCP,
    },
    "onlineboutique": {
        "theirs: default/cartservice[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: default/checkoutservice[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: default/frontend[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: default/loadgenerator[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: default/recommendationservice[Deployment] => other-team/client[Pod] : UDP 53": (
            DNS_TO_ANY_POD
        ),
        "theirs: kube-system/kube-dns[Deployment] => default/frontend[Deployment] : TCP 8080": (
            EXPOSED_FROM_ANY_POD
        ),
        "theirs: other-team/client[Pod] => default/frontend[Deployment] : TCP 8080": EXPOSED_FROM_ANY_POD,
        "ours: default/cartservice[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": DNS_OVER_TCP,
        "ours: default/checkoutservice[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": (
            DNS_OVER_TCP
        ),
        "ours: default/frontend[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": DNS_OVER_TCP,
        "ours: default/loadgenerator[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": (
            DNS_OVER_TCP
        ),
        "ours: default/recommendationservice[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": (
            DNS_OVER_TCP
        ),
    },
    "sockshop": {
        "theirs: sock-shop/carts[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: sock-shop/orders[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: sock-shop/user[Deployment] => other-team/client[Pod] : UDP 53": DNS_TO_ANY_POD,
        "theirs: kube-system/kube-dns[Deployment] => sock-shop/front-end[Deployment] : TCP 8079": (
            EXPOSED_FROM_ANY_POD
        ),
        "theirs: other-team/client[Pod] => sock-shop/front-end[Deployment] : TCP 8079": EXPOSED_FROM_ANY_POD,
        "theirs: kube-system/kube-dns[Deployment] => sock-shop/carts[Deployment] : TCP 9090": (
            METRICS_FROM_ANY_POD
        ),
        "theirs: kube-system/kube-dns[Deployment] => sock-shop/rabbitmq[Deployment] : TCP 9090": (
            METRICS_FROM_ANY_POD
        ),
        "theirs: kube-system/kube-dns[Deployment] => sock-shop/user[Deployment] : TCP 7070": (
            METRICS_FROM_ANY_POD
        ),
        "theirs: other-team/client[Pod] => sock-shop/carts[Deployment] : TCP 9090": METRICS_FROM_ANY_POD,
        "theirs: other-team/client[Pod] => sock-shop/rabbitmq[Deployment] : TCP 9090": METRICS_FROM_ANY_POD,
        "theirs: other-team/client[Pod] => sock-shop/user[Deployment] : TCP 7070": METRICS_FROM_ANY_POD,
        "ours: sock-shop/carts[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": DNS_OVER_TCP,
        "ours: sock-shop/orders[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": DNS_OVER_TCP,
        "ours: sock-shop/user[Deployment] => kube-system/kube-dns[Deployment] : TCP 53": DNS_OVER_TCP,
    },
}

# -- the comparison --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    theirs: int  # connections their policies allow
    ours: int  # connections ours allow
    differences: tuple[str, ...]  # "theirs: LINE" (theirs only) and "ours: LINE" (ours only), sorted

    def count(self, side: str) -> int:
        return sum(1 for d in self.differences if d.startswith(f"{side}: "))

    def __str__(self) -> str:
        return (
            f"theirs allow {self.theirs}, ours {self.ours}; "
            f"only theirs {self.count('theirs')}, only ours {self.count('ours')}"
        )


def _apps() -> list[Any]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(p, id=p.name) for p in sorted(CORPUS.iterdir()) if (p / "input").is_dir()]


def _their_policies(app: Path) -> Path:
    return next(app / n for n in POLICY_FILES if (app / n).is_file())


def _pod(namespace: str, name: str, labels: dict[str, str], ports: list[Obj] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": name, "image": "example/client:1", "ports": ports or []}]},
    }


def rest_of_cluster(app_namespaces: list[str]) -> list[Obj]:
    """The DNS server, a pod of another team, and a pod that is not the app's in each app namespace."""
    dns: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "kube-dns", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "kube-dns"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-dns"}},
                "spec": {
                    "containers": [
                        {
                            "name": "coredns",
                            "image": "registry.k8s.io/coredns/coredns:v1.11.1",
                            "ports": [
                                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                            ],
                        }
                    ]
                },
            },
        },
    }
    clients = [_pod(ns, "client", {"run": "client"}) for ns in ["other-team", *app_namespaces]]
    return [dns, *clients]


def compare(theirs: ConnectivityMap, ours: ConnectivityMap) -> Figures:
    lines = []
    for change in diff_maps(theirs, ours).changes:
        if only_theirs := change.old - change.new:
            lines.append(f"theirs: {change.src!s} => {change.dst!s} : {only_theirs}")
        if only_ours := change.new - change.old:
            lines.append(f"ours: {change.src!s} => {change.dst!s} : {only_ours}")
    return Figures(len(theirs.connections), len(ours.connections), tuple(sorted(lines)))


def figures(app: Path) -> tuple[Figures, Figures]:
    """(the app alone, the app in a cluster)."""
    manifests = [d.obj for d in load_input_documents([app / "input"])]
    theirs = [d.obj for d in load_input_documents([_their_policies(app)])]
    generated = generate_policies([app / "input"], options=GENERATE)
    ours = [d for text in policy_files(generated).values() for d in yaml.safe_load_all(text) if d]
    namespaces = sorted({w.namespace for w in load_cluster(manifests).workloads})
    out = []
    for context in ([], rest_of_cluster(namespaces)):
        out.append(
            compare(
                map_connectivity([*manifests, *context, *theirs], options=MAP),
                map_connectivity([*manifests, *context, *ours], options=MAP),
            )
        )
    return out[0], out[1]


def _assert_documented(app: str, setting: str, got: Figures, documented: dict[str, str]) -> None:
    unexplained = [d for d in got.differences if d not in documented]
    gone = [d for d in documented if d not in got.differences]
    assert not unexplained and not gone, (
        f"{app} ({setting}): differences changed\n"
        + "".join(f"  new, explain it: {d}\n" for d in unexplained)
        + "".join(f"  documented, no longer found: {d}\n" for d in gone)
    )


@pytest.mark.parametrize("app", _apps())
def test_differences_with_their_policies_are_documented(
    app: Path | None, capsys: pytest.CaptureFixture[str]
) -> None:
    if app is None:
        pytest.skip("../shared/corpus/discover not found")
    alone, in_cluster = figures(app)
    with capsys.disabled():
        print(f"\n[generate vs CTA] {app.name}: app alone: {alone}; in a cluster: {in_cluster}")
        for d in in_cluster.differences:
            print(f"    {d}  -- {IN_CLUSTER.get(app.name, {}).get(d, 'UNEXPLAINED')}")
    assert app.name in IN_APP and app.name in IN_CLUSTER, f"{app.name}: add its differences to the tables"
    _assert_documented(app.name, "app alone", alone, IN_APP[app.name])
    _assert_documented(app.name, "in a cluster", in_cluster, IN_CLUSTER[app.name])


def test_every_difference_has_a_reason() -> None:
    for table in (IN_APP, IN_CLUSTER):
        for app, differences in table.items():
            for line, reason in differences.items():
                assert line.startswith(("theirs: ", "ours: ")), line
                assert reason.strip() and "\n" not in reason, f"{app}: {line}"


def test_tables_name_the_corpus_apps() -> None:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/discover not found")
    apps = {p.name for p in CORPUS.iterdir() if (p / "input").is_dir()}
    assert set(IN_APP) == apps
    assert set(IN_CLUSTER) == apps
