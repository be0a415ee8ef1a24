#!/usr/bin/env python3
"""The dependency rule of README.md's Layout section, checked on the source.

Every file under src/ belongs to one layer; a file may use (`use`, or a path in code) files of
its own layer and of layers below it, never above. Paths are resolved the way Rust resolves
them (`crate::`, `super::`, `self::`, a child module), to the file that defines the module.
Test modules at the end of a file are not checked. Exit status 1 lists each violation.
Run `scripts/check_layers.py --self-test` to see it catch a planted one.
"""

import re
import sys
from pathlib import Path

# A file takes the first layer whose rule matches its path below src/ (ui comes before the
# pages rule so that ui/page.rs is ui).
LAYERS = [
    ("composition", lambda p: p in ("main.rs", "server.rs", "lib.rs")),
    ("routes", lambda p: p == "app.rs"),
    ("ui", lambda p: p.startswith("ui/")),
    ("pages", lambda p: p.endswith("_page.rs") or p.endswith("/page.rs") or p.endswith("_dialog.rs") or p in ("compute/panels.rs", "buckets/uploader.rs",
                                                                                        "sharing/members_panel.rs", "market/publish_panel.rs",
                                                                                        "images/lineage_panel.rs", "auth/access_keys_panel.rs")),
    ("adapters", lambda p: p in ("images/mod.rs", "buckets/mod.rs", "compute/mod.rs", "jobs/mod.rs", "quotas/mod.rs",
                                 "sharing/mod.rs", "market/mod.rs", "keys/mod.rs",
                                 "buckets/transfer.rs", "images/csv_route.rs")
                         or p.startswith("api/")),
    ("services", lambda p: p.split("/")[0] in ("images", "buckets", "compute", "quotas", "sharing", "market", "keys")
                           or p in ("jobs/service.rs", "seed.rs", "demo_private.rs")),
    ("auth", lambda p: p.startswith("auth/")),
    ("state", lambda p: p == "state.rs"),
    ("jobs", lambda p: p.startswith("jobs/")),
    ("config", lambda p: p == "config.rs"),
    ("storage", lambda p: p == "storage.rs"),
    ("db", lambda p: p == "db.rs"),
    ("engine", lambda p: p.startswith("engine/")),
    ("leaf", lambda p: p in ("caller.rs", "error.rs", "format.rs", "regions.rs")),
]
# The layers top to bottom: a file may use its own layer and those after it.
ORDER = ["composition", "routes", "pages", "adapters", "services", "auth", "state", "ui", "jobs", "config",
         "storage", "db", "engine", "leaf"]


def layer_of(relative):
    for name, rule in LAYERS:
        if rule(relative):
            return name
    raise SystemExit(f"check_layers: src/{relative} belongs to no layer; add it to scripts/check_layers.py")


def module_path(relative):
    """src/images/store.rs -> ['images', 'store']; src/images/mod.rs -> ['images']."""
    parts = relative[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def module_file(src, parts):
    """The file defining module `parts`, if there is one."""
    if not parts:
        return "lib.rs"
    stem = "/".join(parts)
    for candidate in (f"{stem}.rs", f"{stem}/mod.rs"):
        if (src / candidate).is_file():
            return candidate
    return None


def strip_tests_and_comments(text):
    """The code of a file without its test module, comments, and string and char literals."""
    text = re.split(r"\n#\[cfg\(test\)\]\n(?:pub(?:\(crate\))? )?mod tests", text)[0]
    out, index = [], 0
    literal = re.compile(r"""r(#*)"[\s\S]*?"\1|b?"(?:\\[\s\S]|[^"\\])*"|'(?:\\[\s\S]+?|[^'\\])'""")
    while index < len(text):
        if text.startswith("//", index):
            index = text.find("\n", index) if "\n" in text[index:] else len(text)
        elif text.startswith("/*", index):
            index = text.find("*/", index) + 2 if "*/" in text[index:] else len(text)
        else:
            match = literal.match(text, index) if text[index] in "rb\"'" else None
            # An `r` or `b` only starts a literal at the start of a word (not in `for"`, `use`).
            if match and (text[index] in "\"'" or index == 0 or not (text[index - 1].isalnum() or text[index - 1] == "_")):
                out.append('""')
                index = match.end()
            else:
                out.append(text[index])
                index += 1
    return "".join(out)


def expand_use(tree):
    """'a::{b, c::{d, e}}' -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))
    match = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not match:
        return [re.sub(r"(::\*|::self)$", "", tree)]
    prefix, inner = match.groups()
    items, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            items.append(current)
            current = ""
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        current += char
    items.append(current)
    return [path for item in items if item for path in expand_use(prefix + item)]


def references(src, relative, text):
    """The module paths a file refers to, each as a list of segments from the crate root."""
    here = module_path(relative)
    # Only a mod.rs (or lib.rs) has its child modules beside it.
    folder = src / "/".join(here)
    children = set()
    if relative.endswith(("mod.rs", "lib.rs")):
        children = {child.stem for child in folder.glob("*.rs")} | {child.name for child in folder.iterdir() if child.is_dir()}
    paths = []
    for tree in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", text, re.M):
        paths += expand_use(tree)
    paths += re.findall(r"(?<![\w:])((?:crate|super)(?:::\w+)+)", text)
    resolved = []
    for path in paths:
        segments = path.split("::")
        if segments[0] == "crate":
            resolved.append(segments[1:])
        elif segments[0] == "self":
            resolved.append(here + segments[1:])
        elif segments[0] == "super":
            base, rest = here[:-1], segments[1:]
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
            resolved.append(base + rest)
        elif segments[0] in children:
            resolved.append(here + segments)
    return resolved


def target_file(src, segments):
    for length in range(len(segments), -1, -1):
        found = module_file(src, segments[:length])
        if found:
            return found
    return None


def violations(src):
    found = []
    for path in sorted(src.rglob("*.rs")):
        relative = path.relative_to(src).as_posix()
        if relative == "main.rs":
            continue  # the binary: composition, may use anything
        layer = layer_of(relative)
        text = strip_tests_and_comments(path.read_text())
        for segments in references(src, relative, text):
            target = target_file(src, segments)
            if target is None or target == relative:
                continue
            target_layer = layer_of(target)
            if ORDER.index(target_layer) < ORDER.index(layer):
                found.append(f"src/{relative} ({layer}) uses {'::'.join(segments)} in src/{target} ({target_layer})")
    return sorted(set(found))


def self_test(src):
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "src"
        shutil.copytree(src, copy)
        planted = copy / "images" / "store.rs"
        planted.write_text("use crate::app::App;\n" + planted.read_text())
        caught = [line for line in violations(copy) if "src/images/store.rs" in line and "app" in line]
        if not caught:
            raise SystemExit("check_layers self-test: a services file importing crate::app was not caught")
    print("check_layers self-test: a planted upward import is caught")


def main():
    src = Path(__file__).resolve().parent.parent / "src"
    if "--self-test" in sys.argv:
        self_test(src)
    found = violations(src)
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} upward imports: see the dependency rule in README.md's Layout section")
        sys.exit(1)
    print("layers: no file imports a layer above its own")


if __name__ == "__main__":
    main()
