"""Delivery channels of the alerts: email, webhook, Atom file, stdout lines."""
