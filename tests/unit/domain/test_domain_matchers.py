"""Label matchers: each operator, anchoring, missing labels, parsing and rendering."""

from __future__ import annotations

import pytest

from watchkeeper.domain.matchers import (
    Matcher,
    as_matcher,
    compile_matchers,
    format_matchers,
    matcher_from_mapping,
    parse_matcher,
    parse_matchers,
)

LABELS = {"alertname": "DiskFull", "env": "prod", "instance": "db-1:9100", "empty": ""}

MATCH_CASES = [
    # (matcher text, labels, expected)
    ('alertname="DiskFull"', LABELS, True),
    ('alertname="Disk"', LABELS, False),
    ('env!="prod"', LABELS, False),
    ('env!="dev"', LABELS, True),
    ('alertname=~"Disk.*"', LABELS, True),
    ('alertname=~"Disk"', LABELS, False),  # anchored at the end
    ('alertname=~"Full"', LABELS, False),  # anchored at the start
    ('alertname=~".*Full"', LABELS, True),
    ('env=~"prod|stage"', LABELS, True),  # alternation is wrapped in a group
    ('env=~"stage|prod.+"', LABELS, False),
    ('alertname!~"Disk.*"', LABELS, False),
    ('alertname!~"Mem.*"', LABELS, True),
    ('team=""', LABELS, True),  # a missing label reads as ""
    ('team!=""', LABELS, False),
    ('team=~".*"', LABELS, True),
    ('team=~".+"', LABELS, False),
    ('team!~".+"', LABELS, True),
    ('empty=""', LABELS, True),
    ('team="sre"', LABELS, False),
    ('team!="sre"', LABELS, True),
    ('instance="db-1:9100"', LABELS, True),
    ('env=~"prod\\n"', {"env": "prod\n"}, True),
    ('env=~"prod"', {"env": "prod\n"}, False),  # `$` would accept a trailing newline
]


@pytest.mark.parametrize(
    ("text", "labels", "expected"), MATCH_CASES, ids=[f"{c[0]}->{c[2]}" for c in MATCH_CASES]
)
def test_matcher_matches(text: str, labels: dict[str, str], expected: bool) -> None:
    matcher = parse_matcher(text)
    assert matcher.matches(labels) is expected
    assert compile_matchers([matcher])(labels) is expected


PARSE_CASES = [
    ('alertname=~"Disk.*"', Matcher("alertname", "=~", "Disk.*")),
    ("env=prod", Matcher("env", "=", "prod")),
    ("  env  !=  prod  ", Matcher("env", "!=", "prod")),
    ('env!~"dev|test"', Matcher("env", "!~", "dev|test")),
    ("team=", Matcher("team", "=", "")),
    ('team=""', Matcher("team", "=", "")),
    ('msg="say \\"hi\\""', Matcher("msg", "=", 'say "hi"')),
    ('path="C:\\\\tmp"', Matcher("path", "=", "C:\\tmp")),
    ('name=~"Disk\\.full"', Matcher("name", "=~", "Disk\\.full")),  # regex escapes survive
    ('msg="a, b"', Matcher("msg", "=", "a, b")),
    ("app.kubernetes.io/name=web", Matcher("app.kubernetes.io/name", "=", "web")),
    ("job=~postgres-.*", Matcher("job", "=~", "postgres-.*")),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse_matcher(text: str, expected: Matcher) -> None:
    assert parse_matcher(text) == expected


BAD_CASES = [
    ("alertname", "not of the form name OP value"),
    ('=~"x"', "not of the form"),
    ('1abc="x"', "not of the form"),
    ('alertname=~"Disk(.*"', "regular expression 'Disk(.*' of 'alertname' is invalid"),
    ('env="prod', "no closing"),
    ('env="prod\\"', "no closing"),
    ('env="a"b"', "must be escaped"),
    ("env=prod stage", "put it in double quotes"),
    ("env==prod", "starts with '='"),
    ("env=~~x", "starts with '~'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_parse_matcher_errors_name_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_matcher(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "matcher",
    [
        Matcher("a", "=", 'quote " and backslash \\ and newline \n and tab \t'),
        Matcher("a", "=~", "Disk\\.full|Mem\\d+"),
        Matcher("a", "!=", ""),
        Matcher("a", "!~", "x,y z"),
    ],
    ids=["escapes", "regex-escapes", "empty", "comma-space"],
)
def test_text_form_round_trips(matcher: Matcher) -> None:
    assert parse_matcher(str(matcher)) == matcher


def test_str_renders_quoted() -> None:
    assert str(parse_matcher("env=prod")) == 'env="prod"'
    assert format_matchers(parse_matchers(["a=b", 'c=~"d|e"'])) == '{a="b", c=~"d|e"}'


MAPPING_CASES = [
    ({"name": "env", "value": "prod"}, Matcher("env", "=", "prod")),
    ({"name": "env", "op": "!~", "value": "dev.*"}, Matcher("env", "!~", "dev.*")),
    ({"name": "env", "value": "p.*", "isRegex": True}, Matcher("env", "=~", "p.*")),
    ({"name": "env", "value": "p", "isEqual": False}, Matcher("env", "!=", "p")),
    (
        {"name": "env", "value": "p", "isRegex": True, "isEqual": False},
        Matcher("env", "!~", "p"),
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), MAPPING_CASES, ids=["default-op", "op", "isRegex", "isEqual", "both"]
)
def test_mapping_form(data: dict[str, object], expected: Matcher) -> None:
    assert matcher_from_mapping(data) == expected
    assert as_matcher(data) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "env"}, "needs value"),
        ({"name": "env", "value": "x", "operator": "="}, "unknown matcher field(s) operator"),
        ({"name": "env", "value": "x", "op": "=="}, "operator '==' is not one of"),
        ({"name": "env", "value": 3}, "must be text"),
        ({"name": "env", "value": "(", "op": "=~"}, "is invalid"),
    ],
    ids=["missing-value", "unknown-key", "bad-op", "non-text", "bad-regex"],
)
def test_mapping_form_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        matcher_from_mapping(data)
    assert message in str(caught.value)


def test_parse_matchers_names_position() -> None:
    with pytest.raises(ValueError, match=r"^matcher 2: "):
        parse_matchers(["a=b", "nonsense"])


@pytest.mark.parametrize(
    ("texts", "labels", "expected"),
    [
        ([], {}, True),
        (["a=1", "b=2"], {"a": "1", "b": "2"}, True),
        (["a=1", "b=2"], {"a": "1", "b": "3"}, False),
        (["a=1", 'b=~"2|3"', 'c!~".+"'], {"a": "1", "b": "3"}, True),
        (["a=1", 'b=~"2|3"', 'c!~".+"'], {"a": "1", "b": "3", "c": "x"}, False),
    ],
    ids=["none-match-all", "all-match", "one-fails", "mixed-ops", "last-fails"],
)
def test_compile_matchers_needs_all(
    texts: list[str], labels: dict[str, str], expected: bool
) -> None:
    assert compile_matchers(parse_matchers(texts))(labels) is expected
