"""The calculators on the Reference System page, driven with the keyboard in Chromium: each starts at the reference
values (agreeing with its worked table), recalculates as the reader types, and stays clean under axe-core in both
palettes."""
import json

import pytest
from playwright.sync_api import expect

from macros.reference_system import ReferenceSystem, format_number
from test_accessibility import PALETTES, STILL, axe_source, blocking_violations  # noqa: F401  (axe_source: fixture)

PAGE = "reference-system/"


SYSTEM = ReferenceSystem.load()
STREAMS_PER_GPU = SYSTEM.number("capacity.streams_per_gpu")
PEAK = SYSTEM.number("traffic.peak_session_arrivals_per_s") * SYSTEM.number("sessions.mean_s")   # Little's law


def streams_and_gpus(streams: float) -> str:
    return (f"{streams:,.0f} concurrent streams at the peak; at {STREAMS_PER_GPU:g} streams per GPU that is "
            f"{-(-streams // STREAMS_PER_GPU):.0f} GPUs")


def cost_per_audio_hour(price: float) -> str:
    return f"{format_number(price / (STREAMS_PER_GPU * SYSTEM.number('traffic.mean_fraction_of_peak')))} USD per hour of audio"


STAGES_P95 = sum(SYSTEM.number(key) for key in (
    "audio.chunk_ms", "budget.encode_p95_ms", "budget.uplink_p95_ms", "budget.ingress_p95_ms", "budget.queue_p95_ms",
    "inference.max_batch_ms", "budget.decode_p95_ms", "budget.downlink_p95_ms", "budget.render_p95_ms"))


def budget_sum(total: float) -> str:
    target = SYSTEM.number("slo.first_partial_p95_ms")
    side = f"{format_number(target - total)} ms under" if total <= target else f"{format_number(total - target)} ms over"
    return f"Sum of the stages' p95: {format_number(total)} ms, {side}"


# (calculator, field label, typed value, result at the reference values, result after typing)
CASES = [
    ("latency-budget", "p95 one-way network time, client to serving region", "200",
     budget_sum(STAGES_P95), budget_sum(STAGES_P95 - SYSTEM.number("budget.uplink_p95_ms") + 200)),
    ("streams-per-gpu", "New sessions per second at the busiest hour", "6.6",
     streams_and_gpus(PEAK), streams_and_gpus(2 * PEAK)),
    ("cost-per-audio-hour", "On-demand price of one single-GPU L4 instance", "2",
     cost_per_audio_hour(SYSTEM.number("prices.gpu_instance_usd_per_hour")), cost_per_audio_hour(2)),
]


@pytest.mark.parametrize("kind, label, typed, before, after", CASES, ids=[case[0] for case in CASES])
def test_typing_a_value_with_the_keyboard_changes_the_result(page, site_url, kind, label, typed, before, after):
    page.goto(site_url + PAGE)
    form = page.locator(f'form.calculator[data-calculator="{kind}"]')
    output = form.locator("output")
    expect(output).to_have_attribute("aria-live", "polite")
    expect(output).to_contain_text(before)
    field = form.get_by_label(label)
    # Reach the field from the one before it with Tab, as a keyboard user does (or from the page for the first).
    inputs = form.locator("input")
    index = [inputs.nth(i).get_attribute("id") for i in range(inputs.count())].index(field.get_attribute("id"))
    if index:
        inputs.nth(index - 1).focus()
        page.keyboard.press("Tab")
    else:
        field.focus()
    expect(field).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(typed)
    expect(output).to_contain_text(after)
    page.keyboard.press("Enter")   # submitting recalculates instead of reloading the page
    expect(output).to_contain_text(after)
    expect(field).to_have_value(typed)


def test_an_empty_field_says_what_to_enter(page, site_url):
    page.goto(site_url + PAGE)
    form = page.locator('form.calculator[data-calculator="streams-per-gpu"]')
    form.get_by_label("Mean length of a session").focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Backspace")
    expect(form.locator("output")).to_contain_text("Enter a number of 0 or more for: Mean length of a session")


@pytest.mark.parametrize("preference", PALETTES)
def test_the_calculators_stay_clean_under_axe_after_use(browser, site_url, axe_source, preference):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=preference)
    page = context.new_page()
    page.goto(site_url + PAGE)
    page.add_style_tag(content=STILL)
    field = page.locator('form.calculator[data-calculator="streams-per-gpu"] input').first
    field.focus()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("5")
    problems = blocking_violations(page, axe_source)
    context.close()
    assert not problems, json.dumps(problems, indent=1)
