/* The book's calculators (macros/reference.py, calculator()): each <form class="calculator"> holds number inputs
 * named by their reference-system key and one <output aria-live="polite">. The formula of each calculator is
 * here; the worked table beside the form shows the same calculation with the reference values, computed by the
 * build (macros/reference_system.py), and a browser test checks that both agree at the reference values.
 * Plain JavaScript, no library, nothing loaded from another host. */
(function () {
  "use strict";

  /* Numbers as the book prints them (macros/reference_system.py, format_number): thousands separators, whole
   * numbers as they are, 100 and above rounded, smaller fractions to three significant figures. */
  function formatNumber(value) {
    if (Number.isInteger(value) || Math.abs(value) >= 100) {
      return Math.round(value).toLocaleString("en-US");
    }
    return Number(value.toPrecision(3)).toLocaleString("en-US", { maximumSignificantDigits: 3 });
  }

  var FORMULAS = {
    "latency-budget": function (v) {
      var total = 0;
      Object.keys(v).forEach(function (key) {   // every stage: all inputs but the target
        if (key !== "slo.first_partial_p95_ms") { total += v[key]; }
      });
      var target = v["slo.first_partial_p95_ms"];
      var margin = target - total;
      var verdict = margin >= 0
        ? formatNumber(margin) + " ms under the " + formatNumber(target) + " ms target"
        : formatNumber(-margin) + " ms over the " + formatNumber(target) + " ms target";
      return "Sum of the stages' p95: " + formatNumber(total) + " ms, " + verdict +
        " (an upper bound: percentiles do not add).";
    },
    "streams-per-gpu": function (v) {
      // Little's law: concurrent streams = arrival rate x mean time in the system.
      var streams = v["traffic.peak_session_arrivals_per_s"] * v["sessions.mean_s"];
      var perGpu = v["capacity.streams_per_gpu"];
      if (perGpu <= 0) { return "Streams per GPU must be more than 0."; }
      var gpus = Math.ceil(streams / perGpu);
      return formatNumber(streams) + " concurrent streams at the peak; at " + formatNumber(perGpu) +
        " streams per GPU that is " + formatNumber(gpus) + (gpus === 1 ? " GPU" : " GPUs") + " before headroom.";
    },
    "cost-per-audio-hour": function (v) {
      var slots = v["capacity.streams_per_gpu"] * v["traffic.mean_fraction_of_peak"];
      if (slots <= 0) { return "Streams per GPU and utilisation must be more than 0."; }
      var cost = v["prices.gpu_instance_usd_per_hour"] / slots;
      return formatNumber(cost) + " USD per hour of audio (" + formatNumber(slots) +
        " streams in use per GPU on average).";
    }
  };

  function readInputs(form) {
    var values = {};
    var problem = null;
    form.querySelectorAll("input[data-key]").forEach(function (input) {
      var value = input.valueAsNumber;
      if (!isFinite(value) || value < 0) {
        var label = form.querySelector('label[for="' + input.id + '"]');
        problem = problem || "Enter a number of 0 or more for: " + (label ? label.textContent.trim() : input.name) + ".";
      }
      values[input.dataset.key] = value;
    });
    return { values: values, problem: problem };
  }

  function update(form) {
    var formula = FORMULAS[form.dataset.calculator];
    var output = form.querySelector("output");
    if (!formula || !output) { return; }
    var read = readInputs(form);
    output.textContent = read.problem || formula(read.values);
  }

  function start() {
    document.querySelectorAll("form.calculator").forEach(function (form) {
      form.addEventListener("input", function () { update(form); });
      // Enter in a field would submit the form and reload the page: recalculate instead.
      form.addEventListener("submit", function (event) { event.preventDefault(); update(form); });
      update(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
