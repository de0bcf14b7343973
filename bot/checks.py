"""`nudge check`: every problem in the operator's files, each with file, line and a sentence."""

from __future__ import annotations

from pathlib import Path

from bot.funnel.model import TEMPLATE_VARIABLES
from bot.rendering import Renderer, RenderError

# The templates the conversation core needs in the default language.
REQUIRED_TEMPLATES = (
    "greeting",
    "help",
    "stopped",
    "resubscribed",
    "fallback",
    "linked",
    "link_expired",
    "handoff_queued",
    "handoff_after_hours",
    "handoff_still_waiting",
    "handoff_agent_joined",
    "handoff_closed",
    "handoff_returned",
    "handoff_button",
    "kb_no_answer_offer",
    "shop_linked",
)


def check_project(config_path: Path | None) -> list[str]:
    from bot.config import check_settings, load_settings

    problems = [str(problem) for problem in check_settings(config_path)]
    if problems:
        return problems
    settings = load_settings(config_path)
    problems = check_templates(Path(settings.bot.templates_dir), settings.bot.default_language)
    if settings.knowledge.enabled:
        problems.extend(check_knowledge(Path(settings.knowledge.folder)))
    renderer = Renderer(Path(settings.bot.templates_dir), settings.bot.default_language)
    problems.extend(check_funnels(Path(settings.funnels.folder), renderer))
    surveys, funnels = Path(settings.surveys.folder), Path(settings.funnels.folder)
    problems.extend(check_surveys(surveys, renderer, funnels, settings.surveys.after_close))
    return problems


def check_funnels(folder: Path, renderer: Renderer) -> list[str]:
    """Every funnel file's errors, each as `file:line:column: where: sentence`; no folder, no
    funnels (they are optional)."""
    from bot.funnel.catalog import load_funnels

    catalog = load_funnels(folder, renderer)
    return [str(problem) for problem in catalog.errors]


def check_surveys(
    folder: Path,
    renderer: Renderer,
    funnels_folder: Path | None = None,
    after_close: str | None = None,
) -> list[str]:
    """Every survey file's errors (`file:line:column: where: sentence`), funnel steps that ask
    for a survey no file defines, and `surveys.after_close` naming one."""
    from bot.funnel.catalog import funnel_files
    from bot.funnel.loader import load_funnel_file
    from bot.funnel.model import SurveyStep
    from bot.surveys.catalog import load_surveys

    catalog = load_surveys(folder, renderer)
    problems = [str(problem) for problem in catalog.errors]
    # No folder, no surveys (they are optional): after_close then simply asks nothing.
    if after_close and folder.is_dir() and catalog.get(after_close) is None:
        problems.append(f"surveys.after_close: no survey `{after_close}` in {folder}/")
    if funnels_folder is None or not funnels_folder.is_dir():
        return problems
    for path in funnel_files(funnels_folder):
        loaded = load_funnel_file(path)
        steps = loaded.funnel.steps if loaded.funnel is not None else ()
        for index, step in enumerate(steps):
            if isinstance(step, SurveyStep) and catalog.get(step.survey) is None:
                message = f"no survey `{step.survey}` in {folder}/"
                problems.append(str(loaded.problem(("steps", index, "survey"), message)))
    return problems


def check_knowledge(folder: Path) -> list[str]:
    """The knowledge base's errors (warnings are left to `nudge kb check`)."""
    from bot.knowledge.lint import lint
    from bot.knowledge.loader import load_folder

    if not folder.is_dir():
        return [f"{folder}: the knowledge base folder does not exist (knowledge.folder)"]
    return [str(p) for p in lint(load_folder(folder)) if p.severity == "error"]


# What the bot passes to its own templates; anything else would fail when the bot renders it.
# Hand-off notices and canned replies also get the agent's name and when the team is back.
KNOWN_VARIABLES = frozenset(
    {
        "name",
        "contact",
        "article_language",
        "agent",
        "opens_time",
        "opens_date",
        "opens_day",
        "opens_weekday",
        "timezone",
    }
)


FUNNEL_PREFIX = "funnel_"
FUNNEL_VARIABLES = frozenset(TEMPLATE_VARIABLES)


def check_templates(templates_dir: Path, default_language: str) -> list[str]:
    if not templates_dir.is_dir():
        return [f"{templates_dir}: the templates folder does not exist (bot.templates_dir)"]
    renderer = Renderer(templates_dir, default_language)
    problems: list[str] = []
    for name in REQUIRED_TEMPLATES:
        if not (templates_dir / default_language / f"{name}.j2").is_file():
            problems.append(
                f"{templates_dir / default_language / name}.j2: missing: the bot needs this "
                f"template in the default language ({default_language})"
            )
    for path in sorted(templates_dir.glob("*/*.j2")):
        # Funnel templates get the funnel's variables (contact, event, vars, coupon...).
        known = FUNNEL_VARIABLES if path.name.startswith(FUNNEL_PREFIX) else KNOWN_VARIABLES
        try:
            unknown = renderer.variables_of(path) - known
        except RenderError as exc:
            problems.append(str(exc))
            continue
        problems.extend(
            f"{path}: uses {variable!r}, which the bot does not provide"
            for variable in sorted(unknown)
        )
        problems.extend(renderer.limit_problems(path))
    return problems
