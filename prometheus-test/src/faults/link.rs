//! Links, `from->to`, and the patterns that name them: who sends
//! (`runner` or a worker) and who receives (a worker, a service, or an
//! outside host such as `api.anthropic.com`).

use std::fmt;

/// The sender of a step's calls to the workers.
pub(crate) const RUNNER: &str = "runner";

/// A link a request travels: `worker3->api.anthropic.com`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Link {
    pub(crate) from: String,
    pub(crate) to: String,
}

impl Link {
    pub(crate) fn new(from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            from: from.into(),
            to: to.into(),
        }
    }

    /// The link of a request `client` sent to `url`: its `to` is the peer
    /// whose address (`host:port`) the URL names, else the URL's host
    /// (lower-case, without port).
    pub(crate) fn of_request(client: &str, url: &str, peers: &[(String, String)]) -> Self {
        let authority = authority(url);
        let to = peers
            .iter()
            .find(|(address, _)| address.eq_ignore_ascii_case(&authority))
            .map_or_else(|| host(&authority).to_owned(), |(_, name)| name.clone());
        Self::new(client, to)
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{}", self.from, self.to)
    }
}

/// `host[:port]` of `url`, lower-case, without user information.
fn authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    authority.to_ascii_lowercase()
}

/// The host of `authority` (`[::1]:80` → `[::1]`, `a.b:443` → `a.b`).
fn host(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}

/// Whether `text` matches `pattern`, where `*` stands for any run of
/// characters (none included) and every other character for itself.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // The last `*` seen and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The names a schedule or a script may refer to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Known {
    /// The workers, in workers.json's order.
    pub(crate) workers: Vec<String>,
    /// Services the workers talk to by name.
    pub(crate) services: Vec<String>,
}

impl Known {
    pub(crate) fn new(workers: &[&str], services: &[&str]) -> Self {
        let owned = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        Self {
            workers: owned(workers),
            services: owned(services),
        }
    }

    /// Why no worker matches `pattern`, if none does.
    pub(crate) fn worker_named(&self, pattern: &str) -> Result<(), String> {
        if self.workers.iter().any(|w| glob(pattern, w)) {
            return Ok(());
        }
        Err(format!(
            "`{pattern}` names no worker ({})",
            quoted(&self.workers)
        ))
    }
}

/// `` `a`, `b` `` or `none`.
fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "there are none".to_owned();
    }
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    format!("the workers are {}", quoted.join(", "))
}

/// A pattern of links: `worker*->api.anthropic.com`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LinkPattern {
    pub(crate) from: String,
    pub(crate) to: String,
}

impl LinkPattern {
    /// The pattern `written` (`from->to`, each side a name or a glob).
    pub(crate) fn parse(written: &str) -> Result<Self, String> {
        let shape = "must be `from->to` (such as `worker1->api.anthropic.com`)";
        let Some((from, to)) = written.split_once("->") else {
            return Err(shape.to_owned());
        };
        let bad = |side: &str| {
            side.is_empty() || side.contains("->") || side.chars().any(char::is_whitespace)
        };
        if bad(from) || bad(to) {
            return Err(shape.to_owned());
        }
        Ok(Self {
            from: from.to_owned(),
            to: to.to_ascii_lowercase(),
        })
    }

    /// Whether `link` is one this pattern names.
    pub(crate) fn matches(&self, link: &Link) -> bool {
        glob(&self.from, &link.from) && glob(&self.to, &link.to)
    }

    /// Why the pattern can name no link between `known` names, if so: its
    /// `from` must match `runner` or a worker; its `to` a worker or a
    /// service, or look like an outside host (a dot or a `*` in it).
    pub(crate) fn names_something(&self, known: &Known) -> Result<(), String> {
        let from_known =
            glob(&self.from, RUNNER) || known.workers.iter().any(|w| glob(&self.from, w));
        if !from_known {
            return Err(format!(
                "`{}` sends nothing: a link starts at `runner` or a worker ({})",
                self.from,
                quoted(&known.workers)
            ));
        }
        let to_known = self.to.contains(['.', '*'])
            || known
                .workers
                .iter()
                .chain(&known.services)
                .any(|name| glob(&self.to, name));
        if !to_known {
            return Err(format!(
                "`{}` is no worker or service ({}) and no host (a host has a dot)",
                self.to,
                quoted(&known.workers)
            ));
        }
        Ok(())
    }
}

impl fmt::Display for LinkPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{}", self.from, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_match_any_run_of_characters() {
        for (pattern, text) in [
            ("*", ""),
            ("*", "worker1"),
            ("worker*", "worker"),
            ("worker*", "worker12"),
            ("*.anthropic.com", "api.anthropic.com"),
            ("a*b*c", "aXbYbZc"),
            ("runner", "runner"),
        ] {
            assert!(glob(pattern, text), "{pattern} {text}");
        }
        for (pattern, text) in [
            ("worker*", "runner"),
            ("*.anthropic.com", "anthropic.com"),
            ("a*b*c", "aXbYbZ"),
            ("runner", "runners"),
            ("", "x"),
        ] {
            assert!(!glob(pattern, text), "{pattern} {text}");
        }
    }

    #[test]
    fn a_request_is_on_the_link_of_its_peer_or_its_host() {
        let peers = [("127.0.0.1:5002".to_owned(), "worker2".to_owned())];
        let link = |client, url| Link::of_request(client, url, &peers).to_string();
        assert_eq!(
            link("runner", "http://127.0.0.1:5002/task/1"),
            "runner->worker2"
        );
        assert_eq!(
            link(
                "worker3",
                "https://user:pw@API.Anthropic.com:443/v1/messages?x=1"
            ),
            "worker3->api.anthropic.com"
        );
        assert_eq!(link("worker3", "http://[::1]:9/x"), "worker3->[::1]");
        assert_eq!(
            link("worker3", "http://127.0.0.1:5003"),
            "worker3->127.0.0.1"
        );
    }

    #[test]
    fn patterns_are_from_arrow_to() {
        let pattern = LinkPattern::parse("worker*->API.anthropic.com").unwrap();
        assert!(pattern.matches(&Link::new("worker3", "api.anthropic.com")));
        assert!(!pattern.matches(&Link::new("runner", "api.anthropic.com")));
        for bad in ["worker1", "->x", "x->", "a->b->c", "a b->c"] {
            assert_eq!(
                LinkPattern::parse(bad),
                Err("must be `from->to` (such as `worker1->api.anthropic.com`)".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_pattern_must_name_a_known_sender_and_receiver() {
        let known = Known::new(&["worker1", "worker2"], &["middle"]);
        let check = |written: &str| LinkPattern::parse(written).unwrap().names_something(&known);
        for fine in [
            "runner->worker2",
            "worker*->api.anthropic.com",
            "*->middle",
            "worker1->*",
        ] {
            assert_eq!(check(fine), Ok(()), "{fine}");
        }
        assert_eq!(
            check("wrker*->worker1"),
            Err(
                "`wrker*` sends nothing: a link starts at `runner` or a worker (the workers \
                 are `worker1`, `worker2`)"
                    .to_owned()
            )
        );
        assert_eq!(
            check("runner->worker9"),
            Err(
                "`worker9` is no worker or service (the workers are `worker1`, `worker2`) and \
                 no host (a host has a dot)"
                    .to_owned()
            )
        );
        assert_eq!(known.worker_named("worker*"), Ok(()));
        assert_eq!(
            Known::default().worker_named("w"),
            Err("`w` names no worker (there are none)".to_owned())
        );
    }
}
