//! Problems found in a project file, each pinned to a line and column.

use std::fmt;

/// How bad a [`Diagnostic`] is. Only errors make loading fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file cannot be used as written.
    Error,
    /// The file works, but something is probably unwise (e.g. a literal password).
    Warning,
}

/// One problem in the project file.
///
/// `Display` renders it the way compilers do, so terminals and editors can
/// jump to it:
/// `sluice.yaml:12:5: functions.resize.timout: unknown field `timout`; did you mean `timeout`?`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as named to the parser (e.g. `sluice.yaml` or `./app/sluice.yaml`).
    pub file: String,
    /// 1-based line of the offending node.
    pub line: usize,
    /// 1-based column of the offending node.
    pub column: usize,
    /// Dotted YAML path of the offending node, e.g. `pipelines.etl.phases[1].function`.
    /// Empty for the document itself.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// The closest valid name or value, when the problem looks like a misspelling.
    pub suggestion: Option<String>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        Ok(())
    }
}

/// All problems found in a project file, in file order.
///
/// `Display` prints one diagnostic per line followed by a summary line such
/// as `sluice.yaml: 2 errors, 1 warning`.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{}", render(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// The summary line, e.g. `sluice.yaml: 2 errors, 1 warning`.
    pub fn summary(&self) -> String {
        let errors = self.errors().count();
        let warnings = self.warnings().count();
        let file = self
            .0
            .first()
            .map(|d| d.file.as_str())
            .unwrap_or("project file");
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        format!(
            "{file}: {}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

fn render(list: &[Diagnostic]) -> String {
    let all = Diagnostics(list.to_vec());
    let mut out = String::new();
    for d in list {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out.push_str(&all.summary());
    out
}

/// The closest candidate to `word`, if any is close enough to be a plausible typo.
pub(crate) fn closest<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_lowercase();
    let mut best: Option<(usize, f64, &str)> = None;
    for cand in candidates {
        if cand == word {
            continue;
        }
        let dist = strsim::damerau_levenshtein(&lower, &cand.to_lowercase());
        let jw = strsim::jaro_winkler(&lower, &cand.to_lowercase());
        let longest = cand.chars().count().max(word.chars().count());
        let limit = if longest <= 2 {
            0
        } else {
            (longest / 3).max(1)
        };
        if dist > limit && jw < 0.9 {
            continue;
        }
        let better = match best {
            None => true,
            Some((d, j, _)) => dist < d || (dist == d && jw > j),
        };
        if better {
            best = Some((dist, jw, cand));
        }
    }
    best.map(|(_, _, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos() {
        let cases = [
            ("timout", &["timeout", "retry", "run"][..], Some("timeout")),
            ("reszie", &["resize", "extract"][..], Some("resize")),
            (
                "csv-lod",
                &["csv-load", "sql-extract", "move", "copy", "notify"][..],
                Some("csv-load"),
            ),
            ("xyz", &["timeout", "retry"][..], None),
            ("g", &["f"][..], None),
            ("rum", &["run"][..], Some("run")),
            ("Functions", &["functions", "topics"][..], Some("functions")),
        ];
        for (word, cands, want) in cases {
            assert_eq!(
                closest(word, cands.iter().copied()).as_deref(),
                want,
                "{word}"
            );
        }
    }

    #[test]
    fn display_and_summary() {
        let d = Diagnostic {
            severity: Severity::Error,
            file: "sluice.yaml".into(),
            line: 12,
            column: 5,
            path: "functions.resize.timout".into(),
            message: "unknown field `timout`".into(),
            suggestion: Some("timeout".into()),
        };
        assert_eq!(
            d.to_string(),
            "sluice.yaml:12:5: functions.resize.timout: unknown field `timout`; did you mean `timeout`?"
        );
        let w = Diagnostic {
            severity: Severity::Warning,
            suggestion: None,
            ..d.clone()
        };
        let all = Diagnostics(vec![d, w]);
        let text = all.to_string();
        assert!(text.ends_with("sluice.yaml: 1 error, 1 warning"), "{text}");
        assert!(
            text.contains("sluice.yaml:12:5: warning: functions.resize.timout"),
            "{text}"
        );
    }
}
