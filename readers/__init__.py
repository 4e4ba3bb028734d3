"""Reading what comes from outside: the care group's CSV, XLSX and YAML files and pseudonymised extracts, into
validated domain objects, whole or not at all, every problem located by file, row and column. Depends only on
``domain``; no database, no side effects. Data that identifies a patient is refused here, at the door, through
the guard every door shares (``domain.inputs``)."""
