//! Where each node of the YAML text is: a path → (line, column) index built
//! from yaml-rust2's marked event stream.

use std::collections::HashMap;
use std::fmt;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One step of a [`YamlPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path to a node from the document root, displayed as
/// `pipelines.etl.phases[1].function`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct YamlPath(pub Vec<Seg>);

impl YamlPath {
    pub fn root() -> Self {
        YamlPath(Vec::new())
    }

    /// This path extended by a map key.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.into()));
        p
    }

    /// This path extended by a sequence index.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }

    /// The path without its last step (the root stays the root).
    pub fn parent(&self) -> Self {
        let mut p = self.clone();
        p.0.pop();
        p
    }

    /// The last map key of the path, if the last step is a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based position in the text, plus the character offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub(crate) offset: usize,
}

impl Pos {
    pub(crate) const START: Pos = Pos {
        line: 1,
        column: 1,
        offset: 0,
    };

    fn from_marker(m: Marker) -> Pos {
        Pos {
            line: m.line(),
            column: m.col() + 1,
            offset: m.index(),
        }
    }
}

/// Which end of a map entry a diagnostic should point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// The key (`timout:` in `timout: 5s`), falling back to the value.
    Key,
    /// The value (`5s`).
    Value,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    key: Option<Pos>,
    value: Pos,
}

/// Path → position index of one YAML document.
#[derive(Debug, Default)]
pub struct Index {
    spans: HashMap<YamlPath, Span>,
    chars: Vec<char>,
    /// Keys written twice in the same map: (path, position of the repeat, line of the first).
    pub(crate) duplicates: Vec<(YamlPath, Pos, usize)>,
}

impl Index {
    /// Index `text`. Parse errors leave the index partial (positions then fall
    /// back to the nearest indexed ancestor); syntax errors are reported by the
    /// deserializer, not here.
    pub fn build(text: &str) -> Index {
        let chars: Vec<char> = text.chars().collect();
        let mut builder = Builder {
            chars: &chars,
            stack: Vec::new(),
            spans: HashMap::new(),
            duplicates: Vec::new(),
        };
        let _ = Parser::new_from_str(text).load(&mut builder, false);
        let (spans, duplicates) = (builder.spans, builder.duplicates);
        Index {
            spans,
            chars,
            duplicates,
        }
    }

    /// The position of `path`, or of its nearest indexed ancestor.
    pub fn locate(&self, path: &YamlPath, at: At) -> Pos {
        let mut p = path.clone();
        let mut exact = true;
        loop {
            if let Some(span) = self.spans.get(&p) {
                return match (at, exact) {
                    (At::Value, true) => span.value,
                    _ => span.key.unwrap_or(span.value),
                };
            }
            if p.0.pop().is_none() {
                return Pos::START;
            }
            exact = false;
        }
    }

    /// The position of `needle` inside the scalar at `path` (e.g. one bad
    /// `${...}` reference inside a longer string); the value position if it
    /// cannot be found.
    pub fn locate_within(&self, path: &YamlPath, needle: &str) -> Pos {
        let start = self.locate(path, At::Value);
        let needle: Vec<char> = needle.chars().collect();
        if needle.is_empty() || !self.spans.contains_key(path) {
            return start;
        }
        let limit = (start.offset + 4096).min(self.chars.len());
        let (mut line, mut column) = (start.line, start.column);
        for i in start.offset..limit {
            if self.chars[i..].starts_with(&needle) {
                return Pos {
                    line,
                    column,
                    offset: i,
                };
            }
            if self.chars[i] == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        start
    }
}

enum Frame {
    Map {
        path: YamlPath,
        key: Option<(String, Pos)>,
        first_key_pending: bool,
        seen: HashMap<String, usize>,
    },
    Seq {
        path: YamlPath,
        next: usize,
    },
    /// A complex (non-scalar) map key, which is not indexed.
    Skip {
        depth: usize,
    },
}

struct Builder<'a> {
    chars: &'a [char],
    stack: Vec<Frame>,
    spans: HashMap<YamlPath, Span>,
    duplicates: Vec<(YamlPath, Pos, usize)>,
}

impl Builder<'_> {
    /// Where a node that starts at `pos` sits, consuming the pending map key
    /// or sequence slot. `None` when it is a map key.
    fn place(&mut self, pos: Pos, scalar: Option<&str>) -> Option<(YamlPath, Option<Pos>)> {
        match self.stack.last_mut() {
            None => Some((YamlPath::root(), None)),
            Some(Frame::Seq { path, next }) => {
                let p = path.index(*next);
                *next += 1;
                Some((p, None))
            }
            Some(Frame::Map {
                path,
                key,
                first_key_pending,
                seen,
            }) => {
                if let Some((k, kpos)) = key.take() {
                    return Some((path.key(k), Some(kpos)));
                }
                if *first_key_pending {
                    // A block map is marked after its first key; use the key.
                    *first_key_pending = false;
                    if let Some(span) = self.spans.get_mut(&*path) {
                        span.value = pos;
                    }
                }
                let name = scalar.unwrap_or("?").to_string();
                if scalar.is_some() {
                    if let Some(first) = seen.insert(name.clone(), pos.line) {
                        self.duplicates.push((path.key(&name), pos, first));
                    }
                }
                *key = Some((name, pos));
                None
            }
            Some(Frame::Skip { .. }) => None,
        }
    }

    fn open(&mut self, pos: Pos, is_map: bool) {
        if let Some(Frame::Skip { depth }) = self.stack.last_mut() {
            *depth += 1;
            return;
        }
        let flow = self
            .chars
            .get(pos.offset)
            .is_some_and(|c| *c == '{' || *c == '[');
        match self.place(pos, None) {
            None => self.stack.push(Frame::Skip { depth: 1 }),
            Some((path, key)) => {
                self.spans.insert(path.clone(), Span { key, value: pos });
                self.stack.push(if is_map {
                    Frame::Map {
                        path,
                        key: None,
                        first_key_pending: !flow,
                        seen: HashMap::new(),
                    }
                } else {
                    Frame::Seq { path, next: 0 }
                });
            }
        }
    }

    fn close(&mut self) {
        if let Some(Frame::Skip { depth }) = self.stack.last_mut() {
            *depth -= 1;
            if *depth > 0 {
                return;
            }
            self.stack.pop();
            // The complex key is done; its value comes next under a placeholder name.
            if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                *key = Some(("?".to_string(), Pos::START));
            }
            return;
        }
        self.stack.pop();
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = Pos::from_marker(mark);
        match ev {
            Event::Scalar(text, style, ..) => {
                if matches!(self.stack.last(), Some(Frame::Skip { .. })) {
                    return;
                }
                if let Some((path, key)) = self.place(pos, Some(&text)) {
                    // An empty value (`key:` then newline) is marked at the next
                    // token; point at its key instead.
                    let value = match key {
                        Some(k)
                            if text.is_empty()
                                && style == TScalarStyle::Plain
                                && pos.line > k.line =>
                        {
                            k
                        }
                        _ => pos,
                    };
                    self.spans.insert(path, Span { key, value });
                }
            }
            Event::Alias(_) => {
                if matches!(self.stack.last(), Some(Frame::Skip { .. })) {
                    return;
                }
                if let Some((path, key)) = self.place(pos, Some("*alias")) {
                    self.spans.insert(path, Span { key, value: pos });
                }
            }
            Event::MappingStart(..) => self.open(pos, true),
            Event::SequenceStart(..) => self.open(pos, false),
            Event::MappingEnd | Event::SequenceEnd => self.close(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> YamlPath {
        let mut p = YamlPath::root();
        for part in s.split('.') {
            if let Some((k, i)) = part.split_once('[') {
                p = p.key(k).index(i.trim_end_matches(']').parse().unwrap());
            } else {
                p = p.key(part);
            }
        }
        p
    }

    #[test]
    fn positions_of_nested_nodes() {
        let text = "version: 1\nfunctions:\n  resize:\n    run: [a, b]\n    env: {A: 1}\npipelines:\n  etl:\n    phases:\n      - name: e\n        function: f\n      -   name: l\n          uses: csv-load\n    empty:\n";
        let idx = Index::build(text);
        let cases = [
            ("version", At::Value, (1, 10)),
            ("functions.resize", At::Key, (3, 3)),
            ("functions.resize", At::Value, (4, 5)),
            ("functions.resize.run", At::Value, (4, 10)),
            ("functions.resize.run[1]", At::Value, (4, 14)),
            ("functions.resize.env.A", At::Key, (5, 11)),
            ("functions.resize.env", At::Value, (5, 10)),
            ("pipelines.etl.phases[0]", At::Value, (9, 9)),
            ("pipelines.etl.phases[0].function", At::Value, (10, 19)),
            ("pipelines.etl.phases[1].uses", At::Key, (12, 11)),
            ("pipelines.etl.phases[1].uses", At::Value, (12, 17)),
            ("pipelines.etl.empty", At::Value, (13, 5)),
            // Missing nodes fall back to the nearest ancestor's key.
            ("pipelines.etl.phases[1].timeout", At::Value, (11, 11)),
        ];
        for (p, at, (line, column)) in cases {
            let pos = idx.locate(&path(p), at);
            assert_eq!((pos.line, pos.column), (line, column), "{p} {at:?}");
        }
        assert_eq!(
            path("pipelines.etl.phases[1].uses").to_string(),
            "pipelines.etl.phases[1].uses"
        );
    }

    #[test]
    fn locate_within_finds_substring() {
        let text = "connections:\n  db:\n    url: \"postgres://u:${vault:x}@h/db\"\n";
        let idx = Index::build(text);
        let pos = idx.locate_within(&path("connections.db.url"), "${vault:x}");
        assert_eq!((pos.line, pos.column), (3, 24));
    }
}
