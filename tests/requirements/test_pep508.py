"""imagec's PEP 508 parser against ``packaging``'s, the oracle: on packaging's own test
vectors, on the grid of valid requirements its tests build, on seeded mutations of both, and
on hostile lengths, the two agree on accept/reject, on every parsed part and normal form, and
on the message and place of every error."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import time
from pathlib import Path

import pytest
from packaging.markers import InvalidMarker
from packaging.markers import Marker as OracleMarker
from packaging.requirements import InvalidRequirement as OracleInvalid
from packaging.requirements import Requirement as OracleRequirement
from packaging.utils import canonicalize_name as oracle_canonicalize

from imagec.model.pep508 import (
    MAX_MARKER_NESTING,
    InvalidRequirement,
    Marker,
    Requirement,
    canonicalize_name,
)

# Marker strings with backslashes are read as Python string literals, by both parsers.
pytestmark = pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")

VECTORS = json.loads((Path(__file__).parent / "pep508_vectors.json").read_text())["strings"]
# Each vector is tried as a whole requirement and as each part of one.
FRAMES = ("{}", "name{}", "name {}", "name; {}", "name @ https://host/x.whl ; {}")


def _text(thing: object) -> object:
    try:
        return str(thing)
    except ValueError as exc:  # a marker value holding both quote characters
        return ("unprintable", str(exc))


def _parts(req: object) -> tuple:
    marker = req.marker  # type: ignore[attr-defined]
    return (
        req.name,  # type: ignore[attr-defined]
        sorted(req.extras),  # type: ignore[attr-defined]
        req.url,  # type: ignore[attr-defined]
        str(req.specifier),  # type: ignore[attr-defined]
        None if marker is None else _text(marker),
        _text(req),
    )


def oracle_requirement(text: str) -> tuple:
    try:
        req = OracleRequirement(text)
    except OracleInvalid as exc:
        return ("invalid", exc.message, exc.span)
    return ("valid", *_parts(req))


def our_requirement(text: str) -> tuple:
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        return ("invalid", exc.message, exc.span)
    return ("valid", *_parts(req))


def oracle_marker(text: str) -> tuple:
    try:
        return ("valid", _text(OracleMarker(text)))
    except InvalidMarker as exc:
        return ("invalid", exc.message, exc.span)


def our_marker(text: str) -> tuple:
    try:
        return ("valid", _text(Marker(text)))
    except InvalidRequirement as exc:
        return ("invalid", exc.message, exc.span)


def disagreements(texts: list[str]) -> tuple[list[str], int]:
    """The texts the two parsers read differently, and how many both accept."""
    wrong, valid = [], 0
    for text in texts:
        expected = oracle_requirement(text)
        valid += expected[0] == "valid"
        if our_requirement(text) != expected:
            wrong.append(f"requirement {text!r}: {our_requirement(text)} != {expected}")
        expected = oracle_marker(text)
        valid += expected[0] == "valid"
        if our_marker(text) != expected:
            wrong.append(f"marker {text!r}: {our_marker(text)} != {expected}")
    return wrong, valid


def test_packaging_test_vectors_agree() -> None:
    texts = [frame.format(s) for s in VECTORS for frame in FRAMES]
    wrong, valid = disagreements(texts)
    assert not wrong, "\n".join(wrong[:20])
    assert valid > 2000  # the corpus holds both kinds in number
    assert len(texts) * 2 - valid > 4000


def _grid() -> list[str]:
    """packaging's grid of valid requirements (its test_basic_valid_requirement_parsing)."""
    names = ["package", "pAcKaGe", "foo-bar.quux_bAz", "android12", "a"]
    extras = [(), ("a",), ("a", "B", "CDEF123"), ("all_blue", "All-Blue")]
    details = [
        (None, ""),
        ("https://example.com/name;v=1.1/?query=foo&bar=baz#blah", ""),
        ("git+ssh://git@github.com:pypa/packaging.git", ""),
        ("git+https://git.example.com/MyProject.git@refs/pull/123/head", ""),
        ("gopher:/foo/com", ""),
        (None, "==={ws}arbitrarystring"),
        (None, "({ws}=={ws}1.0{ws})"),
        (None, "=={ws}1.0-alpha"),
        (None, "<={ws}1!3.0.0.rc2"),
        (None, ">{ws}2.2{ws},{ws}<{ws}3"),
        (None, "~={ws}2.2.post3.dev4,!=2.*,==2.2+local.7{ws},"),
        (None, ">=v1.0RC1,<=1.0-1,>=1.0.0,>=1"),  # one version twice: written once
    ]
    markers = [
        None,
        "python_version{ws}>={ws}'3.3'",
        '({ws}python_version{ws}>={ws}"3.4"{ws}){ws}and extra{ws}=={ws}"Our_SQL"',
        "sys.platform{ws}!={ws}'linux' and(os.name{ws}=={ws}'linux' or "
        "python_implementation{ws}>={ws}'3.3'{ws}){ws}",
        "'Foo.Bar' in extras or \"x\" not in dependency_groups",
    ]
    out = []
    for name, extra, (url, spec), marker, ws in itertools.product(
        names, extras, details, markers, ["", " ", "\t"]
    ):
        parts = [name]
        if extra:
            parts.append("[" + f"{ws},{ws}".join(extra) + "]")
        if spec:
            parts.append(spec.format(ws=ws))
        if url is not None:
            parts += ["@", url]
        if marker is not None:
            parts += [" ;" if url is not None else ";", marker.format(ws=ws)]
        out.append(ws.join(parts))
    return out


def test_valid_grid_agrees() -> None:
    texts = _grid()
    wrong, valid = disagreements(texts)
    assert not wrong, "\n".join(wrong[:20])
    assert valid >= len(texts)  # every one a valid requirement


# Pieces a mutation inserts: PEP 508's and PEP 440's punctuation and words, and characters
# where Unicode and ASCII rules part (non-ASCII letters and spaces, the Kelvin sign).
PIECES = [
    *"=<>!~.*+,;()[]@'\" \tav0123456789-_",
    *("é", "\u00a0", "\u212a", "\u017f", "\\", "\n", "\x00"),
    *("rc", "post", "dev", " and ", " or ", "extra", "extras", "python_version", "in", "not"),
    *("===", "\\x22", "os.name", " not in ", "1!", "+local"),
]
SEEDS = [
    'requests[socks,Security] >= 2.31 , < 3 ; python_version >= "3.8" and '
    '(os_name == "posix" or extra == "Foo_Bar")',
    'foo @ https://x/y.whl ; sys_platform == "linux"',
    "foo==1.0+local.7",
    "foo~=1.2.3rc1.post2.dev3",
    "foo!=2.*,>=1",
    "foo===anything",
    'x; "a" in extras',
    "x (>=1, <2)",
]


def test_mutations_agree() -> None:
    rng = random.Random(508)
    base = VECTORS + SEEDS
    texts = []
    for _ in range(40_000):
        text = rng.choice(base)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            roll = rng.random()
            if roll < 0.4:
                text = text[:at] + rng.choice(PIECES) + text[at:]
            elif roll < 0.7:
                text = text[:at] + text[at + 1 :]
            else:
                text = text[:at] + rng.choice(PIECES) + text[at + 1 :]
        texts.append(text)
    wrong, valid = disagreements(texts)
    assert not wrong, "\n".join(wrong[:20])
    assert valid > 3000


def test_specifiers_agree() -> None:
    """Every operator with versions of each PEP 440 form, alone and in pairs: what the short
    pattern for plain release numbers takes, the full one must take the same way."""
    versions = [
        "1", "1.0", "01.02.03", "1!2.0", "v1.0", "V1", "1.0a1", "1.0-ALPHA.2", "1.0rc", "1.0c1",
        "1.0.post1", "1.0-1", "1.0r", "1.0.dev", "1.0_dev_3", "1.0+abc.5", "1.0+ABC", "1.*",
        "1.0.*", "1.0a1.*", "1..0", "1.", ".1", "1.0.", "a", "1.0+", "1.0-", "1.0 .*",
    ]  # fmt: skip
    operators = ["==", "!=", "<=", ">=", "<", ">", "~=", "===", "=", "=>", "<>"]
    singles = [f"{op}{sp}{v}" for op in operators for v in versions for sp in ("", " ")]
    texts = [f"x{s}" for s in singles] + [f"x {s} ; os_name == 'a'" for s in singles]
    texts += [f"x{a},{b}" for a, b in itertools.product(singles[::7], singles[::11])]
    texts += [f"x({s})" for s in singles]
    wrong, valid = disagreements(texts)
    assert not wrong, "\n".join(wrong[:20])
    assert valid > 200


def test_marker_nesting_limit_agrees() -> None:
    item = 'os_name == "a"'
    for depth in (MAX_MARKER_NESTING - 1, MAX_MARKER_NESTING, MAX_MARKER_NESTING + 1):
        text = "(" * depth + item + ")" * depth
        assert our_marker(text) == oracle_marker(text)
        assert our_requirement(f"x; {text}") == oracle_requirement(f"x; {text}")
    assert our_marker(text)[0] == "invalid"


def test_names_normalize_as_packaging_does() -> None:
    for name in ["Foo", "foo.bar_baz", "A--_.b", "ÄB_c", "x__", "-a-", "a.b-C__d"]:
        assert canonicalize_name(name) == oracle_canonicalize(name)


def test_normal_form_reparses_to_itself() -> None:
    for text in _grid()[::5]:
        once = str(Requirement(text))
        assert str(Requirement(once)) == once == str(OracleRequirement(text))


# Hostile lengths: each family at n and 4n characters. Linear parsing takes ~4x as long;
# a quadratic pattern would take ~16x, a backtracking one far longer.
HOSTILE = {
    "release": lambda n: "x==" + "1." * n + "a",
    "compatible": lambda n: "x~=" + "1" * n + "-",
    "arbitrary": lambda n: "x===" + "a" * n + " b",
    "name": lambda n: "a-" * n + "é",
    "extras": lambda n: "x[" + "a," * n,
    "specifiers": lambda n: "x" + ">=1," * n + "@",
    "marker": lambda n: "x;" + ' python_version>"3" and' * n + " (",
    "quoted": lambda n: 'x; os_name == "' + "a\\" * n,
    "epoch": lambda n: "x==" + "1" * n + "x",
    "local": lambda n: "x==1+" + "a." * n + "!",
    "url": lambda n: "x @ https://h/" + "a" * n + " ;",
}


@pytest.mark.parametrize("family", sorted(HOSTILE))
def test_long_input_is_linear(family: str) -> None:
    make = HOSTILE[family]

    def best(text: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            with contextlib.suppress(InvalidRequirement):
                Requirement(text)
            times.append(time.perf_counter() - start)
        return min(times)

    small, large = best(make(5_000)), best(make(20_000))
    assert large < 1.0, f"{family}: {large:.2f} s for {len(make(20_000))} characters"
    assert large < 10 * small + 0.005, f"{family}: {small:.4f} s -> {large:.4f} s for 4x"
    # And the oracle reads the same lengths as imagec does.
    assert our_requirement(make(20_000)) == oracle_requirement(make(20_000))


def test_error_message_shows_the_place() -> None:
    with pytest.raises(InvalidRequirement) as caught:
        Requirement("requests>=2.31;")
    assert str(caught.value) == (
        "Expected a marker variable or quoted string\n    requests>=2.31;\n                   ^"
    )
    with pytest.raises(InvalidRequirement) as caught:
        Requirement("demo===x,y")
    assert str(caught.value) == "Invalid specifier: 'y'"


EQUAL = [
    ("packaging>20.1", "packaging>20.1"),
    (
        'requests[security, tests]>=2.8.1,==2.8.*;python_version<"2.7"',
        'requests [security,tests] >= 2.8.1, == 2.8.* ; python_version < "2.7"',
    ),
    ('importlib-metadata; python_version<"3.8"', "importlib-metadata; python_version<'3.8'"),
    ("scikit-learn==1.0.1", "scikit_learn==1.0.1"),
    ("urllib3[secure]", "urllib3[SECURE]"),
    ("fishtank[all-blue]", "fishtank[all---blue]"),
    ("x @ https://h/x.whl ; os_name=='a'", 'X @ https://h/x.whl  ;os_name == "a"'),
]
DIFFERENT = [
    ("package_one", "package_two"),
    ("packaging>20.1", "packaging>=20.1"),
    ('appdirs; extra=="testing"', "appdirs; extra == 'docs'"),
    ("x @ https://h/x.whl", "x @ https://h/y.whl"),
    ("x[a]", "x[b]"),
]


@pytest.mark.parametrize(("a", "b"), EQUAL + DIFFERENT)
def test_equality_agrees(a: str, b: str) -> None:
    """packaging's equal and different pairs (its test_requirements.py), and more."""
    ours, theirs = Requirement(a) == Requirement(b), OracleRequirement(a) == OracleRequirement(b)
    assert ours == theirs == ((a, b) in EQUAL)
    assert (hash(Requirement(a)) == hash(Requirement(b))) or not ours
