//! Which web origins may create rooms and open publisher sockets.
//!
//! Browsers send `Origin` on every cross-site POST and WebSocket upgrade, and CORS does not
//! protect either: a hostile page could make each visitor's browser create rooms, and
//! WebSocket upgrades are not subject to CORS at all. So these two requests are refused (403) when
//! they come from a page of another origin, unless `--cors-origin` names it. Requests
//! without `Origin` (scripts, `curl`, native apps) are not from a browser page and pass.

use axum::http::{HeaderMap, Uri, header};

/// Whether a request with these headers may create rooms or publish.
pub fn allowed(headers: &HeaderMap, uri: &Uri, cors_origins: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if cors_origins
        .iter()
        .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    // Same origin: the page's host and port are the ones this request was sent to.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(axum::http::uri::Authority::as_str));
    let page_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((page_host, host), (Some(page), Some(host)) if page.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static(host));
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
        }
        headers
    }

    #[test]
    fn same_origin_listed_origins_and_scripts_pass_others_do_not() {
        let uri = Uri::from_static("/api/rooms");
        let listed = ["https://app.example".to_owned()];
        let check = |origin, host| allowed(&headers(origin, host), &uri, &listed);
        assert!(check(None, "lenscast.test:8080"), "no Origin: not a page");
        assert!(check(
            Some("http://lenscast.test:8080"),
            "lenscast.test:8080"
        ));
        assert!(check(Some("https://LENSCAST.test"), "lenscast.test"));
        assert!(
            check(Some("https://app.example"), "lenscast.test"),
            "--cors-origin"
        );
        assert!(!check(Some("https://evil.example"), "lenscast.test"));
        assert!(
            !check(Some("http://lenscast.test:9999"), "lenscast.test:8080"),
            "port"
        );
        assert!(
            !check(Some("null"), "lenscast.test"),
            "sandboxed or file pages"
        );
        let any = ["*".to_owned()];
        assert!(allowed(
            &headers(Some("https://evil.example"), "lenscast.test"),
            &uri,
            &any
        ));
    }
}
