"""Value vocabularies: the words each spec dialect writes in a column, and the Drupal machine ids behind labels.

The Drupal Spec Tool's Behat tables write `Required` / blank, `Translatable` / blank, `Unlimited`, `Enabled` /
`Disabled` and the labels Drupal's UI shows for field types, widgets, display plugins and base tables; the Drupal
Entity Generator template and UWEC write `y` / `n`, `1` / `*`. Labels are mapped to the plugin ids Drupal uses in
configuration (core's, plus the common contrib modules'), so a ticket can show both.
"""

from __future__ import annotations

import re
from functools import lru_cache

_YES = frozenset({"y", "yes", "true", "1", "x", "on", "✓", "✔"})
_NO = frozenset({"n", "no", "false", "0", "off"})
_NOT_APPLICABLE = frozenset({"", "-", "n/a", "na"})
# Columns where a word marks "yes" and a blank means "no" (the Behat tables' dialect).
MARK_WORDS: dict[str, frozenset[str]] = {
    "required": frozenset({"required", "req", "reqd", "req'd", "mandatory"}),
    "translated": frozenset({"translatable", "translated", "trns", "trns."}),
    "reused": frozenset({"reused"}),
}
_UNLIMITED = frozenset({"*", "unlimited", "-1", "n", "∞"})
_ENABLED = frozenset({"enabled", "enable", "on", "active"}) | _YES
_DISABLED = frozenset({"disabled", "disable", "off", "inactive"}) | _NO


def folded(text: str) -> str:
    """Lowercase, inner whitespace collapsed: how vocabulary values are compared."""
    return " ".join(text.lower().split())


@lru_cache(maxsize=1024)  # a column repeats a few values (y, n, *) on every row; bounded: a cell holds anything
def parse_flag(text: str, role: str) -> tuple[bool | None, bool]:
    """(value, understood) for a yes/no cell; a blank is None, and understood. Marks count as yes."""
    value = folded(text)
    if value in _YES or value in MARK_WORDS.get(role, ()):
        return True, True
    if value in _NO:
        return False, True
    return None, value in _NOT_APPLICABLE


def is_mark(text: str, role: str) -> bool:
    """Whether a cell is a mark word of its column (`Required` in a Required column)."""
    return folded(text) in MARK_WORDS.get(role, ())


@lru_cache(maxsize=1024)
def parse_cardinality(text: str) -> tuple[int | None, bool]:
    """(values, understood): a positive count, -1 for unlimited (`*`, `Unlimited`), None when blank or not a count."""
    value = folded(text)
    if value in _UNLIMITED:
        return -1, True
    if value.isdigit() and int(value) > 0:
        return int(value), True
    return None, value in _NOT_APPLICABLE


@lru_cache(maxsize=1024)
def parse_enabled(text: str) -> tuple[bool | None, bool]:
    """(enabled, understood) for a view's status cell: `Enabled` / `Disabled`, y / n."""
    value = folded(text)
    if value in _ENABLED:
        return True, True
    if value in _DISABLED:
        return False, True
    return None, value in _NOT_APPLICABLE


# Field type labels (as Drupal's "Add field" UI and the spec tools write them) -> field type plugin id.
FIELD_TYPES: dict[str, str] = {
    "boolean": "boolean",
    "comments": "comment",
    "comment": "comment",
    "date": "datetime",
    "date range": "daterange",
    "email": "email",
    "entity reference": "entity_reference",
    "entity reference revisions": "entity_reference_revisions",
    "entity reference revisions (paragraphs)": "entity_reference_revisions",
    "paragraph": "entity_reference_revisions",
    "paragraphs": "entity_reference_revisions",
    "file": "file",
    "image": "image",
    "link": "link",
    "list (float)": "list_float",
    "list (integer)": "list_integer",
    "list (text)": "list_string",
    "number (decimal)": "decimal",
    "number (float)": "float",
    "number (integer)": "integer",
    "telephone number": "telephone",
    "text (formatted)": "text",
    "text (formatted, long)": "text_long",
    "text (formatted, long, with summary)": "text_with_summary",
    "text (plain)": "string",
    "text (plain, long)": "string_long",
    "timestamp": "timestamp",
    "layout section": "layout_section",
    "meta tags": "metatag",
    "address": "address",
    "smart date range": "smartdate",
    "smart date": "smartdate",
    "geolocation": "geolocation",
    "geofield": "geofield",
    "webform": "webform",
    "office hours": "office_hours",
    "video embed": "video_embed_field",
    "color": "color_field_type",
    "name": "name",
    "views reference": "viewsreference",
    "block (plugin)": "block_field",
    "dynamic entity reference": "dynamic_entity_reference",
    "entity label": "",  # the entity's own label base field (Title, Name), not a configurable field
}

# Widget labels -> widget plugin id. Text widgets differ between plain and formatted text, so those depend on the
# field type (see widget_id).
WIDGETS: dict[str, str] = {
    "textfield": "string_textfield",
    "text field": "string_textfield",
    "text area (multiple rows)": "string_textarea",
    "text area with a summary": "text_textarea_with_summary",
    "select list": "options_select",
    "check boxes/radio buttons": "options_buttons",
    "checkboxes/radio buttons": "options_buttons",
    "single on/off checkbox": "boolean_checkbox",
    "autocomplete": "entity_reference_autocomplete",
    "autocomplete (tags style)": "entity_reference_autocomplete_tags",
    "file": "file_generic",
    "image": "image_image",
    "image (focal point)": "image_focal_point",
    "imagewidget crop": "image_widget_crop",
    "link": "link_default",
    "email": "email_default",
    "telephone number": "telephone_default",
    "number field": "number",
    "date and time": "datetime_default",
    "date and time range": "daterange_default",
    "select list (date)": "datetime_datelist",
    "timestamp": "datetime_timestamp",
    "advanced meta tags form": "metatag_firehose",
    "entity browser": "entity_browser_entity_reference",
    "media library": "media_library_widget",
    "paragraphs classic": "entity_reference_paragraphs",
    "paragraphs stable": "paragraphs",
    "paragraphs (stable)": "paragraphs",
    "paragraphs experimental": "paragraphs",
    "layout paragraphs": "layout_paragraphs",
    "inline entity form - simple": "inline_entity_form_simple",
    "inline entity form - complex": "inline_entity_form_complex",
    "video textfield": "video_embed_field_textfield",
    "oembed url": "oembed_textfield",
    "address field": "address_default",
    "address": "address_default",
    "smart date and time range": "smartdate_default",
    "smart date": "smartdate_default",
    "geolocation google maps api": "geolocation_googlegeocoder",
    "office hours": "office_hours_default",
    "color boxes": "color_field_widget_box",
    "color spectrum": "color_field_widget_spectrum",
    "color html5": "color_field_widget_html5",
    "color default": "color_field_widget_default",
    "color grid": "color_field_widget_grid",
    "site studio layout canvas": "cohesion_layout_builder_widget",
    "-- disabled --": "",  # no widget: the field is hidden on the form
    "hidden": "",
}
_FORMATTED_TEXT_WIDGETS = {"string_textfield": "text_textfield", "string_textarea": "text_textarea"}

DISPLAY_PLUGINS: dict[str, str] = {
    "default": "default",
    "master": "default",
    "block": "block",
    "page": "page",
    "embed": "embed",
    "attachment": "attachment",
    "feed": "feed",
    "entity browser": "entity_browser",
    "entity reference": "entity_reference",
    "rest export": "rest_export",
    "data export": "data_export",
    "eva": "entity_view",
}

# Base table labels (the views wizard's "Show" list) -> base table.
BASE_TABLES: dict[str, str] = {
    "content": "node_field_data",
    "content revisions": "node_field_revision",
    "users": "users_field_data",
    "user": "users_field_data",
    "media": "media_field_data",
    "media revisions": "media_field_revision",
    "files": "file_managed",
    "taxonomy term": "taxonomy_term_field_data",
    "taxonomy terms": "taxonomy_term_field_data",
    "custom block": "block_content_field_data",
    "block content": "block_content_field_data",
    "comments": "comment_field_data",
    "comment": "comment_field_data",
    "contact message": "contact_message",
    "log entries": "watchdog",
    "redirect": "redirect",
    "paragraphs": "paragraphs_item_field_data",
    "webform submissions": "webform_submission",
}
_PLUGIN_ID = re.compile(r"[a-z][a-z0-9_]*")
_SEARCH_INDEX = re.compile(r"index (?P<name>.+)")


def _known_id(value: str, ids: dict[str, str]) -> str | None:
    # A spec may write the plugin id itself ("entity_reference").
    return value if _PLUGIN_ID.fullmatch(value) and value in ids.values() else None


# Bounded: a cell holds anything, and a long-running web process reads spec after spec.
@lru_cache(maxsize=1024)
def field_type_id(label: str) -> str | None:
    """The field type plugin id for a label or id; "" for the entity label base field; None when unknown."""
    value = folded(label)
    return FIELD_TYPES.get(value, _known_id(value, FIELD_TYPES))


@lru_cache(maxsize=1024)
def widget_id(label: str, field_type: str = "") -> str | None:
    """The widget plugin id for a label or id, given the field type id; None when unknown."""
    value = folded(label)
    widget = WIDGETS.get(value, _known_id(value, WIDGETS))
    if widget and field_type in ("text", "text_long", "text_with_summary"):
        return _FORMATTED_TEXT_WIDGETS.get(widget, widget)
    return widget


@lru_cache(maxsize=1024)
def display_plugin_id(label: str) -> str | None:
    value = folded(label)
    return DISPLAY_PLUGINS.get(value, _known_id(value, DISPLAY_PLUGINS))


@lru_cache(maxsize=1024)
def base_table_id(label: str) -> str | None:
    """The views base table for a label; a Search API index ("Index Content") is search_api_index_<name>."""
    value = folded(label)
    if value in BASE_TABLES:
        return BASE_TABLES[value]
    index = _SEARCH_INDEX.fullmatch(value)
    if index:
        return "search_api_index_" + re.sub(r"[^a-z0-9]+", "_", index["name"]).strip("_")
    return _known_id(value, BASE_TABLES)
