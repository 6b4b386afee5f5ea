//! Object key templates such as `extracts/{name}/{date}.{ext}`: `{variable}`
//! replaced by values known when an object is written. A template is
//! checked when the project loads (known variables, no `..`, not absolute)
//! and every rendered key again, since values can hold `/` or `..` too: a
//! key never escapes its bucket's namespace the way a path would.

use std::collections::BTreeMap;

/// Longest key S3 accepts, in bytes.
const MAX_KEY_BYTES: usize = 1024;

/// A parsed key template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

impl KeyTemplate {
    /// Parses `template`; `known` lists the variables it may use.
    pub fn parse(template: &str, known: &[&str]) -> Result<KeyTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let close = rest[open..].find('}').ok_or_else(|| {
                format!(
                    "`{{` at byte {} is not closed by `}}`",
                    template.len() - rest.len() + open
                )
            })?;
            let name = rest[open + 1..open + close].trim();
            if !known.contains(&name) {
                return Err(format!(
                    "unknown key variable `{{{name}}}`; known: {}",
                    known
                        .iter()
                        .map(|k| format!("{{{k}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            parts.push(Part::Variable(name.to_string()));
            rest = &rest[open + close + 1..];
        }
        if rest.contains('}') {
            return Err("`}` without a matching `{`".into());
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        let template = KeyTemplate { parts };
        // The literal skeleton must already be a safe key.
        let skeleton = template.render_with(|_| "x".to_string());
        check_key(&skeleton)?;
        Ok(template)
    }

    fn render_with(&self, value: impl Fn(&str) -> String) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(text) => text.clone(),
                Part::Variable(name) => value(name),
            })
            .collect()
    }

    /// The key for `values`; refused when it would not be a safe key.
    pub fn render(&self, values: &BTreeMap<&str, String>) -> Result<String, String> {
        let key = self.render_with(|name| values.get(name).cloned().unwrap_or_default());
        check_key(&key)?;
        Ok(key)
    }
}

/// A key is relative, has no empty, `.` or `..` segment, and fits S3's limit.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    if key.starts_with('/') {
        return Err(format!("the key `{key}` is absolute (starts with `/`)"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!("the key is longer than {MAX_KEY_BYTES} bytes"));
    }
    for segment in key.split('/') {
        match segment {
            "" => {
                return Err(format!(
                    "the key `{key}` has an empty segment (`//` or a trailing `/`)"
                ))
            }
            "." | ".." => {
                return Err(format!(
                    "the key `{key}` has a `{segment}` segment, which would escape its prefix"
                ))
            }
            _ if segment.chars().any(char::is_control) => {
                return Err(format!(
                    "the key `{}` holds a control character",
                    key.escape_debug()
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["name", "date", "ext"];

    fn values(name: &str) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("name", name.to_string()),
            ("date", "2024-05-01".to_string()),
            ("ext", "csv.gz".to_string()),
        ])
    }

    #[test]
    fn templates_render_keys() {
        let t = KeyTemplate::parse("extracts/{name}/{date}.{ext}", KNOWN).unwrap();
        assert_eq!(
            t.render(&values("orders")).unwrap(),
            "extracts/orders/2024-05-01.csv.gz"
        );
        assert_eq!(
            t.render(&values("eu/orders")).unwrap(),
            "extracts/eu/orders/2024-05-01.csv.gz"
        );
    }

    #[test]
    fn templates_and_keys_that_escape_are_refused() {
        for bad in [
            "/abs/{name}",
            "../{name}",
            "a/./{name}",
            "a//{name}",
            "{name}/",
        ] {
            assert!(KeyTemplate::parse(bad, KNOWN).is_err(), "{bad}");
        }
        let e = KeyTemplate::parse("x/{nam}", KNOWN).unwrap_err();
        assert!(
            e.contains("unknown key variable `{nam}`") && e.contains("{name}"),
            "{e}"
        );
        assert!(KeyTemplate::parse("x/{name", KNOWN)
            .unwrap_err()
            .contains("not closed"));
        let t = KeyTemplate::parse("out/{name}.{ext}", KNOWN).unwrap();
        assert!(t
            .render(&values("../../etc"))
            .unwrap_err()
            .contains("`..` segment"));
        assert!(
            t.render(&values("")).is_ok(),
            "an empty value leaves `out/.csv.gz`"
        );
    }
}
