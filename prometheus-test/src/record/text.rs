//! Escaping for the formats the writers produce.

use std::fmt::Write as _;

/// Appends `text` escaped for XML or HTML text and attribute values.
///
/// Characters XML 1.0 cannot hold (control characters other than tab, line
/// feed and carriage return; U+FFFE, U+FFFF) are written as `\u{…}`.
pub(crate) fn push_xml_escaped(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(ch));
            }
            _ => out.push(ch),
        }
    }
}

/// `text` escaped for XML or HTML.
pub(crate) fn xml_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_xml_escaped(&mut out, text);
    out
}

/// Appends the inside of a JSON string literal for `text` (no quotes).
pub(crate) fn push_json_string_body(out: &mut String, text: &str) {
    let quoted = serde_json::Value::String(text.to_owned()).to_string();
    out.push_str(&quoted[1..quoted.len() - 1]);
}

/// JSON made safe to sit inside an HTML `<script>` element: `<`, `>` and `&`
/// become `\u003c`, `\u003e`, `\u0026` (they only occur inside strings, where
/// the escape means the same character), so no `</script>` or `<!--` appears.
pub(crate) fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for ch in json.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(ch),
        }
    }
    out
}

/// Milliseconds as seconds with three decimals, as `JUnit`'s `time` wants.
pub(crate) fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping_covers_markup_and_control_characters() {
        assert_eq!(
            xml_escaped("a<b>&\"c'\u{1}\td\u{7f}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\\u{1}\td\\u{7f}"
        );
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let json = serde_json::json!({"x": "</script><!-- & \u{2028}"}).to_string();
        let safe = script_safe_json(&json);
        assert_eq!(
            safe,
            r#"{"x":"\u003c/script\u003e\u003c!-- \u0026 \u2028"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["x"], "</script><!-- & \u{2028}");
    }

    #[test]
    fn json_string_body_escapes_quotes() {
        let mut out = String::new();
        push_json_string_body(&mut out, "a\"b\\c\n");
        assert_eq!(out, "a\\\"b\\\\c\\n");
        assert_eq!(seconds(61_005), "61.005");
    }
}
