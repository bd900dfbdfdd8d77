"""New-data alerts: subscriptions with SQL predicates, an outbox, and delivery channels."""
