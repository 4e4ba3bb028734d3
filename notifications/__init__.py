"""Delivery of the outbox (e-mail, .eml files): the notifications work. Depends on ``domain`` only.

For now the engine writes board notifications to the ``outbox`` table in the same transaction
as the transition that causes them; nothing here sends yet.
"""
