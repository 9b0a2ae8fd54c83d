"""The `nianbao` command line: the outer layer that wires the domain (nianbao/), the database
(db/) and, later, the flows."""
