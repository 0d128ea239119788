"""Mutation testing (`make mutate`): mutmut's configuration is in setup.cfg; see docs/mutation-testing.md."""
