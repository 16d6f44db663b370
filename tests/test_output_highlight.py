"""The one code palette (scripts/highlight.py): every Pygments token readable (WCAG AA, 4.5:1) on the light and
dark site backgrounds, in the EPUB, and in print when printed in gray."""
import pytest
from pygments.token import STANDARD_TYPES, Comment, Keyword, Name, String

from scripts.shared import highlight
from scripts.shared.highlight import AA_CONTRAST, DARK, EPUB, LIGHT, PRINT, contrast, grayscale, token_colours


def test_contrast_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#959595", "#f5f5f5") == pytest.approx(2.74, abs=0.01)   # the grey Ace failed the EPUB for
    assert grayscale("#ff0000") == "#4c4c4c"


@pytest.mark.parametrize("palette", [LIGHT, DARK, EPUB, PRINT], ids=lambda p: p.name)
def test_every_token_colour_is_readable_on_its_background(palette):
    colours = token_colours(palette)
    assert set(colours) == set(STANDARD_TYPES)
    weak = {str(token): (colour, round(contrast(colour, palette.background), 2)) for token, colour in colours.items()
            if contrast(colour, palette.background) < AA_CONTRAST}
    assert weak == {}


def test_print_is_legible_in_grayscale():
    for token, colour in token_colours(PRINT).items():
        assert colour == grayscale(colour), f"{token}: print colours are grays"
        assert contrast(grayscale(colour), grayscale(PRINT.background)) >= AA_CONTRAST, token


def test_css_colours_every_token_class_inside_the_selector():
    css = highlight.css(".highlight", LIGHT)
    for token, short_class in STANDARD_TYPES.items():
        if short_class:
            assert f".highlight .{short_class}," in css or f".highlight .{short_class} {{" in css, short_class
    assert f".highlight pre {{ color: {LIGHT.colours['text']}; background-color: {LIGHT.background}; }}" in css
    assert "font-style: italic" in css   # comments


def test_roles_follow_the_token_hierarchy():
    assert highlight.role_of(Comment.Single) == "comment"
    assert highlight.role_of(Keyword.Namespace) == "keyword"
    assert highlight.role_of(String.Double) == "string"
    assert highlight.role_of(Name.Function.Magic) == "function"


def test_web_css_covers_both_material_schemes():
    css = highlight.web_css()
    for scheme, palette in (("default", LIGHT), ("slate", DARK)):
        assert f'[data-md-color-scheme="{scheme}"] {{ --md-code-fg-color: {palette.colours["text"]}; ' \
               f'--md-code-bg-color: {palette.background}; }}' in css
        assert f'[data-md-color-scheme="{scheme}"] .highlight .c1' in css
