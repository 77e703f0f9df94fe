#!/usr/bin/env python3
"""The test layers (unit, integration, realtime) as `swift test --filter` expressions.

Usage: test_layers.py check              every test is in a suite tagged with exactly one layer
       test_layers.py filter <layer>...  a --filter regular expression for the suites of the layers
       test_layers.py lanes <n> <layer>  n filters, one a line, sharing the layer's suites out so
                                         that each line's suites take about as long (by SECONDS)

Swift Testing in Swift 6.3 cannot filter by tag from `swift test`, so the suites are read from
the sources: a suite is a top-level type with `@Suite(... .tags(.<layer>) ...)`, and its tests
are the `@Test` functions in it and in top-level `extension`s of it. Layer tags go on suites
only (one each), never on tests. Anything this script cannot place (a test outside a tagged
suite, a nested suite, a second layer) is an error, so a filter can never miss a test.
"""
import os
import re
import sys

LAYERS = ("unit", "integration", "realtime")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DECLARATION = re.compile(r"^(?:(?:public|internal|final|private|fileprivate)\s+)*(struct|class|enum|actor|extension)\s+(\w+)")


# How long the slow suites take (seconds, measured on 2 cores): what `lanes` balances. A suite
# not listed counts as DEFAULT_SECONDS. The realtime suites mostly wait for media made in real
# time, so two lanes of them side by side take about half as long as one after the other.
SECONDS = {
    "KerfOriginTests.LiveTests": 195,
    "KerfOriginTests.PlayerTests": 73,
    "KerfOriginTests.LiveEncryptionOriginTests": 51,
    "KerfValidateTests.LiveTests": 35,
    "KerfOriginTests.RTMPTests": 17,
    "KerfOriginTests.LiveTextTests": 13,
    "KerfOriginTests.SlowClientTests": 9,
}
DEFAULT_SECONDS = 10


def layers_in(text):
    found = set()
    for tags in re.findall(r"\.tags\(([^)]*)\)", text):
        found |= {layer for layer in LAYERS if re.search(r"(^|[\s,(])\.%s\b" % layer, tags)}
    return found


def scan():
    suites, tests, errors = {}, [], []
    for target in sorted(os.listdir(ROOT)):
        folder = os.path.join(ROOT, target)
        if not target.endswith("Tests") or not os.path.isdir(folder):
            continue
        for directory, _, files in os.walk(folder):
            for name in sorted(files):
                if not name.endswith(".swift"):
                    continue
                path = os.path.join(directory, name)
                lines = open(path, encoding="utf-8").read().split("\n")
                current, attribute = None, None
                for number, line in enumerate(lines, 1):
                    where = "%s:%d" % (os.path.relpath(path, ROOT), number)
                    stripped = line.strip()
                    if line.startswith("@Suite"):
                        attribute = ""
                    elif stripped.startswith("@Suite"):
                        errors.append("%s: nested suite (layer filters need top-level suites)" % where)
                    if attribute is not None:
                        attribute += line + "\n"
                    match = DECLARATION.match(re.sub(r"^@Suite(\([^\n]*\))?\s*", "", line) if line.startswith("@Suite") else line)
                    if match and not line.startswith((" ", "\t")):
                        kind, type_name = match.groups()
                        key = "%s.%s" % (target, type_name)
                        if kind == "extension":
                            current = key
                        elif attribute is not None:
                            found = layers_in(attribute)
                            if len(found) != 1:
                                errors.append("%s: suite %s has %s layer tags (exactly one of .unit, .integration, .realtime)"
                                              % (where, type_name, len(found)))
                            suites[key] = (found, where)
                            current = key
                        else:
                            current = key
                        attribute = None
                    if stripped.startswith("@Test"):
                        attribute_text = stripped
                        if layers_in(attribute_text):
                            errors.append("%s: layer tags go on the suite, not on a test" % where)
                        if current is None:
                            errors.append("%s: a test outside a suite" % where)
                        else:
                            tests.append((current, where))
    for key in SECONDS:
        if key not in suites:
            errors.append("Tests/Scripts/test_layers.py: SECONDS names %s, which is not a suite" % key)
    for suite, where in tests:
        if suite not in suites:
            errors.append("%s: test in %s, which is not a @Suite with a layer tag" % (where, suite.split(".", 1)[1]))
    return suites, tests, errors


def expression(names):
    return "^(%s)(/|$)" % "|".join(sorted(re.escape(name) for name in names))


def lanes(suites, count, layer):
    """The layer's suites in `count` lanes: the longest first, each to the lane with least so far."""
    chosen = sorted((key for key, (found, _) in suites.items() if layer in found),
                    key=lambda key: (-SECONDS.get(key, DEFAULT_SECONDS), key))
    shares = [[] for _ in range(count)]
    for key in chosen:
        min(shares, key=lambda share: sum(SECONDS.get(k, DEFAULT_SECONDS) for k in share)).append(key)
    return [expression(share) for share in shares if share]


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("check", "filter", "lanes"):
        sys.exit(__doc__)
    suites, tests, errors = scan()
    if errors:
        sys.exit("test layers:\n  " + "\n  ".join(errors))
    if sys.argv[1] == "check":
        counts = {layer: sum(1 for found, _ in suites.values() if layer in found) for layer in LAYERS}
        print("test layers: %d suites (%s), %d test functions, each in exactly one layer"
              % (len(suites), ", ".join("%d %s" % (counts[layer], layer) for layer in LAYERS), len(tests)))
        return
    if sys.argv[1] == "lanes":
        if len(sys.argv) != 4 or not sys.argv[2].isdigit() or int(sys.argv[2]) < 1 or sys.argv[3] not in LAYERS:
            sys.exit(__doc__)
        found = lanes(suites, int(sys.argv[2]), sys.argv[3])
        if not found:
            sys.exit("test layers: no suites in the %s layer" % sys.argv[3])
        print("\n".join(found))
        return
    wanted = set(sys.argv[2:])
    unknown = wanted - set(LAYERS)
    if not wanted or unknown:
        sys.exit("layers are %s" % ", ".join(LAYERS))
    print(expression(key for key, (found, _) in suites.items() if found & wanted))


main()
