"""Policies: one module per playbook rule, each a pure function of a Context to a Plan.

A policy module exports ``POLICY`` (`steward.policies.policy.Policy`); the registry
(`steward.policies.registry`) finds them. Nothing is imported here.
"""
