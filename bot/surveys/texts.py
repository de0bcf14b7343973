"""What a survey says, in the customer's language: the file's texts, else built-in sentences.

The built-ins cover a survey whose file was removed while its questions were out, a second
press (`already_answered` is optional in files) and a text that failed to render after an edit:
the customer still gets a sentence, and the operator a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from html import escape
from typing import Any

from bot.domain.surveys import SurveyKind
from bot.rendering import Renderer, RenderError
from bot.surveys.model import SurveyText

log = logging.getLogger(__name__)

BUILT_IN: dict[str, dict[str, str]] = {
    "question_csat": {
        "en": "How would you rate this conversation?",
        "ru": "Как вы оцениваете этот разговор?",
        "ro": "Cum evaluați această conversație?",
        "ko": "이번 상담은 어떠셨나요?",
    },
    "question_nps": {
        "en": "How likely are you to recommend us to a friend? (0 - not at all, 10 - surely)",
        "ru": "Насколько вероятно, что вы порекомендуете нас другу? (0 - никак, 10 - точно)",
        "ro": "Cât de probabil este să ne recomandați unui prieten? (0 - deloc, 10 - sigur)",
        "ko": "친구에게 저희를 추천하실 가능성은 얼마나 되나요? (0 - 전혀, 10 - 꼭)",
    },
    "follow_up": {
        "en": "We are sorry. What went wrong? Write it in one message, please.",
        "ru": "Нам жаль. Что пошло не так? Напишите, пожалуйста, одним сообщением.",
        "ro": "Ne pare rău. Ce nu a mers bine? Scrieți, vă rugăm, într-un singur mesaj.",
        "ko": "죄송합니다. 무엇이 불편하셨나요? 한 메시지로 적어 주세요.",
    },
    "thanks": {
        "en": "Thank you for your answer!",
        "ru": "Спасибо за ответ!",
        "ro": "Vă mulțumim pentru răspuns!",
        "ko": "답변해 주셔서 감사합니다!",
    },
    "already_answered": {
        "en": "You have already answered this survey. Thank you!",
        "ru": "Вы уже ответили на этот опрос. Спасибо!",
        "ro": "Ați răspuns deja la acest sondaj. Vă mulțumim!",
        "ko": "이미 이 설문에 답해 주셨습니다. 감사합니다!",
    },
}


def built_in_question(kind: SurveyKind) -> str:
    return f"question_{kind.value}"


class SurveyTexts:
    def __init__(self, renderer: Renderer, default_language: str) -> None:
        self._renderer = renderer
        self._default = default_language

    def render(
        self,
        text: SurveyText | None,
        fallback: str,
        language: str | None,
        context: Mapping[str, Any],
    ) -> str:
        """`text` in `language` (HTML); the built-in `fallback` sentence when there is none."""
        if text is not None:
            try:
                if text.template is not None:
                    return self._renderer.render(text.template, language, context)
                source = text.source_for(language, self._default)
                if source is not None:
                    return self._renderer.render_string(source, context)
            except RenderError as exc:
                log.error("survey text failed to render, the built-in one is sent: %s", exc)
        return self.built_in(fallback, language)

    def built_in(self, name: str, language: str | None) -> str:
        texts = BUILT_IN[name]
        primary = (language or "").split("-")[0].lower()
        return escape(texts.get(primary) or texts.get(self._default) or texts["en"], quote=False)
