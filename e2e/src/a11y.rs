//! Controls found by role and accessible name, as Chromium's accessibility tree has them
//! (`WebDriver`'s "Get Computed Role" and "Get Computed Label"), so a test that finds a
//! button this way also checks that it is named for screen readers.

use anyhow::{Context, Result, bail};
use fantoccini::{Locator, elements::Element, wd::WebDriverCompatibleCommand};
use http::Method;
use url::{ParseError, Url};

use crate::Browser;

/// One of the two computed-accessibility endpoints for one element.
#[derive(Debug)]
struct Computed {
    element: String,
    what: &'static str,
}

impl WebDriverCompatibleCommand for Computed {
    fn endpoint(&self, base_url: &Url, session_id: Option<&str>) -> Result<Url, ParseError> {
        base_url.join(&format!(
            "session/{}/element/{}/{}",
            session_id.unwrap_or_default(),
            self.element,
            self.what
        ))
    }

    fn method_and_body(&self, _: &Url) -> (Method, Option<String>) {
        (Method::GET, None)
    }
}

/// CSS that finds every element that may have `role` (the computed role decides).
fn candidates(role: &str) -> String {
    match role {
        "button" => "button, [role=button], input[type=button], input[type=submit]".into(),
        "radio" => "[role=radio], input[type=radio]".into(),
        "checkbox" => "[role=checkbox], input[type=checkbox], [role=switch]".into(),
        "region" => "section, [role=region]".into(),
        "img" => "img, svg, [role=img]".into(),
        "link" => "a[href], [role=link]".into(),
        "group" => "[role=group], fieldset, details".into(),
        other => format!("[role={other}]"),
    }
}

/// Chromium reports ARIA 1.3's `image` for `img` (they are synonyms).
fn same_role(computed: &str, wanted: &str) -> bool {
    let canonical = |role: &str| if role == "image" { "img" } else { role }.to_owned();
    canonical(computed) == canonical(wanted)
}

/// The computed role and accessible name of `element`.
pub async fn role_and_name(browser: &Browser, element: &Element) -> Result<(String, String)> {
    let mut out = Vec::new();
    for what in ["computedrole", "computedlabel"] {
        let value = browser
            .client()
            .issue_cmd(Computed {
                element: element.element_id().to_string(),
                what,
            })
            .await
            .with_context(|| format!("WebDriver {what}"))?;
        out.push(value.as_str().unwrap_or_default().to_owned());
    }
    let name = out.pop().unwrap_or_default();
    let role = out.pop().unwrap_or_default();
    Ok((role, name))
}

/// Every element whose computed role is `role` and whose accessible name satisfies `name`.
pub async fn all_by_role(
    browser: &Browser,
    role: &str,
    name: impl Fn(&str) -> bool,
) -> Result<Vec<Element>> {
    let mut found = Vec::new();
    for element in browser
        .client()
        .find_all(Locator::Css(&candidates(role)))
        .await?
    {
        let (computed, label) = role_and_name(browser, &element).await?;
        if same_role(&computed, role) && name(&label) {
            found.push(element);
        }
    }
    Ok(found)
}

/// How long [`by_role`] waits for an element to appear.
pub const APPEAR: std::time::Duration = std::time::Duration::from_secs(15);

/// The one element with `role` and exactly the accessible name `name`.
/// Waits up to [`APPEAR`] for it: a page's controls appear once its wasm has loaded and
/// rendered, which a busy machine can delay well past `goto`.
pub async fn by_role(browser: &Browser, role: &str, name: &str) -> Result<Element> {
    let deadline = std::time::Instant::now() + APPEAR;
    let mut found = loop {
        let found = all_by_role(browser, role, |label| label == name).await?;
        if !found.is_empty() || std::time::Instant::now() >= deadline {
            break found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => {
            let mut seen = Vec::new();
            for element in browser
                .client()
                .find_all(Locator::Css(&candidates(role)))
                .await?
            {
                seen.push(role_and_name(browser, &element).await?);
            }
            bail!("no {role} named {name:?}; candidates (role, name): {seen:?}")
        }
        n => bail!("{n} elements are {role} named {name:?}"),
    }
}
