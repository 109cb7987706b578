#!/usr/bin/env python3
"""Module circles: pairs of module files of one crate that import each other.

    python3 scripts/module-circles.py                 # every crate of the workspace (CI)
    python3 scripts/module-circles.py crates/sscard-cli   # the crates named

A file imports another when it names it through `use crate::…`, `use super::…`, `use self::…`
or a `crate::…`/`super::…` path in its code (test modules after `#[cfg(test)]` are left out).
A child module naming its parent does not count (that is how Rust nests modules); a parent
naming its child does. Prints each pair `crate a <-> b` and exits 1 when a pair is not in
ALLOWED below; prints nothing and exits 0 when the crates are clean.
"""
import os
import re
import sys
import tomllib

# Pairs known and being fixed, each with why it is tolerated for now. Remove an entry as soon as
# its pair is gone (an entry that no longer matches anything is noted in the output).
ALLOWED = {
    # cleanroom/terminal is an independent implementation of the specification, kept as written
    # by its author as a conformance oracle: sscard's engineers do not edit it.
    ("crates/cleanroom/terminal", "error", "keys"),
}


def workspace_crates(root):
    """The workspace's member crates and the root package, as paths relative to `root`."""
    with open(os.path.join(root, "Cargo.toml"), "rb") as f:
        manifest = tomllib.load(f)
    crates = list(manifest.get("workspace", {}).get("members", []))
    if "package" in manifest:
        crates.insert(0, ".")
    return crates


def module_path(src, path):
    """The module path of a source file: src/a/b.rs and src/a/b/mod.rs are ("a", "b")."""
    parts = os.path.relpath(path, src)[: -len(".rs")].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def imported_paths(text):
    """Each path a file imports, as (the path's segments, the names of a `{…}` group or None)."""
    cut = text.find("#[cfg(test)]")
    if cut >= 0:
        text = text[:cut]
    text = re.sub(r"//[^\n]*", "", text)
    for m in re.finditer(r"\buse\s+((?:crate|super|self)(?:::\w+)*)(?:::\{([^;]*)\})?", text):
        yield m.group(1).split("::"), m.group(2)
    for m in re.finditer(r"(?<![\w:])((?:crate|super)(?:::\w+)+)", text):
        yield m.group(1).split("::"), None


def edges_of(crate):
    src = os.path.join(crate, "src")
    files = {}
    for folder, _, names in os.walk(src):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(folder, name)
                files[path] = module_path(src, path)
    modules = set(files.values())
    edges = set()
    for path, module in files.items():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for segments, group in imported_paths(text):
            head, rest = segments[0], segments[1:]
            if head == "crate":
                base = []
            elif head == "self":
                base = list(module)
            else:  # super: the parent of this module
                base = list(module)[:-1]
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
            targets = []
            if group:
                for item in re.split(r"[,\s]+", re.sub(r"\{[^}]*\}", "", group)):
                    item = item.split("::")[0]
                    if item:
                        targets.append(rest + [item])
            else:
                targets.append(rest)
            for target in targets:
                full = base + target
                # the longest prefix that is a module file
                for k in range(len(full), 0, -1):
                    if tuple(full[:k]) in modules:
                        found = tuple(full[:k])
                        break
                else:
                    continue
                is_ancestor = len(found) < len(module) and module[: len(found)] == found
                if found != module and not is_ancestor:
                    edges.add((module, found))
    return edges


def main(argv):
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    crates = argv or workspace_crates(root)
    if not argv:
        os.chdir(root)
    failed = False
    seen = set()
    for crate in crates:
        crate = os.path.normpath(crate)
        crate = "." if crate == "." else crate
        edges = edges_of(crate)
        for a, b in sorted(edges):
            if (b, a) in edges and a < b:
                names = ("::".join(a), "::".join(b))
                allowed = (crate, *names) in ALLOWED
                seen.add((crate, *names))
                print(f"{crate} {names[0]} <-> {names[1]}{'  (allowed for now)' if allowed else ''}")
                failed |= not allowed
    if not argv:
        for stale in sorted(ALLOWED - seen):
            print(f"note: {stale[0]} {stale[1]} <-> {stale[2]} is allowed but no longer a circle: remove it from ALLOWED")
    if failed:
        print("module circles: two files of one crate import each other (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
