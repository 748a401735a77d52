"""irready's core: configuration, AWS sessions, the fact cache, the check registry and
runner, the history store and the command line. Checks, drills and reports build on it."""

__version__ = "0.1.0"
