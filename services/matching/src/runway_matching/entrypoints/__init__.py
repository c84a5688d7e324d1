"""How the world reaches matching: HTTP routes, event subscribers, the command line."""
