"""How the world reaches donations: provider webhooks, the command line."""
