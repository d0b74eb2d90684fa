"""domainNames matching: exact names, and ``*.`` wildcards covering one or more whole labels."""

from __future__ import annotations

import pytest

from kubefence.model.admin import domain_covers


@pytest.mark.parametrize(
    ("pattern", "name", "covers"),
    [
        ("kubernetes.io", "kubernetes.io", True),
        ("kubernetes.io", "www.kubernetes.io", False),
        ("blog.kubernetes.io", "kubernetes.io", False),
        ("*.kubernetes.io", "blog.kubernetes.io", True),
        ("*.kubernetes.io", "latest.blog.kubernetes.io", True),
        ("*.kubernetes.io", "kubernetes.io", False),
        ("*.kubernetes.io", "my-kubernetes.io", False),
        ("*.kubernetes.io", "*.blog.kubernetes.io", True),
        ("*.kubernetes.io", "*.kubernetes.io", True),
        ("blog.kubernetes.io", "*.kubernetes.io", False),  # one host does not cover them all
        ("*.blog.kubernetes.io", "*.kubernetes.io", False),
        ("Kubernetes.IO.", "kubernetes.io", True),
    ],
)
def test_domain_covers(pattern: str, name: str, covers: bool) -> None:
    assert domain_covers(pattern, name) is covers
