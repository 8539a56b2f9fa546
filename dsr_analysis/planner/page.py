"""The planner notebook's page: the first screen at once, the rest filled in after.

A fresh kernel spends most of its first seconds importing the numerical libraries and making
the page's widgets. :func:`planner_page` imports neither: it checks the notebook's parameters,
shows the first screen of the same inputs from the workspace's cache
(:mod:`~dsr_analysis.planner.cache`: verdict, notes, gaps and the three compact tables as
static HTML) and makes the real page (:class:`~dsr_analysis.planner.app.PlannerApp`) in a
background thread, which replaces the static screen when it is ready and refreshes the cache.
Without a cached screen (the first run on a register) a short "正在计算" line shows instead.
"""

from __future__ import annotations

import threading
from typing import Any

import ipywidgets as w

from ..i18n import _
from .cache import check_parameters, first_screen_key, read_first_screen, write_first_screen

_WAITING = ('<div class="dsr-planner-waiting" style="padding: 8px; color: #555">'
            '年度“双随机”抽查计划编制器：正在计算…</div>')


class PlannerPage:
    """The page a notebook displays (:attr:`widget`) and the planner behind it.

    Attributes
    ----------
    widget : ipywidgets.VBox
        The root: the cached first screen, then the planner's own widget tree.
    cached : bool
        Whether the first screen came from the cache.
    """

    def __init__(self, policy: str, registers: str, seed: int, save_dir: str):
        check_parameters(policy, registers, seed, save_dir)
        self.policy = policy
        self._args = dict(policy=policy, registers=registers, seed=seed, save_dir=save_dir)
        self._key = first_screen_key(policy, registers, seed)
        cached = read_first_screen(self._key)
        self.cached = cached is not None
        self._headline = cached["headline"] if cached is not None else None
        first = w.HTML(cached["html"] if cached is not None else _WAITING)
        first.add_class("dsr-first-screen-cached" if cached is not None else "dsr-waiting")
        self.widget = w.VBox([first])
        self.widget.add_class("dsr-page")
        self._app = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._build, name="planner-page", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        """Make the planner (heavy imports), swap it in, refresh the cache."""
        try:
            from .app import build_planner
            from .views import headline

            app = build_planner(**self._args)
            self._app = app
            self.widget.children = [app.widget]
            if app.outcome is not None:
                text = headline(app.outcome)
                if text != self._headline or not self.cached:
                    write_first_screen(self._key, app.first_screen_html(), text)
                self._headline = text
        except BaseException as exc:      # shown on the page and raised by wait()
            self._error = exc
            self.widget.children = [w.HTML(
                '<div class="dsr-banner dsr-banner-bad" style="padding: 6px">无法打开编制器：'
                f'{_escape(exc)}</div>')]
        finally:
            self._done.set()

    def wait(self, timeout: float | None = None):
        """The planner (:class:`~dsr_analysis.planner.app.PlannerApp`) once it is made; its
        error if making it failed."""
        if not self._done.wait(timeout):
            raise TimeoutError(_("the planner page is still being made"))
        if self._error is not None:
            raise self._error
        return self._app

    @property
    def app(self):
        """The planner (waits until it is made)."""
        return self.wait()

    @property
    def outcome(self):
        """What the planner shows now (waits until it is made)."""
        return self.wait().outcome

    def headline(self) -> str:
        """The headline of the starting plan: from the cache when the first screen came from
        it (the same text, without waiting), else computed."""
        if self._headline is not None:
            return self._headline
        self.wait()
        return self._headline or ""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        """Display as the widget tree; the text form is stable (no model ids, no timings)."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"年度抽查计划编制器 (起始方案 {self.policy})"
        return bundle


def _escape(value: Any) -> str:
    import html

    return html.escape(str(value), quote=True)


def planner_page(policy: str = "xiongan-2023", registers: str = "", seed: int = 20240101,
                 save_dir: str = "") -> PlannerPage:
    """The planner page for the notebook's parameters (as
    :func:`~dsr_analysis.planner.app.build_planner`), its first screen at once."""
    return PlannerPage(policy, registers, seed, save_dir)


__all__ = ["PlannerPage", "planner_page"]
