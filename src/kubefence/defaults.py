"""Default settings shared by the library and the command line.

Kept apart from the analysis modules, and importing nothing, so the command line can declare its
options without loading the analysis: a ``kubefence map`` run then imports only what it uses.
"""

from __future__ import annotations

# Where the cluster DNS server runs, and how its pods are labelled (discover, generate).
DNS_NAMESPACE = "kube-system"
DNS_LABELS: tuple[tuple[str, str], ...] = (("k8s-app", "kube-dns"),)
DNS_PORT = 53
DNS_SELECTOR_TEXT = ",".join(f"{key}={value}" for key, value in DNS_LABELS)  # as --dns-selector takes it

# Where the ingress controller runs, in every command: the map models it as a pod without labels
# there, generate lets it in from there. A real cluster's policies name the real controller's
# namespace (ingress-nginx's chart installs into ingress-nginx), so analysing and generating agree
# and the generated policies verify clean. netpol-analyzer assumes "ingress-controller-ns" instead:
# comparisons with it pass that namespace explicitly.
INGRESS_CONTROLLER_NAMESPACE = "ingress-nginx"

# Violations explained per violated guardrail.
WITNESSES = 3

# Cluster-admin policy kinds guardrails export to, by their lower-case command line names.
EXPORT_KINDS = {"clusternetworkpolicy": "ClusterNetworkPolicy", "adminnetworkpolicy": "AdminNetworkPolicy"}
