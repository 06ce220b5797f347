//! A small Rust lexer for [`super::scan`]: identifiers, `::` and punctuation, with comments
//! (doc comments too), whitespace, literals and lifetimes dropped or reduced to one token.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// Identifiers and keywords; a raw identifier keeps its `r#`, so it never is a keyword.
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// Literals and lifetimes.
    Other,
}

pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits `src` into tokens, dropping comments (doc comments too) and whitespace.
pub fn lex(src: &str) -> Vec<Token> {
    let s: Vec<char> = src.chars().collect();
    let at = |k: usize| s.get(k).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < s.len() {
        let c = s[i];
        let start_line = line;
        let tok = if c == '\n' {
            line += 1;
            i += 1;
            continue;
        } else if c.is_whitespace() {
            i += 1;
            continue;
        } else if c == '/' && at(i + 1) == '/' {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
            continue;
        } else if c == '/' && at(i + 1) == '*' {
            i = skip_block_comment(&s, i, &mut line);
            continue;
        } else if c == '"' {
            i = skip_string(&s, i + 1, &mut line);
            Tok::Other
        } else if c == '\'' {
            i = skip_quote(&s, i, &mut line);
            Tok::Other
        } else if c.is_ascii_digit() {
            i = skip_number(&s, i);
            Tok::Other
        } else if is_ident_start(c) {
            if let Some(end) = skip_prefixed_literal(&s, i, &mut line) {
                i = end;
                Tok::Other
            } else {
                let raw = c == 'r' && at(i + 1) == '#' && is_ident_start(at(i + 2));
                let start = i;
                i += if raw { 2 } else { 0 };
                while i < s.len() && is_ident_char(s[i]) {
                    i += 1;
                }
                Tok::Ident(s[start..i].iter().collect())
            }
        } else if c == ':' && at(i + 1) == ':' {
            i += 2;
            Tok::PathSep
        } else {
            i += 1;
            Tok::Punct(c)
        };
        out.push(Token {
            tok,
            line: start_line,
        });
    }
    out
}

/// From the `/` of `/*` to past the matching `*/` (block comments nest).
fn skip_block_comment(s: &[char], mut i: usize, line: &mut usize) -> usize {
    let mut depth = 0;
    while i < s.len() {
        match (s[i], s.get(i + 1).copied()) {
            ('/', Some('*')) => {
                depth += 1;
                i += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            (c, _) => {
                *line += usize::from(c == '\n');
                i += 1;
            }
        }
    }
    i
}

/// From just after an opening `"` to past the closing one.
fn skip_string(s: &[char], mut i: usize, line: &mut usize) -> usize {
    while i < s.len() {
        match s[i] {
            '\\' => {
                *line += usize::from(s.get(i + 1) == Some(&'\n'));
                i += 2;
            }
            '"' => return i + 1,
            c => {
                *line += usize::from(c == '\n');
                i += 1;
            }
        }
    }
    i
}

/// A char literal (`'a'`, `'\n'`, `'\u{7f}'`) or a lifetime (`'a`, `'static`).
fn skip_quote(s: &[char], i: usize, line: &mut usize) -> usize {
    let at = |k: usize| s.get(k).copied().unwrap_or('\0');
    if at(i + 1) == '\\' {
        let mut j = i + 3;
        while j < s.len() && s[j] != '\'' {
            j += 1;
        }
        j + 1
    } else if at(i + 2) == '\'' {
        *line += usize::from(at(i + 1) == '\n');
        i + 3
    } else {
        let mut j = i + 1;
        while j < s.len() && is_ident_char(s[j]) {
            j += 1;
        }
        j
    }
}

fn skip_number(s: &[char], mut i: usize) -> usize {
    while i < s.len() && is_ident_char(s[i]) {
        i += 1;
    }
    if s.get(i) == Some(&'.') && s.get(i + 1).is_some_and(char::is_ascii_digit) {
        i += 1;
        while i < s.len() && is_ident_char(s[i]) {
            i += 1;
        }
    }
    i
}

/// `b"…"`, `c"…"`, `b'…'` and raw strings `r"…"`, `r#"…"#`, `br#"…"#`, `cr"…"`: the end, or
/// `None` if no literal starts at `i`.
fn skip_prefixed_literal(s: &[char], i: usize, line: &mut usize) -> Option<usize> {
    let at = |k: usize| s.get(k).copied().unwrap_or('\0');
    let mut j = i;
    if matches!(at(j), 'b' | 'c') {
        j += 1;
        match at(j) {
            '"' => return Some(skip_string(s, j + 1, line)),
            '\'' if at(i) == 'b' => return Some(skip_quote(s, j, line)),
            _ => {}
        }
    }
    if at(j) != 'r' {
        return None;
    }
    j += 1;
    let hashes = s[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    if at(j) != '"' {
        return None;
    }
    j += 1;
    while j < s.len() {
        if s[j] == '"'
            && s[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        *line += usize::from(s[j] == '\n');
        j += 1;
    }
    Some(j)
}
