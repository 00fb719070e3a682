#!/usr/bin/env python3
"""Lists the server's module imports and fails on one that points up the layers.

Layers, low to high (a file may import its own layer or lower ones):
  base         clock ids secrets domain kv store telemetry error throttle jobs (`tick` only)
  domain       audit < witness < sms < identity < records < booking < call < hearing (an area may use lower areas)
  edge         http state config (the whole Config is composition: an area owns its section)
  composition  startup cli lib main
Inside an area, by file: store.rs (and store_*.rs) is the store, api.rs/routes.rs/views.rs/ws.rs/files.rs/admin.rs
are handlers, a file without any I/O type is a model, the rest are services;
handlers -> services -> stores -> models, never back. Handlers and an area's mod.rs are the HTTP
edge: they may use other areas, `http` and `state`.

Known upward imports are listed in scripts/layers-baseline.txt (the debt of issue 17). The check
fails on an upward import that is not listed, and on a listed one that is gone (so the list only
shrinks: delete the line). It also reports the largest import circle between files.

  python3 scripts/layers.py            check (CI)
  python3 scripts/layers.py --list     print every upward import
  python3 scripts/layers.py --update   rewrite the baseline (only to shrink it; review the diff)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
BASELINE = ROOT / "scripts" / "layers-baseline.txt"

HEADER = (
    "# Upward imports still to remove (issue 17). scripts/layers.py fails on any import not listed\n"
    "# here and on a line that no longer matches: delete lines as they are fixed, never add.\n"
)
BASE = "clock ids secrets domain kv store telemetry error throttle jobs".split()
DOMAIN = "audit witness sms identity records booking call hearing".split()
EDGE = "http state config".split()
COMPOSITION = "startup cli lib main".split()
HANDLER_FILES = {"api", "routes", "views", "ws", "files", "admin"}

PATH_RE = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")
USE_GROUP_RE = re.compile(r"\buse\s+(crate|super)::\{([^;]*)\};", re.S)


def rank(area):
    """(layer, order inside the layer) of a top-level module."""
    for layer, names in enumerate([BASE, DOMAIN, EDGE, COMPOSITION]):
        if area in names:
            return (layer, names.index(area) if layer == 1 else 0)
    return (0, 0)


def module_of(path):
    """src/a/b/c.rs -> ['a', 'b', 'c']; mod.rs names its directory."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    return parts


IO_RE = re.compile(r"\b(AppState|Sms|Identity|Booking|Call|Hearing|Db|Tx|sqlx|redis|Kv|tokio)\b")
ROLES = ["handler", "service", "store", "model"]


def role(module):
    """handler (0), service (1), store (2) or model (3: no I/O at all), by the file: an area's
    mod.rs is its face (0); api/routes/views/ws/files/admin are handlers; store (and store_*) is the store; a
    file that names no AppState, area sub-state (Sms, Identity, Booking, Call, Hearing), Db, Tx, sqlx,
    redis, Kv or tokio is a pure model."""
    f = file_of(module)
    if f is None or f.name == "mod.rs":
        return 0
    if f.stem in HANDLER_FILES:
        return 0
    if f.stem == "store" or f.stem.startswith("store_"):
        return 2
    if not IO_RE.search(cut_tests(strip_comments(f.read_text()))):
        return 3
    return 1


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def cut_tests(text):
    """Drops `#[cfg(test)] mod tests { … }` blocks: tests may import anything."""
    out, depth, skipping = [], 0, False
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not skipping and line.strip() == "#[cfg(test)]" and i + 1 < len(lines) and "mod " in lines[i + 1]:
            skipping, depth = True, 0
            i += 1
            continue
        if skipping:
            depth += line.count("{") - line.count("}")
            if depth <= 0 and "}" in line:
                skipping = False
            i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def use_paths(tree):
    """`a::{b, c::{d, e}}, f` -> [['a','b'], ['a','c','d'], ['a','c','e'], ['f']]."""
    out, depth, start = [], 0, 0
    items = []
    for i, ch in enumerate(tree):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(tree[start:i])
            start = i + 1
    items.append(tree[start:])
    for item in items:
        item = item.strip()
        if not item:
            continue
        if "{" in item:
            head, inner = item.split("{", 1)
            prefix = [p for p in head.strip().strip(":").split("::") if p]
            for sub in use_paths(inner.rsplit("}", 1)[0]):
                out.append(prefix + sub)
        else:
            out.append([p.strip() for p in item.split(" as ")[0].split("::") if p.strip()])
    return out


def targets(module, text):
    """The module paths (first two segments, as lists) that this file names."""
    found = []
    for kind, group in USE_GROUP_RE.findall(text):
        for parts in use_paths(group):
            if parts and parts[0] != "self":
                found.append(resolve(module, kind, parts))
    for kind, rest in PATH_RE.findall(text):
        found.append(resolve(module, kind, rest.strip(":").split("::")))
    return [t for t in found if t]


def resolve(module, kind, parts):
    parts = [p for p in parts if p]
    if kind == "crate":
        return parts[:3]
    base = module[:-1]
    return (base + parts)[:3] if base else None


def upward(src_mod, dst):
    """A reason string when src -> dst points up, else None. An area's handlers (and its
    mod.rs, the area's face) are the HTTP edge: they may use any area, `http` and `state`."""
    a, b = src_mod[0], dst[0]
    if a == b:
        target = file_of(dst)
        if target is None or target.name == "mod.rs" or target == file_of(src_mod):
            return None
        if role(dst) < role(src_mod):
            return f"{a}: {ROLES[role(src_mod)]} -> {ROLES[role(dst)]}"
        return None
    ra, rb = rank(a), rank(b)
    if ra[0] == 1 and role(src_mod) == 0:
        return f"{a} -> {b}" if rb[0] == 3 else None
    if rb > ra:
        return f"{a} -> {b}"
    return None


def file_of(mod):
    for cand in (SRC.joinpath(*mod).with_suffix(".rs"), SRC.joinpath(*mod, "mod.rs")):
        if cand.exists():
            return cand
    if len(mod) > 1:
        return file_of(mod[:-1])
    return None


def scan():
    edges, graph = set(), {}
    for path in sorted(SRC.rglob("*.rs")):
        if path.name.endswith("_tests.rs") or path.name == "tests.rs":
            continue
        module = module_of(path)
        if not module:
            continue
        text = cut_tests(strip_comments(path.read_text()))
        rel = str(path.relative_to(ROOT))
        for dst in targets(module, text):
            f = file_of(dst)
            if f and f != path:
                graph.setdefault(rel, set()).add(str(f.relative_to(ROOT)))
            why = upward(module, dst)
            if why:
                shown = module_of(f) if f else dst
                edges.add(f"{rel} -> crate::{'::'.join(shown)}  ({why})")
    return sorted(edges), graph


def circle_through(graph, node):
    """The files on an import circle with `node` (those it reaches that reach it back)."""
    def reach(g):
        seen, todo = {node}, [node]
        while todo:
            for w in g.get(todo.pop(), ()):
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        return seen
    back = {}
    for v, ws in graph.items():
        for w in ws:
            back.setdefault(w, set()).add(v)
    both = reach(graph) & reach(back)
    return sorted(both) if len(both) > 1 else []


def largest_cycle(graph):
    """Tarjan's strongly connected components; returns the largest one."""
    index, low, stack, on, best = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
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
            if len(comp) > len(best):
                best[:] = comp

    for v in list(graph):
        if v not in index:
            visit(v)
    return sorted(best) if len(best) > 1 else []


def main():
    edges, graph = scan()
    cycle = largest_cycle(graph)
    state_circle = circle_through(graph, "src/state.rs")
    if "--list" in sys.argv:
        print("\n".join(edges))
    if "--update" in sys.argv:
        BASELINE.write_text(HEADER + "".join(e.split("  (")[0] + "\n" for e in edges))
    known = set(l.strip() for l in BASELINE.read_text().splitlines() if l.strip() and not l.startswith("#")) if BASELINE.exists() else set()
    now = {e.split("  (")[0] for e in edges}
    new = sorted(e for e in edges if e.split("  (")[0] not in known)
    gone = sorted(known - now)
    print(f"layers: {len(now)} upward imports ({len(known)} in the baseline); largest import "
          f"circle {len(cycle)} files; circle through src/state.rs {len(state_circle)} files")
    if "--list" in sys.argv:
        print("largest circle:", " ".join(cycle))
        print("through state.rs:", " ".join(state_circle))
    for e in new:
        print(f"  new upward import: {e}")
    for e in gone:
        print(f"  fixed, delete from {BASELINE.relative_to(ROOT)}: {e}")
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
