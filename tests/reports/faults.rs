//! A run with faults (every request of the runner to worker1 slowed), as its
//! reports show them: the audit step's panel in headless Chromium lists its
//! fault, the round's timeline has a mark on worker1's lane for each
//! step's, and the `JUnit` file, still valid against Jenkins' schema, lists
//! each fault in its testcase's `<system-out>`.

use std::process::Command;

use super::tools::{artifact_dir, ensure, repo_root, run, unavailable};
use super::{LIMIT, Suite, dump_dom, step_panel, text};

/// The schedule: the runner's requests to worker1 wait 5 ms each.
const FAULTS: &str =
    "faults:\n  - link: \"runner->worker1\"\n    latency: { ms: 5, jitter_ms: 0 }\n";

/// A failing run of the suite with [`FAULTS`] and `--junit`.
fn faulted_run(name: &str) -> Suite {
    let suite = Suite::new(artifact_dir(name));
    let config = suite.dir.join("config.yaml");
    let mut yaml = std::fs::read_to_string(&config).expect("config.yaml");
    yaml.push_str(FAULTS);
    std::fs::write(&config, yaml).expect("config.yaml");
    let junit = suite.dir.join("junit.xml");
    let out = suite.run(&["--seed", "1", "--junit", junit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(101), "{}", text(&out.stderr));
    suite
}

/// The fault the audit step's request meets, as the reports word it.
const AUDIT_FAULT: &str = "POST /audit latency 5ms, ended forwarded 500";

#[test]
fn the_reports_show_the_faults_of_each_step() {
    let suite = faulted_run("faults");
    let xml = std::fs::read_to_string(suite.dir.join("junit.xml")).expect("the JUnit file");
    let faults: Vec<&str> = xml.lines().filter(|l| l.starts_with("fault: ")).collect();
    assert_eq!(
        faults,
        [
            "fault: runner-&gt;worker1 POST /login latency 5ms, ended forwarded 200",
            "fault: runner-&gt;worker1 POST /submit latency 5ms, ended forwarded 200",
            &format!("fault: runner-&gt;worker1 {AUDIT_FAULT}"),
        ]
    );
    match ensure("ensure_xmllint", "PROMETHEUS_TEST_XMLLINT") {
        Ok(xmllint) => {
            let out = run(
                Command::new(xmllint)
                    .arg("--noout")
                    .arg("--schema")
                    .arg(repo_root().join("tests/reports/jenkins-junit-4.xsd"))
                    .arg(suite.dir.join("junit.xml")),
                LIMIT,
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
        Err(why) => unavailable("the faulted JUnit schema check", &why),
    }
    let chromium = match ensure("ensure_chromium", "PROMETHEUS_TEST_CHROMIUM") {
        Ok(path) => path,
        Err(why) => {
            return unavailable(
                "the_reports_show_the_faults_of_each_step (the HTML report)",
                &format!("no headless Chromium: {why}"),
            );
        }
    };
    let file = suite.dir.join("data/report.html");
    let dom = dump_dom(&chromium, &file, "step=round1/steps::audit[worker1]");
    assert!(
        dom.contains("data-ready=\"true\""),
        "the script ran to its end"
    );
    let panel = step_panel(&dom);
    let table = &panel[panel.find("<h3>Faults (1)</h3>").expect(panel)..];
    let table = &table[..table.find("</table>").expect(table)];
    assert!(
        table.contains(
            "<td class=\"mono place\">runner-&gt;worker1</td><td class=\"mono\">POST /audit</td>\
             <td class=\"what\">latency 5ms, ended forwarded 500</td>"
        ),
        "{table}"
    );
    let lane = &dom[dom
        .find("<div class=\"lane\" data-worker=\"worker1\">")
        .expect(&dom)..];
    let lane = &lane[..lane.find("<div class=\"axis\">").expect(lane)];
    let marks: Vec<&str> = lane
        .split("<span class=\"fault-mark\"")
        .skip(1)
        .map(|mark| {
            let title = &mark[mark.find("title=\"fault: ").expect(mark) + 14..];
            &title[..title.find(" at ").expect(title)]
        })
        .collect();
    assert_eq!(
        marks,
        [
            "runner-&gt;worker1 POST /login latency 5ms, ended forwarded 200",
            "runner-&gt;worker1 POST /submit latency 5ms, ended forwarded 200",
            &format!("runner-&gt;worker1 {AUDIT_FAULT}"),
        ]
    );
}
