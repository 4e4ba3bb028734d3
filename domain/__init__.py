"""The care group's quality cycle as plain Python and pydantic.

Invariants: nothing in this package does I/O, reads the wall clock or imports
storage, Prefect, the state-machine library or notifications. Every rule is a pure
function of its inputs; time arrives as an argument.
"""
