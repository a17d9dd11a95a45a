"""A layout worker process (``documents.layout_search``): reads the site and the program,
then seeds, from stdin (pickles); writes each seed's ``Tried`` (or the exception that
stopped it) to stdout. It ends when stdin closes: its parent finished or died."""

from __future__ import annotations

import pickle
import sys

from documents.layout_search import tried


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    try:
        site, resolved = pickle.load(stdin)
        while True:
            seed = pickle.load(stdin)
            try:
                answer: object = tried(site, resolved, seed)
            except Exception as exc:
                answer = exc
            pickle.dump(answer, stdout)
            stdout.flush()
    except (EOFError, BrokenPipeError):
        return


if __name__ == "__main__":
    main()
