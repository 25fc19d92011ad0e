//! One request a client sent: read whole, put to the handler, answered as
//! it decides, and reported.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use http::{Request, Response, StatusCode, Uri};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;

use super::body::{self, ProxyBody};
use super::client::{Connection, Origin};
use super::handler::{Outbound, Reply, Served};
use super::report::Report;
use super::shared::Shared;
use super::{canned, headers, relay};

/// Why the proxy closes a client's connection instead of answering.
#[derive(Debug)]
pub(super) struct Closed(&'static str);

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Closed {}

/// Answers `request`, which came on `connection`; an error closes the
/// connection.
pub(super) async fn serve(
    shared: Arc<Shared>,
    connection: Arc<Connection>,
    request: Request<Incoming>,
) -> Result<Response<ProxyBody>, Closed> {
    let url = match url_of(request.uri(), &connection.origin) {
        Ok(url) => url,
        Err(why) => return Ok(body::text_response(StatusCode::BAD_REQUEST, why)),
    };
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|_| Closed("the client's request body broke off"))?
        .to_bytes();
    let outbound = Outbound {
        client: connection.client.to_string(),
        method: parts.method.as_str().to_owned(),
        url: url.clone(),
        headers: headers::as_text(headers::end_to_end(&parts.headers)),
        body: body.clone(),
    };
    let mut report = Report::new(shared.clone(), outbound, started);
    match shared.handler.decide(report.request()).await {
        Reply::Forward(shape) => {
            Ok(relay::forward(&shared.upstream, &parts, &url, body, shape, report).await)
        }
        Reply::Respond(canned) => Ok(canned::respond(canned, report)),
        Reply::Reset => {
            report.serving(Served::Reset);
            report.finish(None);
            connection.reset.trip();
            Err(Closed("reset, as the handler asked"))
        }
        Reply::Hang => {
            report.serving(Served::Hung);
            // Until the client closes the connection or the proxy stops,
            // which drop this future and so report the exchange.
            std::future::pending::<()>().await;
            drop(report);
            Err(Closed("hung, as the handler asked"))
        }
    }
}

/// The whole URL a request asked for: its own when absolute
/// (`GET http://host/path`), else on the tunnel's host. Default ports are
/// left out.
fn url_of(uri: &Uri, origin: &Origin) -> Result<String, String> {
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        let default_port = match scheme {
            "http" => 80,
            "https" => 443,
            other => {
                return Err(format!(
                    "the proxy forwards http and https, not {other:?}\n"
                ));
            }
        };
        let port = authority.port_u16().unwrap_or(default_port);
        return Ok(format!(
            "{scheme}://{}{}{path}",
            authority.host(),
            port_suffix(port, default_port)
        ));
    }
    match origin {
        Origin::Tunnel { host, port } => {
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            Ok(format!("https://{host}{}{path}", port_suffix(*port, 443)))
        }
        Origin::Direct => Err(
            "this is a proxy: ask it for a whole URL (`GET http://host/path`) or \
             `CONNECT host:port`\n"
                .to_owned(),
        ),
    }
}

fn port_suffix(port: u16, default_port: u16) -> String {
    if port == default_port {
        String::new()
    } else {
        format!(":{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::{Origin, url_of};

    #[test]
    fn urls_name_the_host_the_client_asked_for_without_default_ports() {
        let tunnel = |host: &str, port| Origin::Tunnel {
            host: host.to_owned(),
            port,
        };
        let cases = [
            ("http://example.test/a?b=1", Origin::Direct),
            ("http://example.test:80/", Origin::Direct),
            ("http://127.0.0.1:8080/x", Origin::Direct),
            ("https://example.test:443/y", Origin::Direct),
            ("/v1/messages?beta=1", tunnel("api.example.test", 443)),
            ("/", tunnel("api.example.test", 8443)),
            ("/", tunnel("::1", 443)),
        ];
        let urls: Vec<String> = cases
            .iter()
            .map(|(uri, origin)| url_of(&uri.parse().unwrap(), origin).unwrap())
            .collect();
        assert_eq!(
            urls,
            [
                "http://example.test/a?b=1",
                "http://example.test/",
                "http://127.0.0.1:8080/x",
                "https://example.test/y",
                "https://api.example.test/v1/messages?beta=1",
                "https://api.example.test:8443/",
                "https://[::1]/",
            ]
        );
    }

    #[test]
    fn a_request_for_the_proxy_itself_is_refused() {
        let error = url_of(&"/x".parse().unwrap(), &Origin::Direct).unwrap_err();
        assert!(error.starts_with("this is a proxy"), "{error}");
    }
}
