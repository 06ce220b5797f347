//! Which modules one source file refers to, found by a small hand-written lexer ([`super::lex`]:
//! comments, strings, chars and lifetimes skipped) and a token walk that knows `use` trees, inline
//! `mod name { ... }` blocks and `#[cfg(test)]` modules. No type checking: a heuristic that is
//! exact for the ways this workspace writes paths.

use super::lex::{Tok, Token, lex};

/// A path in the source that may name a module of the same crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// 1-based line of the path's last segment.
    pub line: usize,
    /// The path as written, e.g. `super::wire::Frame`.
    pub written: String,
    /// The absolute module path it names (its items included), from the crate root.
    pub target: Vec<String>,
    /// A `use` path that starts with a plain name (`use fanout::Fanout;`): a reference only if
    /// `target[..=base_len]` is a child module of the current one (else an external crate).
    pub relative: bool,
    /// Length of the module path the reference was made from (inline modules included).
    pub base_len: usize,
}

/// What one file refers to, and which of its child modules are test-only files.
#[derive(Debug, Default)]
pub struct FileRefs {
    pub refs: Vec<Ref>,
    /// Absolute paths of `#[cfg(test)] mod name;` declarations (test modules in own files).
    pub test_modules: Vec<Vec<String>>,
}

/// The references `src` makes; `module` is the file's module path from the crate root.
pub fn scan(src: &str, module: &[String]) -> FileRefs {
    let mut walker = Walker {
        toks: lex(src),
        pos: 0,
        module: module.to_vec(),
        scopes: Vec::new(),
        out: FileRefs::default(),
    };
    walker.walk();
    walker.out
}

struct Walker {
    toks: Vec<Token>,
    pos: usize,
    module: Vec<String>,
    /// One entry per open `{`: the inline module's name, or `None` for any other block.
    scopes: Vec<Option<String>>,
    out: FileRefs,
}

impl Walker {
    fn tok(&self, k: usize) -> Option<&Tok> {
        self.toks.get(k).map(|t| &t.tok)
    }

    fn ident(&self, k: usize) -> Option<&str> {
        match self.tok(k) {
            Some(Tok::Ident(name)) => Some(name),
            _ => None,
        }
    }

    fn is(&self, k: usize, c: char) -> bool {
        self.tok(k) == Some(&Tok::Punct(c))
    }

    /// The module the walk is in: the file's, then any inline modules around it.
    fn current(&self) -> Vec<String> {
        let inline = self.scopes.iter().flatten().cloned();
        self.module.iter().cloned().chain(inline).collect()
    }

    /// From an opening delimiter at `k` to just past its match.
    fn past_group(&self, k: usize, open: char, close: char) -> usize {
        let mut depth = 0;
        for j in k..self.toks.len() {
            if self.is(j, open) {
                depth += 1;
            } else if self.is(j, close) {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
        }
        self.toks.len()
    }

    fn walk(&mut self) {
        // Set by `#[cfg(test)]` until the item it applies to.
        let mut test_only = false;
        while self.pos < self.toks.len() {
            let p = self.pos;
            match self.tok(p).cloned() {
                Some(Tok::Punct('#')) => {
                    let inner = self.is(p + 1, '!');
                    let open = p + 1 + usize::from(inner);
                    if !self.is(open, '[') {
                        self.pos += 1;
                        continue;
                    }
                    let end = self.past_group(open, '[', ']');
                    let is_test = self.is_test_cfg(open + 1, end - 1);
                    if inner && is_test && self.scopes.is_empty() {
                        self.out = FileRefs::default();
                        return; // `#![cfg(test)]`: the whole file is a test module
                    }
                    test_only |= is_test && !inner;
                    self.pos = end;
                    continue;
                }
                Some(Tok::Ident(kw)) if kw == "pub" => {
                    self.pos += 1;
                    if self.is(self.pos, '(') {
                        self.pos = self.past_group(self.pos, '(', ')');
                    }
                    continue;
                }
                Some(Tok::Ident(kw)) if kw == "mod" && self.ident(p + 1).is_some() => {
                    let name = self.ident(p + 1).unwrap_or_default().to_owned();
                    if self.is(p + 2, '{') && test_only {
                        self.pos = self.past_group(p + 2, '{', '}');
                    } else if self.is(p + 2, '{') {
                        self.scopes.push(Some(name));
                        self.pos = p + 3;
                    } else {
                        if test_only {
                            let mut path = self.current();
                            path.push(name);
                            self.out.test_modules.push(path);
                        }
                        self.pos = p + 2;
                    }
                }
                Some(Tok::Ident(kw)) if kw == "use" => self.use_item(),
                Some(Tok::Ident(kw))
                    if matches!(kw.as_str(), "crate" | "super" | "self")
                        && self.tok(p + 1) == Some(&Tok::PathSep) =>
                {
                    self.inline_path();
                }
                Some(Tok::Punct('{')) => {
                    self.scopes.push(None);
                    self.pos += 1;
                }
                Some(Tok::Punct('}')) => {
                    self.scopes.pop();
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
            test_only = false;
        }
    }

    /// Whether the attribute tokens `from..to` are `cfg(test)` or `cfg(all(.., test, ..))`.
    fn is_test_cfg(&self, from: usize, to: usize) -> bool {
        if self.ident(from) != Some("cfg") || !self.is(from + 1, '(') {
            return false;
        }
        let in_all = self.ident(from + 2) == Some("all");
        let mut depth = 0;
        for k in from + 2..to {
            match self.tok(k) {
                Some(Tok::Punct('(')) => depth += 1,
                Some(Tok::Punct(')')) => depth -= 1,
                Some(Tok::Ident(name))
                    if name == "test" && (depth == 0 || (in_all && depth == 1)) =>
                {
                    return true;
                }
                _ => {}
            }
        }
        false
    }

    /// `use tree;` at `self.pos`: every leaf path of the tree.
    fn use_item(&mut self) {
        self.pos += 1;
        let external = self.tok(self.pos) == Some(&Tok::PathSep);
        self.pos += usize::from(external);
        let mut leaves = Vec::new();
        self.use_tree(Vec::new(), 0, &mut leaves);
        while self.pos < self.toks.len() && !self.is(self.pos, ';') {
            self.pos += 1;
        }
        self.pos += 1;
        if !external {
            for (segments, line) in leaves {
                self.add(&segments, line, true);
            }
        }
    }

    fn use_tree(
        &mut self,
        mut prefix: Vec<String>,
        mut line: usize,
        out: &mut Vec<(Vec<String>, usize)>,
    ) {
        while let Some(token) = self.toks.get(self.pos) {
            match &token.tok {
                Tok::Ident(segment) => {
                    prefix.push(segment.trim_start_matches("r#").to_owned());
                    line = token.line;
                    self.pos += 1;
                }
                Tok::Punct('*') => {
                    self.pos += 1;
                    break;
                }
                Tok::Punct('{') => {
                    self.pos += 1;
                    while self.pos < self.toks.len() && !self.is(self.pos, '}') {
                        let before = self.pos;
                        self.use_tree(prefix.clone(), line, out);
                        if self.is(self.pos, ',') || self.pos == before {
                            self.pos += 1;
                        }
                    }
                    self.pos += 1;
                    return;
                }
                _ => break,
            }
            if self.tok(self.pos) == Some(&Tok::PathSep) {
                self.pos += 1;
            } else {
                if self.ident(self.pos) == Some("as") {
                    self.pos += 2;
                }
                break;
            }
        }
        if !prefix.is_empty() {
            out.push((prefix, line));
        }
    }

    /// `crate::a::b`, `super::x` or `self::x` outside a `use`.
    fn inline_path(&mut self) {
        let mut segments = Vec::new();
        let mut line = 0;
        while let Some(name) = self.ident(self.pos) {
            segments.push(name.trim_start_matches("r#").to_owned());
            line = self.toks[self.pos].line;
            self.pos += 1;
            if self.tok(self.pos) == Some(&Tok::PathSep) && self.ident(self.pos + 1).is_some() {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.add(&segments, line, false);
    }

    fn add(&mut self, segments: &[String], line: usize, in_use: bool) {
        let mut target = self.current();
        let base_len = target.len();
        let rest = match segments.first().map(String::as_str) {
            Some("crate") => {
                target.clear();
                &segments[1..]
            }
            Some("super") => {
                let supers = segments.iter().take_while(|s| *s == "super").count();
                for _ in 0..supers {
                    if target.pop().is_none() {
                        return;
                    }
                }
                &segments[supers..]
            }
            Some("self") => &segments[1..],
            Some(_) if in_use => segments,
            _ => return,
        };
        target.extend(rest.iter().filter(|s| *s != "self").cloned());
        self.out.refs.push(Ref {
            line,
            written: segments
                .strip_suffix(&["self".to_owned()])
                .filter(|rest| !rest.is_empty())
                .unwrap_or(segments)
                .join("::"),
            target,
            relative: in_use && !matches!(segments[0].as_str(), "crate" | "super" | "self"),
            base_len,
        });
    }
}
