//! The text of a Messages API answer streamed as server-sent events, read as
//! the chunks arrive: the `text_delta` texts of `content_block_delta` events,
//! concatenated. Other events (`message_start`, `ping`, `message_stop`, ...)
//! are ignored; an `error` event is an error.

use anyhow::{Context as _, bail};
use serde_json::Value;

/// The text so far, and the bytes of an event not complete yet.
#[derive(Debug, Default)]
pub(crate) struct StreamedText {
    pending: Vec<u8>,
    text: String,
}

impl StreamedText {
    /// Reads one chunk of the stream: every event it completes is taken in.
    /// A chunk may end anywhere, even inside a UTF-8 character.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> anyhow::Result<()> {
        self.pending.extend_from_slice(chunk);
        while let Some((end, separator)) = event_end(&self.pending) {
            let event: Vec<u8> = self.pending.drain(..end + separator).collect();
            self.take_event(&event[..end])?;
        }
        Ok(())
    }

    /// The whole text, once the stream ended; an event left unfinished is
    /// taken in first (a stream need not end with a blank line).
    pub(crate) fn finish(mut self) -> anyhow::Result<String> {
        let rest = std::mem::take(&mut self.pending);
        if !rest.iter().all(u8::is_ascii_whitespace) {
            self.take_event(&rest)?;
        }
        Ok(self.text)
    }

    /// One event: its `data:` lines joined by newlines, as JSON.
    fn take_event(&mut self, event: &[u8]) -> anyhow::Result<()> {
        let event = std::str::from_utf8(event).context("an event is not UTF-8")?;
        let mut data: Option<String> = None;
        for line in event.lines() {
            // `field: value`, or `field:value`; lines starting with `:` are comments.
            let Some(value) = line.strip_prefix("data:") else {
                continue;
            };
            let value = value.strip_prefix(' ').unwrap_or(value);
            match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            }
        }
        let Some(data) = data else {
            return Ok(());
        };
        let json: Value = serde_json::from_str(&data)
            .with_context(|| format!("an event's data is not JSON: {data:?}"))?;
        match json["type"].as_str() {
            Some("content_block_delta") if json["delta"]["type"] == "text_delta" => {
                let text = json["delta"]["text"]
                    .as_str()
                    .with_context(|| format!("a text_delta has no text: {data}"))?;
                self.text.push_str(text);
            }
            Some("error") => bail!("the stream reported an error: {}", json["error"]),
            _ => {}
        }
        Ok(())
    }
}

/// Where the first complete event in `bytes` ends, and the length of the
/// blank line after it (`\n\n`, `\r\n\r\n` or `\r\r`).
fn event_end(bytes: &[u8]) -> Option<(usize, usize)> {
    (0..bytes.len()).find_map(|at| {
        [&b"\r\n\r\n"[..], b"\n\n", b"\r\r"]
            .into_iter()
            .find(|separator| bytes[at..].starts_with(separator))
            .map(|separator| (at, separator.len()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(text: &str) -> String {
        let data = serde_json::json!({
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        });
        format!("event: content_block_delta\ndata: {data}\n\n")
    }

    /// A stream as the Messages API sends it, around the deltas.
    fn stream(deltas: &[&str]) -> String {
        let mut stream = String::from(
            "event: message_start\ndata: {\"type\": \"message_start\", \"message\": {\"content\": []}}\n\n\
             event: content_block_start\ndata: {\"type\": \"content_block_start\", \"index\": 0, \
             \"content_block\": {\"type\": \"text\", \"text\": \"\"}}\n\n\
             event: ping\ndata: {\"type\": \"ping\"}\n\n",
        );
        for text in deltas {
            stream.push_str(&delta(text));
        }
        stream.push_str(
            "event: content_block_stop\ndata: {\"type\": \"content_block_stop\", \"index\": 0}\n\n\
             event: message_stop\ndata: {\"type\": \"message_stop\"}\n\n",
        );
        stream
    }

    fn read(chunks: &[&[u8]]) -> anyhow::Result<String> {
        let mut text = StreamedText::default();
        for chunk in chunks {
            text.push(chunk)?;
        }
        text.finish()
    }

    #[test]
    fn concatenates_the_text_deltas_and_ignores_other_events() {
        let stream = stream(&["Summary:", " Write", " docs"]);
        assert_eq!(read(&[stream.as_bytes()]).unwrap(), "Summary: Write docs");
    }

    #[test]
    fn events_split_anywhere_across_chunks_read_the_same() {
        let stream = stream(&["Résumé:", " naïve", " ✓"]);
        let bytes = stream.as_bytes();
        for size in [1, 2, 3, 7, 64] {
            let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
            assert_eq!(
                read(&chunks).unwrap(),
                "Résumé: naïve ✓",
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn text_arrives_as_each_event_completes() {
        let mut text = StreamedText::default();
        let event = delta("Hello");
        let (head, tail) = event.split_at(event.len() - 1);
        text.push(head.as_bytes()).unwrap();
        assert_eq!(text.text, "");
        text.push(tail.as_bytes()).unwrap();
        assert_eq!(text.text, "Hello");
    }

    #[test]
    fn data_lines_without_a_space_crlf_and_several_data_lines_are_read() {
        let stream = "event: content_block_delta\r\n\
                      data:{\"type\": \"content_block_delta\",\r\n\
                      data: \"delta\": {\"type\": \"text_delta\", \"text\": \"a\"}}\r\n\r\n\
                      : a comment\n\n\
                      data: {\"type\": \"content_block_delta\", \"delta\": {\"type\": \"text_delta\", \"text\": \"b\"}}";
        assert_eq!(read(&[stream.as_bytes()]).unwrap(), "ab");
    }

    #[test]
    fn other_delta_types_are_ignored() {
        let stream = "data: {\"type\": \"content_block_delta\", \"delta\": \
                      {\"type\": \"input_json_delta\", \"partial_json\": \"{}\"}}\n\n";
        assert_eq!(
            read(&[stream.as_bytes(), delta("x").as_bytes()]).unwrap(),
            "x"
        );
    }

    #[test]
    fn an_error_event_or_bad_data_is_an_error() {
        let error = "event: error\ndata: {\"type\": \"error\", \"error\": \
                     {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n";
        let err = read(&[error.as_bytes()]).unwrap_err().to_string();
        assert!(err.contains("Overloaded"), "{err}");
        let err = read(&[b"data: {not json\n\n"]).unwrap_err().to_string();
        assert!(err.contains("not JSON"), "{err}");
    }
}
