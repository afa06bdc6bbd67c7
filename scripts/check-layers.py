#!/usr/bin/env python3
"""Checks that module dependencies point one way.

1. The top-level modules form layers, listed top to bottom in LAYERS: a
   module may use the modules below it, never one above it.
2. No import cycle between sibling modules anywhere in src/ (for example
   stub::auth -> stub::users -> stub::auth).

Dependencies are read from `use` declarations and inline `crate::` / `super::`
paths. Test code (files named tests.rs, folders named tests, and everything
after a file's first `#[cfg(test)]`) is not counted: tests may use anything.

Usage: scripts/check-layers.py [SRC_DIR]   (exit 1 and a report on violations)
"""
import os
import re
import sys

# Top to bottom. `main` (src/main.rs) is above everything.
LAYERS = ["report", "run", "targets", "scenario", "stub", "auth", "api", "clock", "term"]
# Leaves on the same level may not use each other either.
SAME_LEVEL = {"api": 6, "clock": 6, "term": 6}


def level(top):
    if top in SAME_LEVEL:
        return SAME_LEVEL[top]
    return LAYERS.index(top)


def module_of(src, path):
    rel = os.path.relpath(path, src)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return rel, os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs")


def is_test(parts):
    return "tests" in parts


def code_of(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    cut = text.find("#[cfg(test)]")
    return text if cut < 0 else text[:cut]


def expand(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    tree = tree.strip()
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix, inner = tree[:start], tree[start + 1 : i]
                parts, d, cur = [], 0, ""
                for c in inner:
                    if c == "," and d == 0:
                        parts.append(cur)
                        cur = ""
                        continue
                    d += c == "{"
                    d -= c == "}"
                    cur += c
                parts.append(cur)
                out = []
                for p in parts:
                    if p.strip():
                        out += [prefix + q for q in expand(p)]
                return out
    return [re.split(r"\s+as\s+", tree)[0].strip()]


def references(code):
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        paths += expand(m.group(1))
    paths += re.findall(r"\b(?:crate|super)(?:::\w+)+", code)
    return [p.replace(" ", "") for p in paths]


def resolve(path, here, here_is_mod, modules):
    parts = path.split("::")
    if parts[0] == "crate":
        base, rest = [], parts[1:]
    elif parts[0] == "super":
        base = here[:]
        rest = parts
        while rest and rest[0] == "super":
            base = base[:-1]
            rest = rest[1:]
    else:
        return None
    target = base
    for p in rest:
        if tuple(target + [p]) in modules:
            target = target + [p]
        else:
            break
    return target


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    files, modules = [], {()}
    for dp, _, fs in os.walk(src):
        for f in fs:
            if f.endswith(".rs"):
                p = os.path.join(dp, f)
                mod, is_mod = module_of(src, p)
                modules.add(tuple(mod))
                files.append((p, mod, is_mod))
    edges = {}
    for p, mod, is_mod in files:
        if is_test(mod) or mod == ["main"]:
            continue
        for ref in references(code_of(open(p, encoding="utf-8").read())):
            target = resolve(ref, mod, is_mod, modules)
            if target is None or target == mod:
                continue
            # Lift to the children of the common ancestor.
            i = 0
            while i < min(len(mod), len(target)) and mod[i] == target[i]:
                i += 1
            if i == len(mod) or i == len(target):
                continue  # a module and its own ancestor or descendant
            key = (tuple(mod[:i]), mod[i], target[i])
            edges.setdefault(key, []).append(f"{os.path.relpath(p, src)}: {ref}")
    problems = []
    for (parent, a, b), where in sorted(edges.items()):
        if parent == () and a in LAYERS + list(SAME_LEVEL) and b in LAYERS + list(SAME_LEVEL):
            if level(a) >= level(b):
                problems.append(f"layer: {a} uses {b}, which is not below it ({where[0]})")
    # Cycles between siblings: strongly connected components of size > 1.
    graph = {}
    for (parent, a, b) in edges:
        graph.setdefault(parent, {}).setdefault(a, set()).add(b)
    for parent, g in sorted(graph.items()):
        index, low, stack, on, out = {}, {}, [], set(), []
        counter = [0]

        def strong(v):
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in g.get(v, ()):
                if w not in index:
                    strong(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

        for v in sorted(g):
            if v not in index:
                strong(v)
        for comp in out:
            name = "::".join(parent) or "crate"
            detail = "; ".join(
                edges[(parent, a, b)][0] for a in comp for b in comp if (parent, a, b) in edges
            )
            problems.append(f"cycle in {name}: {' <-> '.join(comp)} ({detail})")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} dependency problem(s)")
        return 1
    print(f"module layers and cycles: ok ({len(files)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
