"""The `nam-feeds` command line, `up` included: the top layer, which composes everything.

    _main   the click group and the commands that start a process (worker, beat, web, up)
    _data   the commands on stored data: crawl, status, history, recrawl
    _up     `nam-feeds up`: Redis, a worker, beat and web as supervised child processes
"""

from cli._main import main

__all__ = ["main"]
