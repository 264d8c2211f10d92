#!/usr/bin/env python3
"""Fails when Hongshu's domains depend on each other in a circle.

A domain is a folder of crates/app/src with a service (service.rs, or service/ for one split by
subject). Its rules (every file but api.rs and pages.rs, which sit on top of all the domains) may use another domain's service, store or
subscriber; that is an edge. Types modules are plain data and make no edge. The edges must
form no cycle, so that each domain can be read, tested and changed from the bottom up.
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "crates" / "app" / "src"
TOP_LAYER = {"api.rs", "pages.rs"}
USE = re.compile(r"crate::([a-z_]+)::([a-z_]+)")


def domains():
    return sorted(
        d.name
        for d in SRC.iterdir()
        if (d / "service.rs").is_file() or (d / "service" / "mod.rs").is_file()
    )


def edges(names):
    graph = {name: {} for name in names}
    for name in names:
        for file in sorted((SRC / name).rglob("*.rs")):
            if file.name in TOP_LAYER:
                continue
            for line_no, line in enumerate(file.read_text().splitlines(), 1):
                for other, module in USE.findall(line):
                    if other in graph and other != name and module != "types":
                        graph[name].setdefault(other, f"{file.relative_to(SRC)}:{line_no}")
    return graph


def find_cycle(graph):
    state = {}
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def main():
    graph = edges(domains())
    if "--show" in sys.argv:
        for name, outs in graph.items():
            print(f"{name} -> {', '.join(sorted(outs)) or '-'}")
    cycle = find_cycle(graph)
    if cycle:
        print("domains depend on each other in a circle:", file=sys.stderr)
        for a, b in zip(cycle, cycle[1:]):
            print(f"  {a} -> {b}  ({graph[a][b]})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
