"""Every relative link in README.md and docs/*.md resolves.

A link to a file must name a file or folder of the repository; a link with an #anchor must name
a heading of its target page, by GitHub's rules for heading anchors: the heading's text, lower
case, with punctuation other than '-' and '_' dropped and each space turned into '-'; a heading
whose anchor was already taken on the page gets '-1', '-2', ... Links inside code (fenced or
indented blocks, `spans`) are not links. External links (a scheme such as https: or mailto:) are
not checked: the tests run without a network.

    cd tests/scripts && /usr/bin/python3 -m unittest -v test_docs_links
"""
import glob
import os
import re
import tempfile
import unittest
import urllib.parse

import support

REPO = support.REPO

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_INLINE_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*(<[^>]*>|[^()\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_GITHUB_LINE = re.compile(r"^L\d+(-L\d+)?$")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading's text (before '-1', '-2' for repeats)."""
    text = _CODE_SPAN.sub(lambda m: m.group(2).strip(), heading.strip())
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's text, not its target
    text = re.sub(r"<[^>]+>", "", text)                      # inline HTML
    text = text.replace("*", "")                             # emphasis markers
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def prose_lines(text: str):
    """(line number, line) of the lines that are not code blocks, with code spans blanked."""
    out = []
    fence = None
    previous_blank = True
    in_indented = False
    for number, line in enumerate(text.split("\n"), 1):
        m = _FENCE.match(line)
        if fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            previous_blank = False
            continue
        if m:
            fence = m.group(1)
            previous_blank = False
            continue
        blank = not line.strip()
        indented = line.startswith("    ") or line.startswith("\t")
        if not blank and indented and (previous_blank or in_indented):
            in_indented = True
            continue
        if not blank:
            in_indented = False
        previous_blank = blank
        out.append((number, _CODE_SPAN.sub(lambda m: "code", line)))
    return out


def anchors(text: str) -> set:
    """Every anchor a Markdown page defines: its headings' (GitHub's rule) and HTML ones."""
    found, seen = set(), {}
    lines = prose_lines(text)
    raw = text.split("\n")
    for i, (number, _) in enumerate(lines):
        line = raw[number - 1]
        heading = None
        m = _ATX.match(line)
        if m:
            heading = m.group(2) or ""
        elif (i + 1 < len(lines) and lines[i + 1][0] == number + 1 and line.strip()
              and not line.lstrip().startswith("|") and _SETEXT.match(raw[number])):
            heading = line
        if heading is not None:
            slug = github_anchor(heading)
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
        found.update(_HTML_ANCHOR.findall(line))
    return found


def links(text: str):
    """(line number, target) of every link and image in prose, reference definitions included."""
    out = []
    for number, line in prose_lines(text):
        for m in _INLINE_LINK.finditer(line):
            out.append((number, m.group(2).strip("<>")))
        m = _REFERENCE_DEF.match(line)
        if m:
            out.append((number, m.group(1).strip("<>")))
    return out


def check(root: str, pages) -> list:
    """One line per link of `pages` (paths under `root`) that does not resolve."""
    problems = []
    cache = {}

    def page_anchors(path):
        if path not in cache:
            with open(path, encoding="utf-8") as f:
                cache[path] = anchors(f.read())
        return cache[path]

    root = os.path.realpath(root)
    for page in pages:
        path = os.path.join(root, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for number, target in links(text):
            if _SCHEME.match(target) or target.startswith("//"):
                continue
            where = f"{page}:{number}: ({target})"
            file_part, _, anchor = target.partition("#")
            file_part = urllib.parse.unquote(file_part)
            if not file_part:
                resolved = path
            elif file_part.startswith("/"):
                resolved = os.path.join(root, file_part.lstrip("/"))
            else:
                resolved = os.path.join(os.path.dirname(path), file_part)
            resolved = os.path.realpath(resolved)
            shown = os.path.relpath(resolved, root)
            if resolved != root and not resolved.startswith(root + os.sep):
                problems.append(f"{where} points outside the repository")
                continue
            if not os.path.exists(resolved):
                problems.append(f"{where} {shown} does not exist")
                continue
            if not anchor:
                continue
            anchor = urllib.parse.unquote(anchor)
            if not resolved.endswith(".md"):
                if not _GITHUB_LINE.match(anchor):
                    problems.append(f"{where} #{anchor}: {shown} is not a Markdown page")
                continue
            if anchor not in page_anchors(resolved):
                problems.append(f"{where} {shown} has no heading with the anchor #{anchor}")
    return problems


def repository_pages() -> list:
    pages = ["README.md"] + sorted(os.path.relpath(p, REPO)
                                   for p in glob.glob(os.path.join(REPO, "docs", "*.md")))
    return [p for p in pages if os.path.exists(os.path.join(REPO, p))]


class RepositoryLinksTest(unittest.TestCase):
    def test_every_relative_link_in_the_readme_and_docs_resolves(self):
        pages = repository_pages()
        self.assertIn("README.md", pages)
        problems = check(REPO, pages)
        self.assertEqual(problems, [], "broken links:\n" + "\n".join(problems))

    def test_the_readme_links_every_docs_page(self):
        with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
            linked = {os.path.normpath(t.partition("#")[0]) for _, t in links(f.read())}
        docs = [p for p in repository_pages() if p.startswith("docs" + os.sep)]
        self.assertTrue(docs, "no docs/*.md pages")
        self.assertEqual([p for p in docs if p not in linked], [],
                         "docs pages the README's 'Where to read more' does not link")


class GithubAnchorTest(unittest.TestCase):
    def test_lower_case_with_spaces_as_hyphens(self):
        self.assertEqual(github_anchor("Where to read more"), "where-to-read-more")

    def test_punctuation_is_dropped_and_code_keeps_its_text(self):
        self.assertEqual(github_anchor("`sync` — one task after another in the calling thread"),
                         "sync--one-task-after-another-in-the-calling-thread")
        self.assertEqual(github_anchor("The notebook's Python, run live: `python.*`"),
                         "the-notebooks-python-run-live-python")
        self.assertEqual(github_anchor("Requirements: `scripts/setup` and `scripts/python`"),
                         "requirements-scriptssetup-and-scriptspython")
        self.assertEqual(github_anchor("`cpu`, `trabajo`, `tarea_normal`"), "cpu-trabajo-tarea_normal")

    def test_letters_of_any_language_are_kept(self):
        self.assertEqual(github_anchor("§4.1 Síncrono vs Asíncrono"), "41-síncrono-vs-asíncrono")

    def test_a_repeated_heading_gets_a_number(self):
        self.assertEqual(anchors("# Usage\n\n## Usage\n\ntext\n\n### Usage\n"),
                         {"usage", "usage-1", "usage-2"})

    def test_setext_headings_and_html_anchors_count(self):
        self.assertEqual(anchors("Title\n=====\n\nSection\n-------\n\n<a name=\"here\"></a>\n"),
                         {"title", "section", "here"})

    def test_headings_inside_code_blocks_do_not_count(self):
        self.assertEqual(anchors("# Real\n\n```sh\n# a shell comment\n```\n\n    # indented\n"),
                         {"real"})


class LinksTest(unittest.TestCase):
    def test_links_in_code_are_not_links(self):
        text = ("see [the models](docs/models.md#sync) and ![a chart](x.png \"title\")\n\n"
                "```md\n[not](a.md)\n```\n\n    [not](b.md)\n\nand `[not](c.md)` here\n"
                "[ref]: docs/results.md\n")
        self.assertEqual(links(text), [(1, "docs/models.md#sync"), (1, "x.png"),
                                       (10, "docs/results.md")])

    def test_a_broken_file_or_anchor_is_reported_with_its_line(self):
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, "docs"))
            with open(os.path.join(root, "docs", "a.md"), "w", encoding="utf-8") as f:
                f.write("# Page A\n\n## Exit codes\n")
            with open(os.path.join(root, "README.md"), "w", encoding="utf-8") as f:
                f.write("[ok](docs/a.md#exit-codes) [ok](#top) [web](https://example.org/x.md)\n"
                        "[gone](docs/b.md)\n"
                        "[bad anchor](docs/a.md#exit-code)\n"
                        "# Top\n")
            self.assertEqual(check(root, ["README.md", "docs/a.md"]), [
                "README.md:2: (docs/b.md) docs/b.md does not exist",
                "README.md:3: (docs/a.md#exit-code) docs/a.md has no heading with the anchor "
                "#exit-code",
            ])


if __name__ == "__main__":
    unittest.main()
