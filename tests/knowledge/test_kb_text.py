"""Normalisation and tokenisation per language."""

from bot.knowledge.text import MAX_CHARS, analyse, normalise, tokens


def test_english_stems_meet_across_inflections() -> None:
    a = analyse("Where are my deliveries?", "en").words
    b = analyse("where is my delivery", "en").words
    assert "deliveri" in a and "deliveri" in b


def test_apostrophes_and_case_are_folded() -> None:
    assert tokens("What's MY Order") == ["whats", "my", "order"]


def test_russian_morphology_meets_one_stem() -> None:
    stems = {analyse(w, "ru").words[0] for w in ("возврат", "возврата", "возвратом")}
    assert len(stems) == 1
    stems = {analyse(w, "ru").words[0] for w in ("доставка", "доставки", "доставку")}
    assert len(stems) == 1


def test_russian_forms_that_snowball_splits_meet() -> None:
    # Snowball gives "удали" -> "уда" but "удалить" -> "удал"; "покупок" vs "покупк".
    for forms in (("удали", "удалить", "удалите"), ("покупок", "покупки"), ("список", "списка")):
        assert len({analyse(w, "ru").words[0] for w in forms}) == 1


def test_short_russian_words_keep_their_stem() -> None:
    assert analyse("тише", "ru").words[0] == "тиш"


def test_russian_yo_is_folded() -> None:
    assert analyse("ёлка", "ru").words == analyse("елка", "ru").words


def test_latin_word_in_russian_question_is_stemmed_as_english() -> None:
    assert "deliveri" in analyse("где delivery", "ru").words


def test_romanian_cedilla_comma_and_bare_letters_meet() -> None:
    forms = ("şcoala", "școala", "scoala", "ŞCOALA")
    assert len({analyse(f, "ro").words for f in forms}) == 1
    assert analyse("livrării", "ro").words == analyse("livrarii", "ro").words


def test_korean_uses_character_bigrams() -> None:
    words = analyse("배송은 언제", "ko").words
    assert "배송" in words and "송은" in words and "언제" in words


def test_char_ngrams_survive_a_typo() -> None:
    good = set(analyse("delivery", "en").chars)
    typo = set(analyse("delivry", "en").chars)
    assert len(good & typo) / len(good | typo) > 0.3


def test_markup_entities_and_width_are_normalised() -> None:
    assert tokens("<b>Refund</b> &amp; ＲＥＴＵＲＮ") == ["refund", "return"]
    assert normalise("Ａ") == "a"


def test_long_input_is_cut() -> None:
    assert len(normalise("x" * (MAX_CHARS * 10))) == MAX_CHARS


def test_nothing_to_read() -> None:
    for text in ("", "   ", "😀😀😀", "!!! ??? ..."):
        analysed = analyse(text, "en")
        assert analysed.words == () and analysed.chars == ()
