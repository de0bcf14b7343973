"""Answering from the knowledge base: the article, "Did you mean…", or an honest "I don't know".

The ranking and the decision rule live in `bot.knowledge`; what to do with the decision
(what to send, when the conversation needs a person) is decided here, with the thresholds from
config. Every decision is stored, and so is the customer's "did this help?", so reports can
show how many questions the bot resolved alone.
"""

from __future__ import annotations

from bot.conversation.turn import Turn
from bot.domain.handoff import HandoffReason
from bot.domain.model import Button, KbDecisionKind
from bot.domain.ports import UnitOfWork
from bot.knowledge.answering import KbAnswer, KnowledgeBase
from bot.knowledge.decision import DecisionKind, Thresholds
from bot.knowledge.documents import KbDocument
from bot.rendering import Renderer

CALLBACK_PREFIX = "kb:"
# The article's language as the customer's language names it, in the form the note needs.
_LANGUAGE_NAMES = {
    "en": {"en": "English", "ru": "Russian", "ro": "Romanian", "ko": "Korean"},
    "ru": {"en": "английском", "ru": "русском", "ro": "румынском", "ko": "корейском"},
    "ro": {"en": "engleză", "ru": "rusă", "ro": "română", "ko": "coreeană"},
    "ko": {"en": "영어", "ru": "러시아어", "ro": "루마니아어", "ko": "한국어"},
}
_KINDS = {
    DecisionKind.ANSWER: KbDecisionKind.ANSWERED,
    DecisionKind.CHOICES: KbDecisionKind.OFFERED_CHOICES,
    DecisionKind.NO_ANSWER: KbDecisionKind.NO_ANSWER,
}


class KnowledgeResponder:
    def __init__(
        self, knowledge: KnowledgeBase, thresholds: Thresholds, renderer: Renderer
    ) -> None:
        self._kb = knowledge
        self._thresholds = thresholds
        self._renderer = renderer

    @property
    def available(self) -> bool:
        return len(self._kb) > 0

    async def answer(self, uow: UnitOfWork, turn: Turn) -> KbDecisionKind:
        """Answer a question, or offer choices; on NO_ANSWER nothing is said here: what to say
        (and whether to hand off) is the conversation's decision."""
        question = turn.event.text
        answer = self._kb.ask(question, turn.language, self._thresholds)
        interaction = await uow.kb.add(
            turn.contact.id,
            turn.conversation.id,
            question[:4000],
            turn.language,
            _KINDS[answer.kind],
            answer.documents[0].id if answer.kind is DecisionKind.ANSWER else None,
            answer.score,
            [(m.article_id, round(m.score, 4)) for m in answer.matches],
            turn.at,
        )
        if answer.kind is DecisionKind.ANSWER:
            self._send_article(turn, answer.documents[0], interaction.id, answer)
        elif answer.kind is DecisionKind.CHOICES:
            buttons = [[Button(d.title, callback_data=f"kb:a:{d.id}")] for d in answer.documents]
            turn.say(self._renderer, "kb_choices", buttons)
        return interaction.decision

    async def consecutive_failures(self, uow: UnitOfWork, turn: Turn, limit: int) -> int:
        """How many of the conversation's latest questions in a row found no answer."""
        count = 0
        for interaction in await uow.kb.recent_for_conversation(turn.conversation.id, limit):
            if interaction.decision is not KbDecisionKind.NO_ANSWER:
                break
            count += 1
        return count

    async def on_button(self, uow: UnitOfWork, turn: Turn, data: str) -> bool:
        """Handle a knowledge-base button; False when `data` is not one of ours."""
        kind, _, value = data.removeprefix(CALLBACK_PREFIX).partition(":")
        if not data.startswith(CALLBACK_PREFIX) or not value:
            return False
        if kind == "a":
            return await self._chosen(uow, turn, value)
        if kind in ("y", "n") and value.isdigit():
            await self._feedback(uow, turn, int(value), helpful=kind == "y")
            return True
        return False

    async def _chosen(self, uow: UnitOfWork, turn: Turn, article_id: str) -> bool:
        document = self._kb.document(article_id)
        if document is None:  # the article was removed since the button was sent
            turn.say(self._renderer, "kb_no_answer")
            turn.hand_off(HandoffReason.BOT_FAILED, f"chose a removed article: {article_id}")
            return True
        interaction = await uow.kb.add(
            turn.contact.id,
            turn.conversation.id,
            f"[chose] {document.title}",
            turn.language,
            KbDecisionKind.ANSWERED,
            document.id,
            None,
            [],
            turn.at,
        )
        self._send_article(turn, document, interaction.id, None)
        return True

    async def _feedback(
        self, uow: UnitOfWork, turn: Turn, interaction_id: int, helpful: bool
    ) -> None:
        interaction = await uow.kb.get(interaction_id)
        if interaction is None or interaction.contact_id != turn.contact.id:
            return  # a forged or stale button: nothing to record
        first_time = interaction.helpful is None
        await uow.kb.set_feedback(interaction_id, helpful, turn.at)
        if not first_time:
            return
        if helpful:
            turn.say(self._renderer, "kb_feedback_yes")
        else:
            turn.say(self._renderer, "kb_feedback_no")
            turn.hand_off(
                HandoffReason.NOT_HELPFUL, f"said an answer did not help: {interaction.question}"
            )

    def _send_article(
        self, turn: Turn, document: KbDocument, interaction_id: int, answer: KbAnswer | None
    ) -> None:
        parts: list[str] = []
        if answer is not None and answer.fallback_language:
            names = _LANGUAGE_NAMES.get(turn.language, _LANGUAGE_NAMES["en"])
            language = names.get(answer.fallback_language, answer.fallback_language)
            note = self._renderer.render(
                "kb_fallback_language", turn.language, turn.context(article_language=language)
            )
            parts.append(f"<i>{note}</i>")
        parts.append(f"<b>{_escape(document.title)}</b>\n\n{document.body_html}")
        links = [
            [Button(b.text, url=b.url)]
            if b.url
            else [Button(b.text, callback_data=f"kb:a:{b.article}")]
            for b in document.buttons
        ]
        turn.add("\n\n".join(parts), links)
        yes = self._renderer.render("kb_yes", turn.language, turn.context())
        no = self._renderer.render("kb_no", turn.language, turn.context())
        feedback = [
            [
                Button(yes, callback_data=f"kb:y:{interaction_id}"),
                Button(no, callback_data=f"kb:n:{interaction_id}"),
            ]
        ]
        turn.say(self._renderer, "kb_did_it_help", feedback)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
