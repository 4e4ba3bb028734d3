"""Rendering and delivery of the outbox's messages: Dutch e-mail from templates, calendar invites, and the
channels that carry them (SMTP, or ``.eml`` files). Depends on ``domain`` only; ``flows.services.outbox`` drives it.
"""
