"""Support for tests and for trying the product: the ``Scenario`` helper (a care group replayed with the clock in
hand), the demo, and the sample files of a fictional care group (``samples/``)."""
