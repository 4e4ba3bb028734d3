"""The application's API: one module per use case, each function taking the moment; entry points only call
these. ``settings`` and ``bootstrap`` compose them (the database, the policy, the working calendar)."""
