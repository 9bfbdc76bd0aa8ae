"""What a pattern's Go regexp looks like: literal parts, path segments, ``**/X``.

These questions about a :mod:`imagec.context.goregex` tree let the directory index file a
pattern by what a path must look like to match it (a name, a first or last piece of
text) and skip the automaton for most paths. They only ever narrow down which patterns
to run; whether a path matches is always decided by a full test.
"""

from __future__ import annotations

from bisect import bisect_right

from imagec.context.goregex import ANY_DIRS, BEGIN, END, EPS, NOT_SLASH, Node

SLASH = ord("/")
_BEGIN: Node = ("empty", BEGIN)
_END: Node = ("empty", END)
ANY_NAME: Node = ("rep", NOT_SLASH, 0, -1)  # "*" as a whole path element
_SLASH_BOUNDS = (SLASH, SLASH + 1)

# How an index files a pattern (see imagec.context.dirindex).
NAME, FIRST, LAST, SEGMENT, ALWAYS, ANY, TEST, NONE = (
    "name",
    "first",
    "last",
    "segment",
    "always",
    "any",
    "test",
    "none",
)


def single(node: Node) -> str | None:
    """The character a node matches when it matches exactly one, else None."""
    if node[0] == "char" and len(node[1]) == 2 and node[1][1] == node[1][0] + 1:
        return chr(node[1][0])
    return None


def literal_prefix(node: Node) -> tuple[str, bool]:
    """(text every match starts with at position 0, whether that text is all it matches).

    Only for ``^`` followed by literal characters; ("", False) when unknown.
    """
    if node[0] != "cat" or node[1][0] != _BEGIN:
        return "", False
    items = node[1]
    out: list[str] = []
    at = 1
    while at < len(items):
        char = single(items[at])
        if char is None:
            break
        out.append(char)
        at += 1
    whole = at == len(items) - 1 and items[at] == _END
    return "".join(out), whole


def literal_suffix(node: Node) -> str:
    """Text every match ends with when the regexp ends with ``$``: ``.txt`` for ``*.txt``."""
    if node[0] != "cat" or node[1][-1] != _END:
        return ""
    out: list[str] = []
    for item in reversed(node[1][:-1]):
        char = single(item)
        if char is None:
            break
        out.append(char)
    return "".join(reversed(out))


def required_literal(node: Node) -> str:
    """The longest literal text every match contains (``foo`` for ``*foo*``), or ""."""
    if node[0] != "cat":
        return ""
    best = ""
    run: list[str] = []
    for item in (*node[1], EPS):
        char = single(item)
        if char is not None:
            run.append(char)
            continue
        if len(run) > len(best):
            best = "".join(run)
        run = []
    return best


def reads(node: Node, code: int) -> bool:
    """Whether some character node of the tree matches the code point ``code``."""
    tag = node[0]
    if tag == "char":
        return bisect_right(node[1], code) % 2 == 1
    if tag == "rep" or tag == "group":
        return reads(node[1], code)
    if tag == "cat" or tag == "alt":
        return any(reads(sub, code) for sub in node[1])
    return False


def has_empty(node: Node, kind: str) -> bool:
    """Whether the tree holds the zero-width assertion ``kind`` anywhere."""
    tag = node[0]
    if tag == "char":
        return False
    if tag == "empty":
        return node[1] == kind
    if tag == "rep" or tag == "group":
        return has_empty(node[1], kind)
    if tag == "cat" or tag == "alt":
        return any(has_empty(sub, kind) for sub in node[1])
    return False


def anchored(node: Node) -> bool:
    """Whether every match starts at position 0 (an unanchored side can skip over "/")."""
    tag = node[0]
    if tag == "cat":
        return anchored(node[1][0])
    if tag == "alt":
        return all(anchored(sub) for sub in node[1])
    if tag == "group":
        return anchored(node[1])
    return node == _BEGIN


def end_anchored(node: Node) -> bool:
    """Whether every match ends at the end of the text (else a match may be a prefix).

    ``\\Q`` or a trailing backslash turn patternmatcher's final ``$`` into a literal.
    """
    tag = node[0]
    if tag == "cat":
        return end_anchored(node[1][-1])
    if tag == "alt":
        return all(end_anchored(sub) for sub in node[1])
    if tag == "group":
        return end_anchored(node[1])
    return node == _END


def basename_part(node: Node) -> Node | None:
    """For ``**/X`` with X free of "/": the regexp ``^X`` tested on the last path element.

    ``^(.*/)?X`` matches a path exactly when X matches its last element and the
    directory part holds no newline ("." does not match one): X cannot read a "/", so
    ``(.*/)?`` must take all of the directory part.
    """
    if node[0] != "cat" or len(node[1]) < 3:
        return None
    begin, any_dirs, *rest = node[1]
    if begin != _BEGIN or any_dirs != ANY_DIRS:
        return None
    tail: Node = ("cat", tuple(rest))
    if reads(tail, SLASH) or has_empty(tail, BEGIN) or rest[-1] != _END:
        return None
    return ("cat", (begin, *rest))


def segments(node: Node) -> tuple[tuple[Node, ...], Node | None] | None:
    """``^S0/S1/.../Sk$`` or ``^S0/.../Sk/(.*/)?X$`` with no Si or X able to read "/".

    The first form matches a path exactly when the path has k + 1 elements and element i
    matches ``^Si$``: the literal slashes must fall on the path's slashes. The second
    (``dir/**/*.tmp``) matches when the first k + 1 elements match ``S0``..``Sk`` and the
    last element matches ``^X$``, with no newline in the elements between ("." does not
    match one). Returns (the ``^Si$`` regexps, ``^X$`` or None); None for any other shape
    (alternations, ``**/`` elsewhere, ``\\z`` or ``^`` inside, ...).
    """
    if node[0] != "cat" or len(node[1]) < 2:
        return None
    items = node[1]
    if items[0] != _BEGIN or items[-1] != _END:
        return None
    parts: list[list[Node]] = [[]]
    tail: Node | None = None
    for at in range(1, len(items) - 1):
        item = items[at]
        if item[0] == "char":  # most items: decide without recursing
            if item[1] == _SLASH_BOUNDS:
                parts.append([])
                continue
            if bisect_right(item[1], SLASH) % 2 == 1:
                return None
        elif item == ANY_DIRS and len(parts) > 1 and not parts[-1]:
            rest = items[at + 1 :]
            tail = ("cat", (_BEGIN, *rest))
            if any(reads(sub, SLASH) or has_empty(sub, BEGIN) for sub in rest[:-1]):
                return None
            parts.pop()
            break
        elif item != ANY_NAME and (
            reads(item, SLASH) or has_empty(item, END) or has_empty(item, BEGIN)
        ):
            return None
        parts[-1].append(item)
    if len(parts) < 2 and tail is None:
        return None  # one element: the plain regexp is as good
    return tuple(("cat", (_BEGIN, *part, _END)) for part in parts), tail


def literal_bucket(node: Node) -> tuple[str, str]:
    """How to find the texts ``node`` may match: (NAME | FIRST | LAST | SEGMENT | TEST, key).

    NAME: only the text ``key``. FIRST / LAST: texts starting / ending with ``key``.
    SEGMENT: texts starting with ``key`` + "/". TEST: texts containing ``key`` (maybe "").
    U+FFFD stands for any invalid byte, which paths keep as a lone surrogate, so keys
    stop short of it.
    """
    full, whole = literal_prefix(node)
    prefix = full.partition("\ufffd")[0]
    if "/" in prefix:
        return SEGMENT, prefix[: prefix.index("/")]
    if whole and prefix == full:
        return NAME, prefix
    if prefix:
        return FIRST, prefix
    return tail_bucket(node)


def tail_bucket(node: Node) -> tuple[str, str]:
    """(LAST, literal suffix) or (TEST, required literal): ``literal_bucket`` without
    looking at the start (already read, inside a directory)."""
    suffix = literal_suffix(node).rpartition("\ufffd")[2]
    if suffix:
        return LAST, suffix
    return TEST, max(required_literal(node).split("\ufffd"), key=len)
