"""How the world reaches notify: event subscribers, HTTP routes, the command line."""
