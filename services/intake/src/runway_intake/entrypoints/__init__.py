"""How the world reaches intake: HTTP routes and the command line."""
