"""Analyses over a :class:`~kubefence.model.cluster.Cluster`."""
