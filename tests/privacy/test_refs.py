"""How a person is named on the command line, and the errors for what is not a name."""

from __future__ import annotations

import pytest

from bot.privacy import ContactRefError, parse_person_ref
from bot.privacy.refs import RefKind


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("42", RefKind.CONTACT, "42"),
        (" 0042 ", RefKind.CONTACT, "42"),
        ("telegram:123456789", RefKind.TELEGRAM, "123456789"),
        ("email: Ada@Example.ORG", RefKind.EMAIL, "ada@example.org"),
        ("phone:+1 (555) 010-0000", RefKind.PHONE, "+15550100000"),
        ("phone:0044 20 7946 0000", RefKind.PHONE, "+442079460000"),
        ("external:cust-7:a", RefKind.EXTERNAL, "cust-7:a"),
    ],
)
def test_forms_that_name_a_person(text: str, kind: RefKind, value: str) -> None:
    ref = parse_person_ref(text)
    assert (ref.kind, ref.value) == (kind, value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "names no contact"),
        ("ada", "names no contact"),
        ("0", "not a contact id"),
        ("-3", "names no contact"),
        ("tg:5", "names no contact"),
        ("telegram:", "nothing after 'telegram'"),
        ("telegram:abc", "not a Telegram user id"),
        ("email:not-an-address", "must be an email address"),
        ("phone:12", "international form"),
    ],
)
def test_anything_else_is_refused_with_a_sentence(text: str, problem: str) -> None:
    with pytest.raises(ContactRefError, match=problem):
        parse_person_ref(text)


def test_a_ref_prints_as_it_is_typed() -> None:
    assert str(parse_person_ref("telegram:5")) == "telegram:5"
    assert str(parse_person_ref("7")) == "7"
