//! Where a value sits in a JSON text, for errors found after parsing: the text is
//! scanned again along a path of array indices and object keys (only on the error path).

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// An array element.
    Index(usize),
    /// An object member (the last one when a key repeats, as the parser keeps it).
    Key(String),
}

/// Line and column (both from 1, the column in characters) of the value at
/// `path` in the valid JSON `text`; `None` when the path is not there.
pub(super) fn locate(text: &str, path: &[Step]) -> Option<(usize, usize)> {
    let offset = value_offset(text.as_bytes(), path)?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Some((line, before[line_start..].chars().count() + 1))
}

/// `field.sub.0.$oid` for the object keys and indices of `path` (without the leading element).
pub(super) fn dotted(path: &[Step]) -> String {
    path.iter()
        .map(|step| match step {
            Step::Index(index) => index.to_string(),
            Step::Key(key) => key.clone(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn value_offset(bytes: &[u8], path: &[Step]) -> Option<usize> {
    let mut at = skip_ws(bytes, 0);
    for step in path {
        at = match (step, bytes.get(at)?) {
            (Step::Index(wanted), b'[') => nth_element(bytes, at, *wanted)?,
            (Step::Key(wanted), b'{') => member(bytes, at, wanted)?,
            _ => return None,
        };
    }
    Some(at)
}

/// The offset of element `wanted` of the array opening at `open`.
fn nth_element(bytes: &[u8], open: usize, wanted: usize) -> Option<usize> {
    let mut at = skip_ws(bytes, open + 1);
    for _ in 0..wanted {
        at = skip_ws(bytes, skip_value(bytes, at)?);
        if bytes.get(at)? != &b',' {
            return None;
        }
        at = skip_ws(bytes, at + 1);
    }
    (bytes.get(at)? != &b']').then_some(at)
}

/// The offset of the value of the last member `wanted` of the object opening at `open`.
fn member(bytes: &[u8], open: usize, wanted: &str) -> Option<usize> {
    let mut at = skip_ws(bytes, open + 1);
    let mut found = None;
    while bytes.get(at)? == &b'"' {
        let key_end = skip_string(bytes, at)?;
        let key: String = serde_json::from_slice(&bytes[at..key_end]).ok()?;
        at = skip_ws(bytes, key_end);
        if bytes.get(at)? != &b':' {
            return None;
        }
        at = skip_ws(bytes, at + 1);
        if key == wanted {
            found = Some(at);
        }
        at = skip_ws(bytes, skip_value(bytes, at)?);
        if bytes.get(at)? != &b',' {
            break;
        }
        at = skip_ws(bytes, at + 1);
    }
    found
}

/// The offset just after the value starting at `at`.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        b'[' | b'{' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let len = bytes[at..]
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}') || b.is_ascii_whitespace())
                .unwrap_or(bytes.len() - at);
            Some(at + len)
        }
    }
}

/// The offset just after the string starting at `at` (a `"`).
fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::{Step, locate};

    fn key(name: &str) -> Step {
        Step::Key(name.to_owned())
    }

    #[test]
    fn finds_elements_members_and_nested_values() {
        let text = "[\n  {\"a\": 1},\n  {\"b\": \"x,]}\", \"_id\": {\"$oid\": \"zz\"}}\n]";
        assert_eq!(locate(text, &[]), Some((1, 1)));
        assert_eq!(locate(text, &[Step::Index(1)]), Some((3, 3)));
        assert_eq!(
            locate(text, &[Step::Index(1), key("_id"), key("$oid")]),
            Some((3, 33))
        );
        assert_eq!(locate(text, &[Step::Index(2)]), None);
        assert_eq!(locate(text, &[Step::Index(0), key("missing")]), None);
    }

    #[test]
    fn counts_columns_in_characters_and_finds_array_members() {
        let text = "{\"é\": [true, {\"k\": null}]}";
        assert_eq!(
            locate(text, &[key("é"), Step::Index(1), key("k")]),
            Some((1, 20))
        );
    }
}
