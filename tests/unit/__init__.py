"""Unit tests: the domain's rules, the state machine, the readers and the architecture, without a database,
a clock or a network."""
