//! Parsing one `.env` file. A syntax error names the file, the line number
//! and what is wrong, never the line's text: values may be secrets.

use std::path::Path;

/// The variables of a `.env` file's text (a byte-order mark is ignored).
pub(super) fn parse_dotenv(path: &Path, text: &str) -> anyhow::Result<Vec<(String, String)>> {
    let text = super::text::strip_bom(text).unwrap_or(text);
    dotenvy::from_read_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| syntax_error(path, text))
}

/// Finds the first entry dotenvy rejects, parsing entry by entry (an entry
/// is a line, or several when a quoted value spans lines).
fn syntax_error(path: &Path, text: &str) -> anyhow::Error {
    let shown = path.display();
    for (line_number, entry) in entries(text) {
        let rejected = dotenvy::from_read_iter(entry.as_bytes()).any(|item| item.is_err());
        if rejected {
            return anyhow::anyhow!("{shown}: line {line_number}: {}", what_is_wrong(&entry));
        }
    }
    anyhow::anyhow!("{shown}: not valid `.env` syntax")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    Plain,
    AfterSpace,
    Escape,
    Double,
    DoubleEscape,
    Single,
    SingleEscape,
}

/// The file's entries with the number of the line each starts on. An entry
/// ends at the end of a line outside quotes; a `#` after a space starts a
/// comment, whose quotes do not count.
#[expect(
    clippy::match_same_arms,
    reason = "one arm per state and character class reads as the state table"
)]
fn entries(text: &str) -> Vec<(usize, String)> {
    let mut entries = Vec::new();
    let mut entry = String::new();
    let mut first_line = 1;
    let mut scan = Scan::Plain;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if entry.is_empty() {
            first_line = index + 1;
            scan = Scan::Plain;
        }
        entry.push_str(line);
        if entry.trim_start().starts_with('#') {
            entry.clear();
            continue;
        }
        let mut comment = false;
        for c in line.chars() {
            scan = match (scan, c) {
                (Scan::AfterSpace, '#') => {
                    comment = true;
                    break;
                }
                (Scan::Plain | Scan::AfterSpace, '\\') => Scan::Escape,
                (Scan::Plain | Scan::AfterSpace, '"') => Scan::Double,
                (Scan::Plain | Scan::AfterSpace, '\'') => Scan::Single,
                (Scan::Plain, c) if c.is_whitespace() && c != '\n' && c != '\r' => Scan::AfterSpace,
                (Scan::Plain | Scan::AfterSpace | Scan::Escape, _) => Scan::Plain,
                (Scan::Double, '\\') => Scan::DoubleEscape,
                (Scan::Double, '"') | (Scan::Single, '\'') => Scan::Plain,
                (Scan::Double | Scan::DoubleEscape, _) => Scan::Double,
                (Scan::Single, '\\') => Scan::SingleEscape,
                (Scan::Single | Scan::SingleEscape, _) => Scan::Single,
            };
        }
        if comment || scan == Scan::Plain {
            entries.push((first_line, std::mem::take(&mut entry)));
        }
    }
    if !entry.is_empty() {
        entries.push((first_line, entry));
    }
    entries
}

/// What is wrong with a rejected entry, in words that quote none of it.
fn what_is_wrong(entry: &str) -> &'static str {
    let mut rest = entry.trim();
    let mut name = take_name(&mut rest);
    rest = rest.trim_start();
    if name == Some("export") && !rest.starts_with('=') {
        name = take_name(&mut rest);
        rest = rest.trim_start();
    }
    if name.is_none() {
        return "expected `NAME=value`, with a NAME of letters, digits, `_` and `.` starting with a letter or `_`";
    }
    let Some(value) = rest.strip_prefix('=') else {
        return "expected `=` after the variable name (`NAME=value`)";
    };
    value_problem(value.trim_start()).unwrap_or("not valid `.env` syntax")
}

fn take_name<'a>(rest: &mut &'a str) -> Option<&'a str> {
    if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return None;
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    *rest = after;
    Some(name)
}

const TEXT_AFTER_VALUE: &str = "text after the value (a value with spaces must be quoted)";

const BAD_ESCAPE: &str = "an unsupported `\\` escape: only \\n, \\\\, \\\", \\', \\$ and a backslash before a space are understood";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Value {
    Plain,
    Double,
    Single,
    Escape,
    AfterSpace,
    /// `$NAME`, with the length of the name so far.
    Name(usize),
    /// `${NAME}`.
    Braces,
}

/// Follows dotenvy's reading of a value: quotes, escapes, `$NAME`,
/// `${NAME}` and a trailing comment.
fn value_problem(value: &str) -> Option<&'static str> {
    let mut mode = Value::Plain;
    let mut in_double = false;
    for c in value.chars() {
        let back = if in_double {
            Value::Double
        } else {
            Value::Plain
        };
        mode = match mode {
            Value::AfterSpace => match c {
                ' ' | '\t' => Value::AfterSpace,
                '#' => break,
                _ => return Some(TEXT_AFTER_VALUE),
            },
            Value::Escape if matches!(c, '\\' | '\'' | '"' | '$' | ' ' | 'n') => back,
            Value::Escape => return Some(BAD_ESCAPE),
            Value::Single if c == '\'' => Value::Plain,
            Value::Braces if c == '}' => back,
            Value::Single | Value::Braces => mode,
            // The character ending a name is taken literally.
            Value::Name(length) => match c {
                c if c.is_alphanumeric() => Value::Name(length + 1),
                '$' => Value::Name(0),
                '{' if length == 0 => Value::Braces,
                _ => back,
            },
            Value::Plain | Value::Double => match c {
                '$' => Value::Name(0),
                '\\' => Value::Escape,
                '"' => {
                    in_double = !in_double;
                    if in_double {
                        Value::Double
                    } else {
                        Value::Plain
                    }
                }
                _ if in_double => Value::Double,
                '\'' => Value::Single,
                ' ' | '\t' => Value::AfterSpace,
                _ => Value::Plain,
            },
        };
    }
    if mode == Value::Braces {
        Some("`${` without a closing `}`")
    } else if in_double || mode == Value::Single {
        Some("a quoted value is not closed")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        parse_dotenv(Path::new("tests/.env"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_bad_line_is_named_by_number_without_its_text() {
        let text = "A=1\n# a comment\n\nTOKEN=\"s3cr3t-value\n";
        let err = error(text);
        assert_eq!(err, "tests/.env: line 4: a quoted value is not closed");
        let err = error("A=1\nB=2\nKEY=s3cr3t value\n");
        assert_eq!(
            err,
            "tests/.env: line 3: text after the value (a value with spaces must be quoted)"
        );
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn each_kind_of_mistake_is_explained() {
        assert!(error("A=1\n1ABC=x\n").starts_with("tests/.env: line 2: expected `NAME=value`"));
        assert_eq!(
            error("A=1\nAPI_TOKEN s3cr3t\n"),
            "tests/.env: line 2: expected `=` after the variable name (`NAME=value`)"
        );
        assert!(
            error("A=\"x\\qy\"\n").starts_with("tests/.env: line 1: an unsupported `\\` escape")
        );
        assert_eq!(
            error("A=${B\n"),
            "tests/.env: line 1: `${` without a closing `}`"
        );
    }

    #[test]
    fn quoted_values_may_span_lines_and_later_lines_keep_their_numbers() {
        let vars =
            parse_dotenv(Path::new(".env"), "A=\"one\ntwo\"\nB='x' # note\nC=${A}\n").unwrap();
        assert_eq!(
            vars,
            [
                ("A".to_owned(), "one\ntwo".to_owned()),
                ("B".to_owned(), "x".to_owned()),
                ("C".to_owned(), "one\ntwo".to_owned())
            ]
        );
        assert_eq!(
            error("A=\"one\ntwo\"\nB=\"x\" y\n"),
            "tests/.env: line 3: text after the value (a value with spaces must be quoted)"
        );
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let vars = parse_dotenv(Path::new(".env"), "\u{feff}A=1\n").unwrap();
        assert_eq!(vars, [("A".to_owned(), "1".to_owned())]);
    }

    #[test]
    fn export_prefixes_and_crlf_lines_are_understood() {
        let vars = parse_dotenv(Path::new(".env"), "export A=1\r\nB='it''s'\r\n").unwrap();
        assert_eq!(vars[0], ("A".to_owned(), "1".to_owned()));
        assert_eq!(
            error("export A=1\r\nC=\"a\" b\r\n"),
            "tests/.env: line 2: text after the value (a value with spaces must be quoted)"
        );
        assert_eq!(
            error("A=1\r\nexport ghp_s3cr3t\r\n"),
            "tests/.env: line 2: expected `=` after the variable name (`NAME=value`)"
        );
    }
}
