"""Differential testing of kubefence against network-config-analyzer (np-guard's NCA).

``python bench/crosscheck/run.py --clusters 500 --seed 1`` is the entry point; see README.md.
"""
