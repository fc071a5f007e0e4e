"""Policies: one module per playbook rule, each a pure function of a Context to a Plan."""
