"""The documentation a reader meets: no unfilled template, no dead link, a short README.

An unfilled template is text that was meant to be filled in by code and reached a reader as
code: a ``{...}`` holding a Python expression (``{vals['x']}``, ``{mean:.2f}``) or an ``@NAME@``
placeholder. The README once showed "the five-seed mean is {vals['@S6_SHORT@']} points short".
The checker runs on the README, on every page under docs/, on the steps registry's text and
on every string literal of the code that renders pages or prints to the command line.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from mnist_core.lesson.steps import STEPS, get_step, trials_markdown

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
MARKDOWN = [ROOT / "README.md", *DOCS]
README_MAX_LINES = 220

# A brace pair on one line, not a shell `${VAR}` nor a plotly `%{y}`; what it holds is then parsed.
BRACED = re.compile(r"(?<![$%{])\{([^{}\n]+)\}(?!\})")
PLACEHOLDER = re.compile(r"@[A-Z][A-Z0-9_]*@")
# What a template fills in, written as f-strings write it (no padding inside the braces): a name, an
# attribute, an item, a call or arithmetic. Not a brace expansion (`results.{md,json}`, a tuple), nor
# JSON (`{"key": 1}`, whose text before the colon is a constant).
EXPRESSION_NODES = (ast.Name, ast.Attribute, ast.Subscript, ast.Call, ast.BinOp, ast.UnaryOp, ast.IfExp)


def unfilled_templates(text: str) -> list[str]:
    """Every unfilled ``{expression}`` and ``@NAME@`` placeholder in ``text``, as written there."""
    found = PLACEHOLDER.findall(text)
    for match in BRACED.finditer(text):
        inner = match.group(1)
        if inner != inner.strip() or ";" in inner:
            continue  # `{ color: red; }`: CSS or JavaScript, which a template never writes
        expression = re.split(r"![rsa](?=:|$)|(?<![=!<>:]):(?!=)", inner, maxsplit=1)[0]  # drop !r and :.2f
        try:
            node = ast.parse(expression.strip(), mode="eval").body
        except SyntaxError:
            continue
        if isinstance(node, EXPRESSION_NODES):
            found.append(match.group(0))
    return found


OLD_README_LINE = ("What is left to try: the five-seed mean is {vals['@S6_SHORT@']} points short, about what "
                   "separates one recipe's")  # README.md line 627 at commit c4b2203, verbatim


@pytest.mark.parametrize(("text", "expected"), [
    (OLD_README_LINE, ["@S6_SHORT@", "{vals['@S6_SHORT@']}"]),
    ("the mean is {mean:.2f}% over {len(seeds)} seeds", ["{mean:.2f}", "{len(seeds)}"]),
    ("Step {step.number}: {step.title!r}", ["{step.number}", "{step.title!r}"]),
    ("left as @MEAN@ by a template", ["@MEAN@"]),
    ("{seed}", ["{seed}"]),
    ("writes assets/results.{md,json}", []),
    ('ends with one line: `{"makespan_s": 412.0, "wait_s": [3.1]}`', []),
    ("hovertemplate %{y:.2f} and a shell ${HOME}", []),
    ("a `{...}` expression, an email a@b.c, a {{ doubled }} brace, `{ return x; }` in JavaScript", []),
    ("CSS: div { display: none } p {color: red;}", []),
])
def test_the_checker_finds_unfilled_templates_and_only_those(text, expected):
    assert unfilled_templates(text) == expected


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unfilled_template_in_the_readme_or_the_docs(path):
    assert unfilled_templates(path.read_text()) == []


def _texts_of(value) -> list[str]:
    """Every string inside a registry value (dataclasses, tuples, strings), depth first."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (tuple, list)):
        return [text for item in value for text in _texts_of(item)]
    if hasattr(value, "__dataclass_fields__"):
        return [text for name in value.__dataclass_fields__ for text in _texts_of(getattr(value, name))]
    return []


@pytest.mark.parametrize("number", sorted(STEPS))
def test_no_unfilled_template_in_a_steps_text(number):
    step = get_step(number)
    texts = [step.title, step.adds, *step.target, *step.analysis, *step.search, *step.results, *_texts_of(step.trials),
             *_texts_of(step.evidence), trials_markdown(step.trials) if step.trials else ""]
    assert [found for text in texts for found in unfilled_templates(text)] == []


def _shown_strings(path: Path) -> list[tuple[int, str]]:
    """A module's string literals that can reach a reader: not docstrings, not a ``str.format`` template,
    not the literal parts of an f-string (whose braces are its expressions, filled in)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Attribute) and node.attr == "format":
            skip.add(id(node.value))
        if isinstance(node, ast.JoinedStr):
            skip.update(id(part) for part in node.values)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip]


SHOWN_CODE = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py")),
              *sorted((ROOT / "mnist_core").rglob("*.py"))]


@pytest.mark.parametrize("path", SHOWN_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unfilled_template_in_a_string_the_code_shows(path):
    found = [f"line {line}: {hit}" for line, text in _shown_strings(path) for hit in unfilled_templates(text)]
    assert found == [], f"{path.relative_to(ROOT)}: a string that looks like an f-string without its f"


def test_the_code_scan_would_catch_a_missing_f(tmp_path):
    module = tmp_path / "page.py"
    module.write_text('"""Docstring {may} name a {field}."""\n'
                      'import streamlit as st\n'
                      'gap = 0.03\n'
                      'st.write("the mean is {gap:.2f} points short")\n'
                      'st.write(f"the mean is {gap:.2f} points short")\n'
                      'st.write("{} points".format(gap))\n')
    found = [(line, hit) for line, text in _shown_strings(module) for hit in unfilled_templates(text)]
    assert found == [(4, "{gap:.2f}")]


# [text](target) and ![alt](target); the target ends at whitespace or the closing bracket.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _anchors(path: Path) -> set[str]:
    """The anchors a Markdown renderer gives the file's headings (GitHub's rule), code blocks left out."""
    headings = re.findall(r"^#{1,6} +(.+?) *$", FENCE.sub("", path.read_text()), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def _relative_links(path: Path) -> list[str]:
    return [target for target in LINK.findall(FENCE.sub("", path.read_text()))
            if not re.match(r"[a-z][a-z0-9+.-]*:", target)]  # http:, https:, mailto: are not files


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_and_heading_that_exist(path):
    dead = []
    for target in _relative_links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.is_file() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
            dead.append(target)
    assert dead == []


def test_the_readme_links_every_page_in_docs():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in _relative_links(ROOT / "README.md")}
    assert [p.name for p in DOCS if p.resolve() not in linked] == []


def test_the_readme_stays_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) < README_MAX_LINES


@pytest.mark.parametrize("number", [5, 6, 7])
def test_the_research_page_shows_each_steps_trials_as_its_page_does(number):
    assert trials_markdown(get_step(number).trials) in (ROOT / "docs" / "research.md").read_text()


def _final_accuracies(table: str) -> list[float]:
    rows = json.loads((ROOT / "assets" / table).with_suffix(".json").read_text())["rows"]
    return [row["final_test_acc"] for row in rows]


@pytest.mark.parametrize("trial", [t for s in STEPS.values() for t in s.trials if "first three seeds" in t.verdict],
                         ids=lambda t: t.change[:40])
def test_a_verdict_that_quotes_the_first_three_seeds_quotes_its_own_table(trial):
    quoted = float(re.search(r"first three seeds\D*(\d+\.\d\d)%", trial.verdict).group(1))
    first_three = _final_accuracies(trial.table)[:3]
    assert quoted == round(sum(first_three) / 3, 2)


def test_ci_runs_the_readmes_test_lines_exactly_and_in_order():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Test it", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in re.search(r"```bash\n(.*?)```", section, re.S).group(1).splitlines() if line.strip()]
    assert lines == ["pip install -r requirements-dev.txt && python -m pytest", "python -m pytest -m journey -n 0"]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert [ci_lines.index(line) for line in lines] == sorted(ci_lines.index(line) for line in lines)
