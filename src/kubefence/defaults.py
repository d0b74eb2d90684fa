"""Default settings shared by the library and the command line.

Kept apart from the analysis modules, and importing nothing, so the command line can declare its
options without loading the analysis: a ``kubefence map`` run then imports only what it uses.
"""

from __future__ import annotations

# Where the cluster DNS server runs, and how its pods are labelled (discover, generate).
DNS_NAMESPACE = "kube-system"
DNS_LABELS: tuple[tuple[str, str], ...] = (("k8s-app", "kube-dns"),)
DNS_PORT = 53

# The ingress controller is modelled as a pod without labels in this namespace when analysing
# (netpol-analyzer's convention), and in GENERATE_CONTROLLER_NAMESPACE when generating policies.
INGRESS_CONTROLLER_NAMESPACE = "ingress-controller-ns"
GENERATE_CONTROLLER_NAMESPACE = "ingress-nginx"

# Violations explained per violated guardrail.
WITNESSES = 3

# Cluster-admin policy kinds guardrails export to, by their lower-case command line names.
EXPORT_KINDS = {"clusternetworkpolicy": "ClusterNetworkPolicy", "adminnetworkpolicy": "AdminNetworkPolicy"}
