"""The rule table (§4): every rule's code, name, severity, fix kind and user docs, in one
place, as ruff's `codes.rs`. A rule's documentation is the `doc` it is defined with;
`vaultsync rule CODE` prints it. The checkers that emit them: rules/checkers.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaultsync.core.model import FixKind, Severity


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    fix: FixKind
    doc: str
    # In the default rule set (no `select` anywhere)? A rule outside it runs only when a
    # selector names it (`--select L009`, `select = ["ALL"]` in the config).
    default: bool = True

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]


RULES: dict[str, Rule] = {}


def define(
    code: str, name: str, severity: Severity, fix: FixKind, doc: str, default: bool = True
) -> Rule:
    if code in RULES or any(r.name == name for r in RULES.values()):
        raise ValueError(f"rule {code} {name} defined twice")
    rule = RULES[code] = Rule(code, name, severity, fix, doc, default)
    return rule


# Files (rules/files.py has no checker: the engine emits V001 for a note it cannot read).

UNREADABLE_FILE = define(
    "V001",
    "unreadable-file",
    Severity.ERROR,
    FixKind.NONE,
    """A vault file could not be read as a note.

Why: vaultsync reads notes as UTF-8 (a byte-order mark is allowed) up to
`max-file-size` (10 MiB by default). A file that is not valid UTF-8, holds
NUL bytes, is larger than that, or cannot be opened is reported here and is
never written to, by any command.

Example: `Scan 2024.md` saved as Windows-1252 by another program.

Fix: none. Re-save the file as UTF-8, shrink it, fix its permissions, or
raise `max-file-size` in `.vaultsync.toml`.
""",
)


# Frontmatter and properties (rules/frontmatter.py).

SYNTAX = define(
    "F001",
    "frontmatter-syntax",
    Severity.ERROR,
    FixKind.NONE,
    """The frontmatter block is not valid YAML, or is not closed.

Why: Obsidian then shows no properties at all for the note: no aliases, no tags,
no property links. The block opens with `---` on the first line and closes at the
next line that is exactly `---`. vaultsync loads YAML safely: a tag that would
construct an object (`!!python/object`) is an error, a key written twice is an
error (as in Obsidian), and aliases that expand to more than 10,000 values (a
"billion laughs" block) are rejected before anything is built.

Example: `title: DeepSeek: the model` (a second `: ` needs quotes), or a
block with no closing `---`.

Fix: none; the message gives the line and column of the problem.
""",
)

SCHEMA = define(
    "F002",
    "frontmatter-schema",
    Severity.ERROR,
    FixKind.NONE,
    """A property breaks the schema that applies to the note.

Why: schemas (`.vaultsync/schemas/*.yaml`, or shipped ones named in
`[schemas] use`) state what a kind of note must hold: required properties, types,
allowed values, patterns, ranges, lengths, list sizes and links that must resolve.
A schema applies to a note by path globs and `where` conditions (`has`, `tag`,
property equals). With `additional-properties: error`, an undeclared property is
an F002 too. A property may take several types (`type: [date, datetime]`). An
empty value, or an empty list item, counts as not set.

Example: `videoId: dQw4w9WgXcQx` when the schema wants 11 characters of
`[A-Za-z0-9_-]`.

Fix: none; the diagnostic points at the key or value at fault.
""",
)

UNKNOWN_PROPERTY = define(
    "F003",
    "unknown-property",
    Severity.WARNING,
    FixKind.NONE,
    """A property that the note's schema does not declare.

Why: a typo (`videoID` for `videoId`) or a stray key splits one property into
two across the vault. Reported when a schema that applies says
`additional-properties: warn` (with `error`, the same finding is an F002). The
Obsidian keys `tags`, `aliases` and `cssclasses` are always allowed.

Example: `auther: Ada` with a schema declaring `author`.

Fix: none; rename the key or declare it in the schema.
""",
)

DEPRECATED_PROPERTY = define(
    "F004",
    "deprecated-property",
    Severity.WARNING,
    FixKind.SAFE,
    """A `tag`, `alias` or `cssclass` property, ignored since Obsidian 1.9.

Why: Obsidian deprecated the singular keys in 1.4 and stopped reading them in
1.9: the note silently lost its tags, aliases or CSS classes.

Example: `tag: ai`.

Fix (safe): rename the key to `tags`, `aliases` or `cssclasses`, changing
nothing else. When the note already has the plural key, there is no automatic
fix: merge the two by hand (vaultsync will not guess the order of values).
""",
)

PROPERTY_TYPE = define(
    "F005",
    "property-type",
    Severity.WARNING,
    FixKind.NONE,
    """A value does not have the type Obsidian recorded for its property.

Why: Obsidian keeps one type per property name for the whole vault in
`.obsidian/types.json` (text, list, number, checkbox, date, date & time, tags,
aliases) and shows a mismatching value as an error in the properties view.
Checked for notes no schema applies to (a schema is stricter, see F002). An
empty value, or an empty list item, is always allowed.

Example: `rating: five` when `rating` is a number property.

Fix: none; correct the value or change the property's type in Obsidian.
""",
)

LIST_AS_TEXT = define(
    "F006",
    "list-property-as-text",
    Severity.WARNING,
    FixKind.SAFE,
    """`tags`, `aliases` or `cssclasses` written as text instead of a list.

Why: since Obsidian 1.9 these must be YAML lists; `tags: a, b` gives the note
no tags at all and `aliases: a, b` is one odd alias.

Example: `tags: ai, open-source`.

Fix (safe): rewrite only that value as a YAML list, the way Obsidian writes one
(`tags:` then `  - ai` and `  - open-source` on their own lines), in the note's
own line endings. Tags and CSS classes split at commas and spaces (neither can
contain one). An aliases text with a comma gets an unsafe fix, since
`Smith, John` may be a single alias.
""",
)


# Links (rules/links.py).

BROKEN_LINK = define(
    "L001",
    "broken-link",
    Severity.WARNING,
    FixKind.UNSAFE,
    """A link points at a note that does not exist.

Why: Obsidian shows the link as unresolved and it leads nowhere outside the
app. vaultsync resolves links exactly as Obsidian does: an exact vault path
(case-insensitive, `.md` optional), `./` and `../` relative to the note, then
any file whose path ends with the target, preferring the note's own folder and
then the shortest path.

Example: `[[Roadmap 2025]]` when no `Roadmap 2025.md` exists.

Fix (unsafe): `vaultsync fix --create-missing` creates a stub note for each
unresolved target, named in the vault's naming style.
""",
)

LINK_VARIANT = define(
    "L002",
    "link-variant",
    Severity.WARNING,
    FixKind.SAFE,
    """An unresolved link spells a note name another way.

Why: Obsidian matches names case-insensitively but never treats `_` or `-` as
spaces, so `[[open_source_ai_models]]` does not reach `Open Source AI
Models.md`, and the same idea ends up as several unresolved notes. Two targets
are variants when they are equal after Unicode NFC, case folding and folding
runs of spaces, `_` and `-` to one space. The canonical spelling is the one in
`[links.canonical]`, else an existing note's name, else the spelling in the
vault's majority naming style used most often.

Example: `[[open_source_ai_models | AI models]]` next to
`[[Open Source AI Models]]`.

Fix (safe): rewrite only the target, keeping display text and subpath:
`[[Open Source AI Models | AI models]]`.
""",
)

BROKEN_HEADING = define(
    "L003",
    "broken-heading",
    Severity.WARNING,
    FixKind.NONE,
    """A link's `#Heading` does not match a heading of the target note.

Why: Obsidian opens the note at the top instead of the section. Headings match
after folding punctuation to spaces, collapsing spaces and ignoring case;
`#H1#H2` walks nested headings.

Example: `[[Setup#Instalation]]` when the note has `## Installation`.

Fix: none; correct the heading or the link by hand.
""",
)

BROKEN_BLOCK_REF = define(
    "L004",
    "broken-block-ref",
    Severity.WARNING,
    FixKind.NONE,
    """A link's `#^id` names no block id in the target note.

Why: the embed or link shows nothing useful. Block ids are ` ^id` at the end
of a paragraph or list line, or on a line of their own after a table or quote.

Example: `![[Meeting#^decisions]]` when `^decisions` was deleted.

Fix: none; restore the block id or change the link.
""",
)

AMBIGUOUS_LINK = define(
    "L005",
    "ambiguous-link",
    Severity.WARNING,
    FixKind.UNSAFE,
    """Several files match a link equally well.

Why: when two candidates tie on the length of their path (`aa/Tie.md` and
`bb/Tie.md`), Obsidian's choice is unstable: the link may open either note.
vaultsync analyses the lexically first one so the other checks can go on.

Example: `[[Tie]]` with `aa/Tie.md` and `bb/Tie.md` in the vault.

Fix (unsafe): qualify the link with the full path of the note chosen,
`[[aa/Tie]]`; review that it is the one you meant.
""",
)

ALIAS_LINK = define(
    "L006",
    "alias-link",
    Severity.INFO,
    FixKind.SAFE,
    """A link targets a note's alias, which Obsidian does not resolve.

Why: aliases feed Obsidian's link suggester and unlinked mentions, but a
hand-typed `[[AI]]` stays unresolved even when a note lists `AI` in its
`aliases`. Obsidian itself writes `[[Artificial Intelligence|AI]]`.

Example: `[[AI]]` with `aliases: [AI]` in `Artificial Intelligence.md`.

Fix (safe): `[[Artificial Intelligence|AI]]`, keeping what the reader sees.
""",
)

MISSING_ATTACHMENT = define(
    "L007",
    "missing-attachment",
    Severity.WARNING,
    FixKind.NONE,
    """A link or embed points at an attachment that is not in the vault.

Why: the embed renders as a broken placeholder. Attachments are the files
Obsidian lists besides notes: images, PDFs, audio, video, canvas and base files.

Example: `![[diagram.png]]` after the image was moved out of the vault.

Fix: none; restore the file or correct the link (`vaultsync mv` keeps links
right when you move files).
""",
)

LINK_OUTSIDE_VAULT = define(
    "L008",
    "link-outside-vault",
    Severity.ERROR,
    FixKind.NONE,
    """A relative link climbs above the vault root.

Why: Obsidian cannot open anything outside the vault, and a published or
synced copy of the vault will not have it. vaultsync never reads through such
a link.

Example: `[notes](../../other-vault/Note.md)` from a note at the root.

Fix: none; copy the file into the vault or link to it with a URL.
""",
)

INCONSISTENT_CASE = define(
    "L009",
    "inconsistent-case",
    Severity.INFO,
    FixKind.SAFE,
    """A link resolves, but its spelling differs from the file's name in case.

Why: Obsidian matches case-insensitively, but other tools (static-site
publishers, GitHub, case-sensitive file systems) do not, and mixed spellings
make search and refactoring harder. It is a spelling preference, so it is not
in the default rule set: select it (`--select L009`, or `select` in the
config) to use it.

Example: `[[project plan]]` for `Project Plan.md`.

Fix (safe): respell the target exactly like the file, `[[Project Plan]]`;
with `[links] keep-display = true` the reader still sees what was written:
`[[Project Plan|project plan]]`.
""",
    default=False,
)


# Generated sections (rules/sections.py).

STALE_BACKLINKS = define(
    "S001",
    "stale-backlinks",
    Severity.WARNING,
    FixKind.SAFE,
    """A note's backlinks section is missing, out of date, or has no backlinks left.

Why: once backlinks sections are on, vaultsync keeps, at the end of every note
that other notes link to, a section listing those notes, so the connections are
visible outside Obsidian too (on GitHub, in a static site, in any editor). They
are opt-in: `[backlinks] enabled = true` in `.vaultsync.toml` (`vaultsync init`
asks), or a vault that already holds one. A section sits between HTML comment
markers, hidden in reading view:

    <!-- vaultsync:begin backlinks hash=3f2a91c0 -->
    ## Backlinks
    - [[Comparative analysis of AI models]]
    - [[folder/Other note|Other note]]
    <!-- vaultsync:end backlinks -->

Entries are unique, sorted by name, and use the shortest link that resolves.
Wikilinks, embeds, markdown links and property links count; self-links and
links inside generated sections do not. Configure with `[backlinks]`
(`enabled`, `heading`, `exclude` globs: matched notes get no section and are
not listed). Templates never get one.

Fix (safe): rewrite the section, append it after a blank line, or remove it
when no note links here any more. Nothing outside the markers changes.
""",
)

STALE_INDEX = define(
    "S002",
    "stale-index",
    Severity.WARNING,
    FixKind.SAFE,
    """An index block no longer lists what its query matches.

Why: an index block is a list vaultsync maintains from a query in its opening
marker:

    <!-- vaultsync:begin index folder="videos" tag="ai" sort="title" -->
    <!-- vaultsync:end index -->

Options: `folder` (with `recursive`), `tag` (nested tags match), any other
`property=value` (or a bare `property`: it is set), `sort` (`name`, `title`,
`mtime`, or a property) and `group` (`folder` or `tag`). The kind
`unresolved` lists unresolved link targets with their reference counts.

Blocks are filled wherever a note holds one (opening it is the opt-in), unless
`[index] enabled = false`; never in a template.

Fix (safe): rewrite the block's body and hash. Nothing outside the markers
changes. `sort="mtime"` depends on file times, which differ between machines.
""",
)

BROKEN_MARKERS = define(
    "S003",
    "broken-markers",
    Severity.ERROR,
    FixKind.NONE,
    """A generated section's markers are missing, doubled, nested or unreadable.

Why: vaultsync cannot tell which text belongs to a section, so it might
overwrite your words. While a note has this problem, vaultsync does not write
it at all: no section and no other fix touches it.

Example: `<!-- vaultsync:begin backlinks -->` with no matching
`<!-- vaultsync:end backlinks -->`, two backlinks sections, an unknown kind,
or an option such as `group="date"` that does not exist.

Fix: none; repair or delete the markers by hand.
""",
)

EDITED_SECTION = define(
    "S004",
    "edited-section",
    Severity.WARNING,
    FixKind.UNSAFE,
    """A generated section was edited by hand.

Why: the body between the markers no longer matches the hash vaultsync
recorded when it wrote it. Hand edits are never overwritten silently, so the
section is left as it is and no longer kept up to date.

Fix (unsafe): `vaultsync fix --force` rewrites it (your edit inside the
markers is lost). To keep your text, move it outside the markers.
""",
)

UNPLACEABLE_SECTION = define(
    "S005",
    "unplaceable-section",
    Severity.WARNING,
    FixKind.NONE,
    """A note should get a backlinks section, but its end is inside something still open.

Why: the section goes at the end of the note, and this note ends inside a code
fence, an HTML comment (`<!--`), a `%%` comment or `$$` math that is never
closed. Whatever is appended there becomes part of it: code or a comment in
Obsidian, and not a section vaultsync could find again. So vaultsync writes no
section into this note; the rest of the vault is fixed as usual.

Example: a fence opened inside a list item and "closed" at the margin, which
by CommonMark ends the list item and opens a second fence that runs to the end:

    - step one
      ```bash
      make
    ```

Fix: none; close what the message names (or remove the stray fence), and the
next `fix` adds the section.
""",
)
