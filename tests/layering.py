#!/usr/bin/env python3
"""Checks the framework's layering on its include graph, read as text.

    layering.py FRAMEWORK_DIR REPO_ROOT

Rules (each violation prints `file: rule: include chain`, and the exit status is 1):
  pipeline-no-features  core sources and the core's public headers reach no feature header
  util-below-core       util/ reaches only util/ and the public headers it implements
  core-is-private       nothing outside src/core/ includes a "core/..." header
  core-types-unnamed    app.hpp, request.hpp, response.hpp name no feature type
  app-stays-small       class App declares at most 14 public member functions
On success it prints a summary per rule and the line `layering holds`.
"""

import re
import sys
from collections import deque
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.MULTILINE)
SOURCE_SUFFIXES = {".cpp", ".hpp", ".h", ".cc", ".hh", ".ipp", ".cxx", ".hxx"}

# The pipeline's public headers; everything under spur/detail/ counts too.
CORE_PUBLIC = ["app.hpp", "request.hpp", "response.hpp", "handler.hpp", "router.hpp", "extension.hpp",
               "serving.hpp", "http_error.hpp", "validation_error.hpp", "locals.hpp", "inputs.hpp",
               "offload.hpp", "task.hpp", "log.hpp", "types.hpp", "strings.hpp", "random.hpp",
               "trace_context.hpp"]
# Every folder of spur/ but detail/ is a feature's room (views, sse, middleware, mysql, …): read
# from the tree, so a new room is covered the day it is made.
CORE_FOLDERS = {"detail"}
# HTTP vocabulary the core's Response::cookie uses: in spur/http/ but not a feature.
FEATURE_EXCEPTIONS = {"http/cookie.hpp", "cookie.hpp"}
FEATURE_FLAT = ["views.hpp", "sse.hpp", "health.hpp", "openapi.hpp", "contract.hpp", "conditional.hpp",
                "websocket.hpp", "websocket_room.hpp", "metrics.hpp", "session.hpp", "signed_cookie.hpp",
                "jwt.hpp", "password.hpp", "form_data.hpp", "http_client.hpp", "server.hpp", "tls.hpp",
                "mysql.hpp", "spur.hpp"]
# What util/ may reach besides itself: the logs it implements (util/log.cpp, util/buffered_log.cpp;
# buffered_log.hpp reaches only log.hpp). Kept to what util uses today; widen only for a leaf
# vocabulary header, never for a core one.
UTIL_ALLOWED_PUBLIC = {"log.hpp", "buffered_log.hpp"}
# Types of features; the core's three types must not name them.
FEATURE_TYPES = ["Views", "ViewOptions", "EventStream", "SseOptions", "WebSocket", "WsHandler",
                 "OpenApiOptions", "BodySource", "HandlingObserver", "RouteMatch", "Background"]
APP_MAX_PUBLIC_FUNCTIONS = 14
OUTSIDE_ROOTS = ["app", "examples", "tests", "fuzz", "bench"]


class Tree:
    """The framework's files and the include graph between them (external headers dropped)."""

    def __init__(self, framework, repo):
        self.framework = framework.resolve()
        self.repo = repo.resolve()
        self.include = self.framework / "include"
        self.src = self.framework / "src"
        self.spur = self.include / "spur"
        self._edges = {}

    def resolve(self, includer, delim, name):
        """The file `#include <name>` / `"name"` in `includer` refers to, or None if external."""
        candidates = []
        if delim == '"':
            candidates.append(includer.parent / name)
            candidates.append(self.src / name)
        candidates.append(self.include / name)
        if delim == "<" and not name.startswith("spur/"):
            return None
        for candidate in candidates:
            if candidate.is_file():
                return candidate.resolve()
        return None

    def includes(self, path):
        """(raw include text, resolved file or None) for each #include line of `path`."""
        if path not in self._edges:
            text = path.read_text(encoding="utf-8", errors="replace")
            self._edges[path] = [(m.group(1) + m.group(2) + (">" if m.group(1) == "<" else '"'),
                                  self.resolve(path, m.group(1), m.group(2)))
                                 for m in INCLUDE.finditer(text)]
        return self._edges[path]

    def reach(self, start, stop):
        """Files reachable from `start` for which stop(file) holds, each with its shortest chain.
        The search does not continue past such a file: its own includes would only repeat it."""
        parent = {start: None}
        queue = deque([start])
        hits = []
        while queue:
            node = queue.popleft()
            for _, target in self.includes(node):
                if target is None or target in parent:
                    continue
                parent[target] = node
                if stop(target):
                    hits.append((target, self.chain(parent, target)))
                else:
                    queue.append(target)
        return hits, set(parent) - {start}

    def chain(self, parent, node):
        links = []
        while node is not None:
            links.append(node)
            node = parent[node]
        links.reverse()
        return " -> ".join([self.show_file(links[0])] + [self.label(n) for n in links[1:]])

    def label(self, path):
        """How an include of `path` is spelled: <spur/...> or "room/file.hpp"."""
        if path.is_relative_to(self.include):
            return f"<{path.relative_to(self.include).as_posix()}>"
        if path.is_relative_to(self.src):
            return f'"{path.relative_to(self.src).as_posix()}"'
        return self.show_file(path)

    def show_file(self, path):
        return path.relative_to(self.repo).as_posix() if path.is_relative_to(self.repo) else str(path)

    def in_room(self, path, *rooms):
        return any(path.is_relative_to(self.src / room) for room in rooms)

    def is_feature(self, path):
        if path.is_relative_to(self.src):
            return not self.in_room(path, "core", "util")
        if not path.is_relative_to(self.spur):
            return False
        name = path.relative_to(self.spur).as_posix()
        if name in FEATURE_EXCEPTIONS:
            return False
        first = name.split("/")[0]
        return name in FEATURE_FLAT or ("/" in name and first not in CORE_FOLDERS)

    def sources(self, folder):
        return sorted(p.resolve() for p in folder.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES)


def strip_comments(text):
    """The text with // and /* */ comments blanked (string and character literals respected)."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.DOTALL)

    def blank(m):
        s = m.group(0)
        return s if s[0] in "\"'" else re.sub(r"[^\n]", " ", s)

    return pattern.sub(blank, text)


# --- rules -------------------------------------------------------------------------------------

def pipeline_no_features(tree, report):
    files = tree.sources(tree.src / "core")
    files += [tree.spur / name for name in CORE_PUBLIC]
    files += tree.sources(tree.spur / "detail")
    for f in files:
        if not f.is_file():
            report.violation(f, "pipeline-no-features", "core public header is missing")
            continue
        for _, chain in tree.reach(f, tree.is_feature)[0]:
            report.violation(f, "pipeline-no-features", f"includes a feature header: {chain}")
    return f"{len(files)} core files (src/core, core public headers, spur/detail) reach no feature header"


def util_below_core(tree, report):
    files = tree.sources(tree.src / "util")
    allowed = {(tree.spur / name).resolve() for name in UTIL_ALLOWED_PUBLIC}
    used = set()
    for f in files:
        hits, reached = tree.reach(f, lambda p: not tree.in_room(p, "util") and p not in allowed)
        used |= reached & allowed
        for _, chain in hits:
            report.violation(f, "util-below-core", f"reaches outside util/: {chain}")
    names = ", ".join(sorted(tree.label(p) for p in used)) or "none"
    return f"{len(files)} util files reach only util/ and {names}"


def core_is_private(tree, report):
    files = [f for f in tree.sources(tree.src) if not tree.in_room(f, "core")]
    files += tree.sources(tree.include)
    for root in OUTSIDE_ROOTS:
        files += outside_sources(tree.repo / root)
    core = tree.src / "core"
    for f in files:
        for raw, target in tree.includes(f):
            if target is not None and target.is_relative_to(core):
                report.violation(f, "core-is-private", f"includes a private core header: {raw}")
    return f"{len(files)} files outside src/core include no private core header"


def outside_sources(root):
    """Sources under `root`, skipping node_modules, hidden folders and build trees."""
    found = []
    if not root.is_dir():
        return found
    for p in sorted(root.iterdir()):
        if p.is_dir():
            if p.name == "node_modules" or p.name.startswith((".", "build")) or (p / "CMakeCache.txt").exists():
                continue
            found += outside_sources(p)
        elif p.suffix in SOURCE_SUFFIXES:
            found.append(p.resolve())
    return found


def core_types_unnamed(tree, report):
    words = re.compile(r"\b(" + "|".join(FEATURE_TYPES) + r")\b")
    names = ["app.hpp", "request.hpp", "response.hpp"]
    for name in names:
        path = tree.spur / name
        text = strip_comments(path.read_text(encoding="utf-8"))
        for number, line in enumerate(text.splitlines(), 1):
            for m in words.finditer(line):
                report.violation(path, "core-types-unnamed",
                                 f"line {number} names the feature type {m.group(1)}: {line.strip()}")
    return f"{', '.join(names)} name none of {' '.join(FEATURE_TYPES)}"


def app_public_functions(text):
    """Names of the member functions in the public sections of `class App` (overloads repeated;
    constructors, the destructor, assignment operators, nested types and friends left out)."""
    text = strip_comments(text)
    m = re.search(r"\bclass\s+App\b[^;{]*\{", text)
    if not m:
        return None
    # Split the class body into top-level declarations, noting the access of each.
    access, depth, start, decls = "private", 0, m.end(), []
    i = m.end()
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                break
            depth -= 1
            if depth == 0:
                # A body just closed: an inline function ends here; a nested type continues to its ';'.
                head = text[start:i + 1].strip()
                if not re.match(r"(template\s*<.*?>\s*)?(struct|class|union|enum)\b", head, re.DOTALL):
                    decls.append((access, head))
                    start = i + 1
        elif depth == 0:
            if c == ";":
                decls.append((access, text[start:i].strip()))
                start = i + 1
            elif c == ":" and text[i + 1:i + 2] != ":" and text[i - 1:i] != ":":
                label = text[start:i].strip()
                if label in ("public", "protected", "private"):
                    access, start = label, i + 1
        i += 1
    functions = []
    for acc, decl in decls:
        if acc != "public" or not decl:
            continue
        decl = re.sub(r"^template\s*<.*?>\s*", "", decl, flags=re.DOTALL)
        if re.match(r"(friend|using|typedef|static_assert|struct|class|union|enum)\b", decl):
            continue
        name = declared_function(decl)
        if name is None or name in ("App", "~App", "operator="):
            continue
        functions.append(name)
    return functions


def declared_function(decl):
    """The name of the function `decl` declares, or None for a data member."""
    m = re.search(r"\boperator\s*(\(\)|[^\s(]+)\s*\(", decl)
    if m:
        return "operator" + m.group(1)
    angle = 0
    for i, c in enumerate(decl):
        if c == "<":
            angle += 1
        elif c == ">":
            angle -= 1
        elif c == "=" and angle == 0:
            return None  # an initialiser before any parameter list: a data member
        elif c == "(" and angle == 0:
            name = re.search(r"(~?[A-Za-z_]\w*)\s*$", decl[:i])
            return name.group(1) if name else None
    return None


def app_stays_small(tree, report):
    path = tree.spur / "app.hpp"
    functions = app_public_functions(path.read_text(encoding="utf-8"))
    if functions is None:
        report.violation(path, "app-stays-small", "class App not found")
        return "class App not found"
    if len(functions) > APP_MAX_PUBLIC_FUNCTIONS:
        report.violation(path, "app-stays-small", f"class App declares {len(functions)} public member "
                         f"functions (at most {APP_MAX_PUBLIC_FUNCTIONS}): {' '.join(functions)}")
    return (f"class App declares {len(functions)} of at most {APP_MAX_PUBLIC_FUNCTIONS} public member "
            f"functions: {' '.join(functions)}")


class Report:
    def __init__(self, tree):
        self.tree = tree
        self.violations = []

    def violation(self, path, rule, message):
        line = f"{self.tree.show_file(path)}: {rule}: {message}"
        print(line)
        self.violations.append(line)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tree = Tree(Path(argv[1]), Path(argv[2]))
    if not tree.spur.is_dir() or not tree.src.is_dir():
        print(f"{argv[1]}: not a framework directory (no include/spur or src)", file=sys.stderr)
        return 2
    report = Report(tree)
    rules = [("pipeline-no-features", pipeline_no_features), ("util-below-core", util_below_core),
             ("core-is-private", core_is_private), ("core-types-unnamed", core_types_unnamed),
             ("app-stays-small", app_stays_small)]
    summaries = [(name, rule(tree, report)) for name, rule in rules]
    if report.violations:
        print(f"layering broken: {len(report.violations)} violation(s)")
        return 1
    for name, summary in summaries:
        print(f"{name}: {summary}")
    print("layering holds")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
