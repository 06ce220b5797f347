//! An exact viewport: headless Chromium's `--window-size` is the window, whose page area is
//! smaller (and never narrower than 500 px), so layouts are checked at a CSS viewport set
//! through the `DevTools` protocol (`Emulation.setDeviceMetricsOverride`, through
//! chromedriver's `goog/cdp/execute`), as device emulation does.

use anyhow::{Context, Result};
use fantoccini::wd::WebDriverCompatibleCommand;
use http::Method;
use serde_json::{Value, json};
use url::{ParseError, Url};

use crate::Browser;

#[derive(Debug)]
struct Cdp {
    body: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &Url, session_id: Option<&str>) -> Result<Url, ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &Url) -> (Method, Option<String>) {
        (Method::POST, Some(self.body.to_string()))
    }
}

/// Makes the page `width`×`height` CSS pixels (a phone's when `mobile`: touch, mobile
/// viewport rules), until the session ends.
pub async fn set(browser: &Browser, width: u32, height: u32, mobile: bool) -> Result<()> {
    browser
        .client()
        .issue_cmd(Cdp {
            body: json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": {
                    "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
                },
            }),
        })
        .await
        .context("Emulation.setDeviceMetricsOverride")?;
    Ok(())
}
