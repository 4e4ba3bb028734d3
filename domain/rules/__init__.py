"""The care group's rules, pure functions of facts, figures, the policy and a day, each decision with its reasons.

- ``escalation``: a deviation far below target, the underperformer policy a year after the plan, recovery, and
  the progress the board hears of (seed section 1).
- ``timing``: when a trajectory's next duty falls due on the working calendar, and when time alone can change a
  decision.
- ``attendance``: who is invited to a conversation or a meeting, and who must have attended a conversation.
- The duties a practice owes (conversations, kits, courses, meetings) and when their notices go:
  ``domain.obligations``.

Every threshold is in ``domain.policy.Policy``; nothing here reads the clock or a database.
"""
