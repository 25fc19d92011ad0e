"""Reads a JUnit XML report as a CI server does, with xml.etree only.

Prints one JSON object: totals from the attributes, totals counted from the
testcases, and per testcase its classname, name, status, message and whether
it has system-out.
"""

import json
import sys
import xml.etree.ElementTree as ET


def main(path):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    cases = []
    for suite in suites:
        for case in suite.findall("testcase"):
            failure = case.find("failure")
            skipped = case.find("skipped")
            if failure is not None:
                status, message = "failed", failure.get("message")
            elif skipped is not None:
                status, message = "skipped", skipped.text
            else:
                status, message = "passed", None
            out = case.find("system-out")
            cases.append({
                "classname": case.get("classname"),
                "name": case.get("name"),
                "time": float(case.get("time")),
                "status": status,
                "message": message,
                "system_out": out.text if out is not None else None,
            })
    print(json.dumps({
        "declared": {
            "tests": sum(int(s.get("tests")) for s in suites),
            "failures": sum(int(s.get("failures", "0")) for s in suites),
            "skipped": sum(int(s.get("skipped", "0")) for s in suites),
            "errors": sum(int(s.get("errors", "0")) for s in suites),
        },
        "counted": {
            "tests": len(cases),
            "failures": sum(c["status"] == "failed" for c in cases),
            "skipped": sum(c["status"] == "skipped" for c in cases),
        },
        "cases": cases,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
