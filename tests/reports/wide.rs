//! The HTML report of a run with eighteen step columns (the suite's `wide`
//! steps), measured in headless Chromium: the grid takes the page's width
//! while no step is open and keeps most of it beside an open step's panel,
//! a worker's paused and stopped gaps are drawn over the bar of the step
//! that ran during them, and a step's panel lists the worker changes it made.
//!
//! A copy of the report gets a script that measures the laid-out page after
//! the report's own script ran and writes the measurements into the DOM,
//! which `--dump-dom` prints.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::tools::{artifact_dir, ensure, run, unavailable};
use super::{LIMIT, Suite, browser, text};

/// The window the report is measured and photographed in.
const WINDOW: &str = "--window-size=1400,900";

/// Measures the page once the report's script drew it (a round's timeline
/// is drawn on the `toggle` that follows its opening, hence the timeout).
const MEASURE: &str = r"<script>
window.addEventListener('load', function () { setTimeout(function () {
  function rect(node) { return node.getBoundingClientRect(); }
  var layout = document.querySelector('.layout');
  var wrap = document.querySelector('.grid-wrap');
  var aside = document.getElementById('detail');
  var padding = parseFloat(getComputedStyle(layout).paddingLeft) + parseFloat(getComputedStyle(layout).paddingRight);
  var view = rect(wrap);
  var headers = Array.prototype.slice.call(document.querySelectorAll('#grid thead th')).slice(1);
  var out = {
    content: rect(layout).width - padding,
    grid: wrap.clientWidth,
    panel: getComputedStyle(aside).display === 'none' ? 0 : rect(aside).width,
    columns: headers.length,
    in_view: headers.filter(function (th) {
      var box = rect(th);
      return box.left >= view.left - 1 && box.right <= view.left + wrap.clientWidth + 1;
    }).length,
    gaps: [],
    panel_events: []
  };
  var force = document.createElement('style');
  Array.prototype.forEach.call(document.querySelectorAll('.track'), function (track) {
    var bars = Array.prototype.slice.call(track.querySelectorAll('.bar'));
    Array.prototype.forEach.call(track.querySelectorAll('.gap'), function (gap) {
      var g = rect(gap);
      bars.forEach(function (bar) {
        var b = rect(bar);
        var left = Math.max(g.left, b.left), right = Math.min(g.right, b.right);
        if (right - left < 4) return;
        var x = (left + right) / 2, y = (b.top + b.bottom) / 2;
        var clicked = document.elementFromPoint(x, y);
        document.head.appendChild(force);
        force.textContent = '.gap { pointer-events: auto !important; }';
        var painted = document.elementFromPoint(x, y);
        force.textContent = '';
        out.gaps.push({
          gap: gap.className,
          step: bar.dataset.step,
          painted: painted === gap ? 'gap' : painted === bar ? 'bar' : String(painted && painted.className),
          clicked: clicked === bar ? 'bar' : clicked === gap ? 'gap' : String(clicked && clicked.className)
        });
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('#detail .worker-events li'), function (item) {
    out.panel_events.push({
      what: item.querySelector('.what').textContent,
      at: item.querySelector('.at').textContent
    });
  });
  var pre = document.createElement('pre');
  pre.id = 'measurements';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 100); });
</script>
";

/// The report of one round of the eighteen `wide` steps, its timeline open.
#[test]
fn a_wide_grid_and_its_timeline_stay_readable_in_a_real_browser() {
    let test = "a_wide_grid_and_its_timeline_stay_readable_in_a_real_browser";
    let chromium = match ensure("ensure_chromium", "PROMETHEUS_TEST_CHROMIUM") {
        Ok(path) => path,
        Err(why) => return unavailable(test, &format!("no headless Chromium: {why}")),
    };
    let dir = artifact_dir("wide");
    let suite = Suite::new(dir.clone());
    let out = suite.play(&["--skip", "steps::"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = dir.join("data/report.html");
    let page = text(&std::fs::read(&report).expect("the report"));
    let measured = dir.join("data/measured.html");
    std::fs::write(
        &measured,
        page.replacen("</body>", &format!("{MEASURE}</body>"), 1),
    )
    .expect("the measured copy");

    let pauses = "round1/wide::pauses_the_worker[worker1]";
    for (fragment, png) in [
        ("round=1", "no-step.png"),
        (&*format!("step={pauses}"), "step.png"),
    ] {
        screenshot(&chromium, &report, fragment, &dir.join(png));
    }

    let closed = measure(&chromium, &measured, "round=1");
    let width = |m: &Value, key: &str| m[key].as_f64().expect(key);
    let at_least = |m: &Value, share: f64| width(m, "grid") >= share * width(m, "content");
    let summary = format!(
        "no step open: panel shown: {}, grid takes the width: {}, columns in view: {} of {}",
        width(&closed, "panel") > 0.0,
        at_least(&closed, 0.97),
        closed["in_view"],
        closed["columns"],
    );
    let mut gaps = String::new();
    for gap in closed["gaps"].as_array().expect("gaps") {
        let _ = writeln!(
            gaps,
            "{} over {}: drawn above the bar: {}, a click opens the step: {}",
            gap["gap"].as_str().unwrap(),
            gap["step"].as_str().unwrap(),
            gap["painted"] == "gap",
            gap["clicked"] == "bar",
        );
    }
    let open = measure(&chromium, &measured, &format!("step={pauses}"));
    let opened = format!(
        "step open: panel shown: {}, grid keeps 60% of the width: {}, columns in view: at least 10: {}",
        width(&open, "panel") > 0.0,
        at_least(&open, 0.6),
        open["in_view"].as_u64().unwrap() >= 10,
    );
    let mut listed = String::new();
    for step in [
        "pauses_the_worker",
        "stops_the_worker",
        "kills_the_worker",
        "closes_the_round",
    ] {
        let fragment = format!("step=round1/wide::{step}[worker1]");
        let events = measure(&chromium, &measured, &fragment)["panel_events"].clone();
        let events = events.as_array().expect("panel events");
        let whats: Vec<&str> = events.iter().map(|e| e["what"].as_str().unwrap()).collect();
        let _ = writeln!(listed, "{step} lists: [{}]", whats.join("; "));
        for event in events {
            let at = event["at"].as_str().unwrap();
            assert!(at.ends_with(" ms") || at.ends_with(" s"), "a time: {at}");
        }
    }
    assert_eq!(
        format!("{summary}\n{opened}\n{gaps}{listed}"),
        "no step open: panel shown: false, grid takes the width: true, columns in view: 18 of 18\n\
         step open: panel shown: true, grid keeps 60% of the width: true, columns in view: at least 10: true\n\
         gap paused over round1/wide::pauses_the_worker[worker1]: drawn above the bar: true, a click opens the step: true\n\
         gap stopped over round1/wide::stops_the_worker[worker1]: drawn above the bar: true, a click opens the step: true\n\
         gap stopped over round1/wide::kills_the_worker[worker1]: drawn above the bar: true, a click opens the step: true\n\
         pauses_the_worker lists: [worker1 paused; worker1 resumed]\n\
         stops_the_worker lists: [worker1 stopped by stop (signal 15); worker1 started]\n\
         kills_the_worker lists: [worker1 stopped by kill (signal 9); worker1 started]\n\
         closes_the_round lists: []\n",
        "measured: {closed}\n{open}\nscreenshots in {}",
        dir.display()
    );
}

/// The measurements of `page` opened at `#fragment`.
fn measure(chromium: &Path, page: &Path, fragment: &str) -> Value {
    let profile = tempfile::tempdir().unwrap();
    let out = run(
        browser(chromium, profile.path())
            .arg(WINDOW)
            .arg("--dump-dom")
            .arg(format!("file://{}#{fragment}", page.display())),
        LIMIT,
    );
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    let dom = text(&out.stdout);
    let start = dom
        .find("<pre id=\"measurements\">")
        .unwrap_or_else(|| panic!("no measurements in the DOM at #{fragment}: {dom}"))
        + "<pre id=\"measurements\">".len();
    let json = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let json = json
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"))
}

/// A screenshot of `page` at `#fragment`, to look at after the test.
fn screenshot(chromium: &Path, page: &Path, fragment: &str, png: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let out = run(
        browser(chromium, profile.path())
            .arg(WINDOW)
            .arg("--hide-scrollbars")
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}#{fragment}", page.display())),
        LIMIT,
    );
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    assert!(
        std::fs::read(png)
            .expect("the screenshot")
            .starts_with(b"\x89PNG"),
        "not a PNG"
    );
}
